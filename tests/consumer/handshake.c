/*
 * A C99 consumer of schan.h: starts `openssl s_server -www` through the peer
 * host's control port, completes a TLS handshake over a socket, sends a GET,
 * reads the response until close_notify and checks its status line.
 *
 * It includes nothing from schan but the public header, so it compiles with
 * -std=c99 -pedantic and shows that the C ABI works without C++. It runs under
 * tests/support/peer_host.py, which sets SCHAN_PEER_HOST and SCHAN_TEST_PKI.
 * Exit status: 0 on success, 1 on any failure (the reason goes to stderr).
 */
#if !defined(_WIN32)
#  define _POSIX_C_SOURCE 200112L
#endif

#include <schan/schan.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#  include <winsock2.h>
typedef SOCKET socket_handle;
#  define INVALID_HANDLE INVALID_SOCKET
#  define close_socket closesocket
#else
#  include <arpa/inet.h>
#  include <netinet/in.h>
#  include <signal.h>
#  include <sys/socket.h>
#  include <sys/time.h>
#  include <unistd.h>
typedef int socket_handle;
#  define INVALID_HANDLE (-1)
#  define close_socket close
#endif

/* Every blocking receive gives up after this long, so a silent peer cannot hang the test. */
#define RECEIVE_TIMEOUT_MS 20000

#define EXPECTED_STATUS_LINE "HTTP/1.0 200 ok"

typedef struct connection {
    socket_handle socket;
    schan_session *session;
    uint8_t pending[16384];
    size_t pending_length;
    int end_of_stream;
} connection;

static int fail(const char *step, const char *detail)
{
    fprintf(stderr, "handshake consumer: %s failed: %s\n", step, detail);
    return 1;
}

static int session_fail(const char *step, schan_session *session, schan_status status)
{
    fprintf(stderr, "handshake consumer: %s failed with %s: %s\n", step, schan_status_name(status),
            schan_last_error(session));
    return 1;
}

static socket_handle connect_loopback(unsigned short port)
{
    struct sockaddr_in address;
    socket_handle handle = socket(AF_INET, SOCK_STREAM, 0);
#if defined(_WIN32)
    DWORD timeout = RECEIVE_TIMEOUT_MS;
#else
    struct timeval timeout;
    timeout.tv_sec = RECEIVE_TIMEOUT_MS / 1000;
    timeout.tv_usec = 0;
#endif

    if (handle == INVALID_HANDLE)
        return INVALID_HANDLE;
    setsockopt(handle, SOL_SOCKET, SO_RCVTIMEO, (const char *)&timeout, sizeof timeout);

    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(handle, (const struct sockaddr *)&address, sizeof address) != 0) {
        close_socket(handle);
        return INVALID_HANDLE;
    }
    return handle;
}

static int send_all(socket_handle handle, const uint8_t *data, size_t length)
{
    while (length > 0) {
        int chunk = length > 65536 ? 65536 : (int)length;
        int sent = (int)send(handle, (const char *)data, chunk, 0);
        if (sent <= 0)
            return 0;
        data += sent;
        length -= (size_t)sent;
    }
    return 1;
}

/*
 * Sends one request line to the peer host's control port and stores its reply
 * line without the newline. Returns 1 when the reply starts with "OK".
 */
static int control_request(const char *request, char *reply, size_t capacity)
{
    const char *control = getenv("SCHAN_PEER_HOST");
    const char *colon = control ? strrchr(control, ':') : NULL;
    socket_handle handle;
    size_t length = 0;

    if (colon == NULL) {
        snprintf(reply, capacity, "SCHAN_PEER_HOST is not set: run under tests/support/peer_host.py");
        return 0;
    }
    handle = connect_loopback((unsigned short)atoi(colon + 1));
    if (handle == INVALID_HANDLE) {
        snprintf(reply, capacity, "cannot connect to the control port %s", control);
        return 0;
    }

    if (!send_all(handle, (const uint8_t *)request, strlen(request)) ||
        !send_all(handle, (const uint8_t *)"\n", 1)) {
        close_socket(handle);
        snprintf(reply, capacity, "cannot send to the control port %s", control);
        return 0;
    }
    while (length + 1 < capacity) {
        int received = (int)recv(handle, reply + length, (int)(capacity - 1 - length), 0);
        if (received <= 0)
            break;
        length += (size_t)received;
        if (memchr(reply, '\n', length) != NULL)
            break;
    }
    close_socket(handle);

    reply[length] = '\0';
    reply[strcspn(reply, "\r\n")] = '\0';
    return strncmp(reply, "OK", 2) == 0;
}

/* Sends every byte the session has queued for the peer. */
static int flush_output(connection *conn)
{
    uint8_t buffer[16384];
    size_t written = 0;
    schan_status status;

    do {
        status = schan_take_output(conn->session, buffer, sizeof buffer, &written);
        if (status < 0)
            return session_fail("schan_take_output", conn->session, status);
        if (!send_all(conn->socket, buffer, written))
            return fail("send", "the peer closed the connection");
    } while (status == SCHAN_HAVE_OUTPUT);
    return 0;
}

/*
 * Feeds bytes from the socket into the session. Bytes the session's input
 * queue cannot take yet stay in conn->pending for the next call.
 */
static int feed_input(connection *conn)
{
    size_t consumed = 0;
    schan_status status;

    if (conn->pending_length == 0 && !conn->end_of_stream) {
        int received = (int)recv(conn->socket, (char *)conn->pending, (int)sizeof conn->pending, 0);
        if (received < 0)
            return fail("recv", "error or timeout while waiting for the peer");
        if (received == 0) {
            conn->end_of_stream = 1;
            status = schan_feed_eof(conn->session);
            return status < 0 ? session_fail("schan_feed_eof", conn->session, status) : 0;
        }
        conn->pending_length = (size_t)received;
    }
    if (conn->pending_length == 0)
        return 0;

    status = schan_feed(conn->session, conn->pending, conn->pending_length, &consumed);
    if (status < 0)
        return session_fail("schan_feed", conn->session, status);
    memmove(conn->pending, conn->pending + consumed, conn->pending_length - consumed);
    conn->pending_length -= consumed;
    return 0;
}

static int run_handshake(connection *conn)
{
    for (;;) {
        schan_status status = schan_step(conn->session);
        if (status == SCHAN_OK)
            return 0;
        if (status == SCHAN_HAVE_OUTPUT) {
            if (flush_output(conn) != 0)
                return 1;
        } else if (status == SCHAN_NEED_INPUT) {
            if (feed_input(conn) != 0)
                return 1;
        } else {
            return session_fail("schan_step", conn->session, status);
        }
    }
}

static int send_plaintext(connection *conn, const char *text)
{
    const uint8_t *data = (const uint8_t *)text;
    size_t length = strlen(text);

    while (length > 0) {
        size_t consumed = 0;
        schan_status status = schan_encrypt(conn->session, data, length, &consumed);
        if (status < 0)
            return session_fail("schan_encrypt", conn->session, status);
        if (flush_output(conn) != 0)
            return 1;
        data += consumed;
        length -= consumed;
    }
    return 0;
}

/* Reads plaintext into response until the peer's close_notify. */
static int receive_until_close(connection *conn, char *response, size_t capacity)
{
    size_t length = 0;

    for (;;) {
        size_t written = 0;
        schan_status status = schan_decrypt(conn->session, (uint8_t *)response + length,
                                            capacity - 1 - length, &written);
        length += written;
        response[length] = '\0';
        if (status == SCHAN_CLOSED)
            return 0;
        if (status == SCHAN_OK && length + 1 == capacity)
            return fail("schan_decrypt", "the response is larger than the buffer");
        if (status == SCHAN_HAVE_OUTPUT) {
            if (flush_output(conn) != 0)
                return 1;
        } else if (status == SCHAN_NEED_INPUT) {
            if (feed_input(conn) != 0)
                return 1;
        } else if (status < 0) {
            return session_fail("schan_decrypt", conn->session, status);
        }
    }
}

/* Writes the path of a PKI file, in the Z: form under Wine where / is drive Z:. */
static int pki_path(const char *file, char *path, size_t capacity)
{
    const char *folder = getenv("SCHAN_TEST_PKI");
    int length;

    if (folder == NULL)
        return 0;
#if defined(_WIN32)
    length = snprintf(path, capacity, "%s%s/%s", folder[0] == '/' ? "Z:" : "", folder, file);
#else
    length = snprintf(path, capacity, "%s/%s", folder, file);
#endif
    return length > 0 && (size_t)length < capacity;
}

/* Starts the server; the peer host kills it after 60 seconds if nothing stops it. */
static int start_server(char *peer_id, size_t id_capacity, unsigned short *port)
{
    char reply[512];
    char id[64];
    unsigned port_value = 0;

    if (!control_request("START 60 1 openssl s_server -accept 127.0.0.1:{port}"
                         " -cert {pki}/leaf.pem -key {pki}/leaf.key -cert_chain {pki}/inter.pem -www",
                         reply, sizeof reply))
        return fail("START openssl s_server", reply);
    if (sscanf(reply, "OK %63s %u", id, &port_value) != 2 || port_value == 0 || port_value > 65535)
        return fail("START openssl s_server", reply);

    snprintf(peer_id, id_capacity, "%s", id);
    *port = (unsigned short)port_value;
    return 0;
}

static void stop_server(const char *peer_id)
{
    char request[128];
    char reply[128];

    snprintf(request, sizeof request, "STOP %s", peer_id);
    if (!control_request(request, reply, sizeof reply))
        fprintf(stderr, "handshake consumer: STOP %s failed: %s\n", peer_id, reply);
}

static int configure(schan_config **config)
{
    char root[1024];
    schan_status status = schan_config_new(config);

    if (status != SCHAN_OK)
        return fail("schan_config_new", schan_status_name(status));
    if (!pki_path("root.pem", root, sizeof root))
        return fail("SCHAN_TEST_PKI", "not set or too long: run under tests/support/peer_host.py");
    status = schan_config_set_verify_mode(*config, SCHAN_VERIFY_CUSTOM_ONLY);
    if (status == SCHAN_OK)
        status = schan_config_load_ca_file(*config, root);
    if (status != SCHAN_OK)
        return fail("loading the test root", schan_config_last_error(*config));
    return 0;
}

/* Runs one HTTPS GET over conn and checks the status line and the session's queries. */
static int exchange(connection *conn)
{
    static char response[65536];
    const char *cipher = NULL;
    schan_tls_version version = SCHAN_TLS_DEFAULT;
    schan_status status;

    if (run_handshake(conn) != 0)
        return 1;
    status = schan_get_protocol(conn->session, &version);
    if (status == SCHAN_OK)
        status = schan_get_cipher(conn->session, &cipher);
    if (status != SCHAN_OK)
        return session_fail("querying the session", conn->session, status);
    printf("handshake complete: protocol 0x%04x, cipher %s\n", (unsigned)version, cipher);

    if (send_plaintext(conn, "GET / HTTP/1.0\r\n\r\n") != 0)
        return 1;
    if (receive_until_close(conn, response, sizeof response) != 0)
        return 1;
    if (strncmp(response, EXPECTED_STATUS_LINE, strlen(EXPECTED_STATUS_LINE)) != 0) {
        fprintf(stderr, "handshake consumer: expected the response to start with \"%s\", received \"%.80s\"\n",
                EXPECTED_STATUS_LINE, response);
        return 1;
    }
    printf("response: %lu bytes, status line \"%s\"\n", (unsigned long)strlen(response), EXPECTED_STATUS_LINE);

    /* The server has closed its side, so a failed send of our close_notify is not an error. */
    if (schan_shutdown(conn->session) == SCHAN_HAVE_OUTPUT)
        flush_output(conn);
    return 0;
}

int main(void)
{
    static connection conn;
    schan_config *config = NULL;
    char peer_id[64];
    char expected_full[64];
    unsigned short port = 0;
    schan_status status;
    int result = 1;

#if defined(_WIN32)
    WSADATA wsa;
    if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0)
        return fail("WSAStartup", "Winsock 2.2 is not available");
#else
    /* A send to a socket the peer closed must fail with EPIPE, not end the process. */
    signal(SIGPIPE, SIG_IGN);
#endif

    printf("schan %s, %s backend\n", schan_version_string_full(), schan_backend_name());
    if (schan_abi_version() != SCHAN_ABI_VERSION)
        return fail("schan_abi_version", "the library's ABI version differs from the header's");
    if (strcmp(schan_version(), SCHAN_VERSION_STRING) != 0)
        return fail("schan_version", "the library's version differs from the header's");
    snprintf(expected_full, sizeof expected_full, "%s (ABI %d)", SCHAN_VERSION_STRING, SCHAN_ABI_VERSION);
    if (strcmp(schan_version_string_full(), expected_full) != 0)
        return fail("schan_version_string_full", schan_version_string_full());

    if (configure(&config) != 0 || start_server(peer_id, sizeof peer_id, &port) != 0) {
        schan_config_free(config);
        return 1;
    }

    conn.socket = connect_loopback(port);
    if (conn.socket == INVALID_HANDLE) {
        result = fail("connect", "cannot connect to openssl s_server on 127.0.0.1");
    } else {
        status = schan_client_new(config, "localhost", &conn.session);
        if (status != SCHAN_OK)
            result = fail("schan_client_new", schan_status_name(status));
        else
            result = exchange(&conn);
        schan_session_free(conn.session);
        close_socket(conn.socket);
    }

    stop_server(peer_id);
    schan_config_free(config);
    if (result == 0)
        printf("PASS\n");
    return result;
}
