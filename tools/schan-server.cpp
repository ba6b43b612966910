// schan-server: a TLS server on 127.0.0.1 through schan, like `openssl s_server`.
//
// Serves one connection at a time. --echo sends back every byte it receives
// until the client's close_notify; --http responds to the first request with a
// small HTTP/1.1 response that reports the negotiated protocol, cipher and
// ALPN, then sends close_notify. Logs each connection and each error to
// standard error.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#endif

#include "schan/schan.h"
#include "socket.h"

namespace {

using schan::tools::kInvalidSocket;
using schan::tools::NativeSocket;

constexpr int kExitClean = 0;
constexpr int kExitTlsError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitNetwork = 3;

// A client that sends nothing for this long is disconnected.
constexpr int kReceiveTimeoutSeconds = 30;
// After close_notify, the wait for the client to close its end.
constexpr int kLingerSeconds = 2;

const char* const kUsage =
    "usage: schan-server [options]\n"
    "  --cert FILE            server certificate, followed by its intermediates (PEM)\n"
    "  --key FILE             private key of --cert (PEM); default: read it from --cert\n"
    "  --pfx FILE             certificate, chain and key from a PKCS#12 file instead of --cert\n"
    "  --pass-env VAR         read the password of --key or --pfx from environment variable VAR\n"
    "  --ca FILE              verify client certificates against the CAs in this PEM file only\n"
    "  --verify-client optional|required\n"
    "                         request a client certificate (needs --ca)\n"
    "  --alpn LIST            ALPN protocols to accept, comma-separated, in order of preference\n"
    "  --echo                 send back what the client sends (the default)\n"
    "  --http                 respond to one HTTP request with the negotiated parameters, then close\n"
    "  --port N               TCP port on 127.0.0.1; 0 (the default) picks a free port\n"
    "  --once                 exit after the first connection\n"
    "Prints \"listening on 127.0.0.1:PORT\" to standard output once it accepts connections.\n";

enum class Mode { echo, http };

struct Options {
    std::string certificate_file;
    std::string key_file;
    std::string pkcs12_file;
    std::string password_variable;
    std::string ca_file;
    schan_client_auth client_auth = SCHAN_CLIENT_AUTH_NONE;
    std::vector<std::string> alpn;
    Mode mode = Mode::echo;
    unsigned port = 0;
    bool once = false;
};

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class TlsError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

std::vector<std::string> split_list(const std::string& text)
{
    std::vector<std::string> items;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t comma = text.find(',', start);
        const std::size_t end = comma == std::string::npos ? text.size() : comma;
        if (end > start)
            items.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return items;
}

unsigned parse_port(const std::string& text)
{
    char* end = nullptr;
    const unsigned long port = std::strtoul(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || port > 65535)
        throw UsageError("invalid --port '" + text + "': use a number from 0 to 65535");
    return static_cast<unsigned>(port);
}

schan_client_auth parse_client_auth(const std::string& text)
{
    if (text == "optional")
        return SCHAN_CLIENT_AUTH_OPTIONAL;
    if (text == "required")
        return SCHAN_CLIENT_AUTH_REQUIRED;
    throw UsageError("invalid --verify-client '" + text + "': use optional or required");
}

void check_options(const Options& options)
{
    if (options.certificate_file.empty() == options.pkcs12_file.empty())
        throw UsageError("give either --cert or --pfx");
    if (!options.key_file.empty() && options.certificate_file.empty())
        throw UsageError("--key needs --cert");
    if (options.client_auth != SCHAN_CLIENT_AUTH_NONE && options.ca_file.empty())
        throw UsageError("--verify-client needs --ca");
}

Options parse_options(int argc, char** argv)
{
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string argument = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc)
                throw UsageError("option " + argument + " needs a value");
            return argv[++i];
        };

        if (argument == "--cert") {
            options.certificate_file = value();
        } else if (argument == "--key") {
            options.key_file = value();
        } else if (argument == "--pfx") {
            options.pkcs12_file = value();
        } else if (argument == "--pass-env") {
            options.password_variable = value();
        } else if (argument == "--ca") {
            options.ca_file = value();
        } else if (argument == "--verify-client") {
            options.client_auth = parse_client_auth(value());
        } else if (argument == "--alpn") {
            options.alpn = split_list(value());
        } else if (argument == "--echo") {
            options.mode = Mode::echo;
        } else if (argument == "--http") {
            options.mode = Mode::http;
        } else if (argument == "--port") {
            options.port = parse_port(value());
        } else if (argument == "--once") {
            options.once = true;
        } else if (argument == "--help" || argument == "-h") {
            std::fputs(kUsage, stdout);
            std::exit(kExitClean);
        } else {
            throw UsageError("unknown argument " + argument);
        }
    }
    check_options(options);
    return options;
}

void check_config(schan_status status, schan_config* config)
{
    if (status < 0)
        throw UsageError(std::string(schan_status_name(status)) + ": " + schan_config_last_error(config));
}

// Returns the password from the environment, or nullptr without --pass-env.
const char* password(const Options& options)
{
    if (options.password_variable.empty())
        return nullptr;
    const char* value = std::getenv(options.password_variable.c_str());
    if (value == nullptr)
        throw UsageError("environment variable " + options.password_variable + " (from --pass-env) is not set");
    return value;
}

struct ConfigFree {
    void operator()(schan_config* config) const { schan_config_free(config); }
};
using ConfigPtr = std::unique_ptr<schan_config, ConfigFree>;

ConfigPtr make_config(const Options& options)
{
    schan_config* created = nullptr;
    if (schan_config_new(&created) != SCHAN_OK)
        throw std::runtime_error("out of memory");
    ConfigPtr owner(created);
    schan_config* config = owner.get();

    if (!options.pkcs12_file.empty()) {
        check_config(schan_config_load_pkcs12_file(config, options.pkcs12_file.c_str(), password(options)), config);
    } else {
        const char* key = options.key_file.empty() ? nullptr : options.key_file.c_str();
        check_config(schan_config_load_cert_chain_file(config, options.certificate_file.c_str(), key,
                                                       password(options)),
                     config);
    }

    if (!options.ca_file.empty()) {
        check_config(schan_config_load_ca_file(config, options.ca_file.c_str()), config);
        check_config(schan_config_set_verify_mode(config, SCHAN_VERIFY_CUSTOM_ONLY), config);
    }
    check_config(schan_config_set_client_auth(config, options.client_auth), config);
    for (const auto& protocol : options.alpn)
        check_config(schan_config_add_alpn(config, protocol.c_str()), config);
    return owner;
}

// Ends the sending direction and reads until the client closes (for at most
// kLingerSeconds), so that closing the socket does not reset a connection
// with unread bytes, which could make the client lose the last records.
void finish_connection(schan::tools::TcpSocket& connection)
{
    connection.shutdown_write();
    connection.set_receive_timeout(kLingerSeconds);
    std::uint8_t buffer[4096];
    try {
        while (connection.receive(buffer, sizeof buffer) > 0) {
        }
    } catch (const std::runtime_error&) {
        // The client reset or went silent: the connection is over anyway.
    }
}

// A listening TCP socket on 127.0.0.1.
class Listener {
public:
    explicit Listener(unsigned port)
    {
        handle_ = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
        if (handle_ == kInvalidSocket)
            throw std::runtime_error("cannot create a TCP socket");

        const int reuse = 1;
        setsockopt(handle_, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<const char*>(&reuse), sizeof reuse);

        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(static_cast<std::uint16_t>(port));
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::bind(handle_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
            throw std::runtime_error("cannot listen on 127.0.0.1 port " + std::to_string(port) +
                                     ": the port is in use or not allowed");
        if (::listen(handle_, 16) != 0)
            throw std::runtime_error("listen failed on 127.0.0.1 port " + std::to_string(port));
    }
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;
    ~Listener() { schan::tools::close_native_socket(handle_); }

    [[nodiscard]] unsigned port() const
    {
        sockaddr_in address{};
        socklen_t length = sizeof address;
        getsockname(handle_, reinterpret_cast<sockaddr*>(&address), &length);
        return ntohs(address.sin_port);
    }

    // Waits for a client; stores its address as "127.0.0.1:PORT" in `peer`.
    NativeSocket accept(std::string& peer)
    {
        sockaddr_in address{};
        socklen_t length = sizeof address;
        const NativeSocket client = ::accept(handle_, reinterpret_cast<sockaddr*>(&address), &length);
        if (client == kInvalidSocket)
            throw std::runtime_error("accept failed on the listening socket");

        char text[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &address.sin_addr, text, sizeof text);
        peer = std::string(text) + ":" + std::to_string(ntohs(address.sin_port));
        return client;
    }

private:
    NativeSocket handle_ = kInvalidSocket;
};

std::string protocol_name(schan_tls_version version)
{
    if (version == SCHAN_TLS_1_3)
        return "TLSv1.3";
    if (version == SCHAN_TLS_1_2)
        return "TLSv1.2";
    return "unknown";
}

// Drives one server session over one connection.
class ServerConnection {
public:
    ServerConnection(schan_session* session, schan::tools::TcpSocket& connection) : session_(session), connection_(connection) {}

    void handshake()
    {
        for (;;) {
            const schan_status status = schan_step(session_);
            if (status == SCHAN_OK)
                return;
            if (status == SCHAN_HAVE_OUTPUT)
                flush();
            else if (status == SCHAN_NEED_INPUT)
                receive_and_feed();
            else
                throw_tls_error(status);
        }
    }

    // Describes what was negotiated, one "name: value" per line.
    [[nodiscard]] std::string describe() const
    {
        schan_tls_version version = SCHAN_TLS_DEFAULT;
        const char* cipher = "";
        const char* alpn = "";
        std::size_t client_certificates = 0;
        schan_get_protocol(session_, &version);
        schan_get_cipher(session_, &cipher);
        schan_get_alpn(session_, &alpn);
        schan_get_peer_cert_count(session_, &client_certificates);
        return "protocol: " + protocol_name(version) + "\ncipher: " + cipher + "\nalpn: " + (*alpn ? alpn : "-") +
               "\nclient-certificates: " + std::to_string(client_certificates) + "\n";
    }

    // Sends back every byte until the client's close_notify, then sends close_notify.
    void echo()
    {
        std::vector<std::uint8_t> plaintext;
        while (read(plaintext)) {
            write(plaintext.data(), plaintext.size());
            plaintext.clear();
        }
        close();
    }

    // Reads one request header, sends the response and then close_notify.
    void respond_http()
    {
        std::string request;
        std::vector<std::uint8_t> plaintext;
        while (request.find("\r\n\r\n") == std::string::npos && read(plaintext)) {
            request.append(plaintext.begin(), plaintext.end());
            plaintext.clear();
        }

        const std::string body = describe();
        const std::string response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                                     "Content-Length: " +
                                     std::to_string(body.size()) + "\r\n\r\n" + body;
        write(reinterpret_cast<const std::uint8_t*>(response.data()), response.size());
        close();
    }

private:
    [[noreturn]] void throw_tls_error(schan_status status)
    {
        // Send any alert the session queued before giving up.
        try {
            flush();
        } catch (const std::exception&) {
        }
        throw TlsError(std::string(schan_status_name(status)) + ": " + schan_last_error(session_));
    }

    void flush()
    {
        std::uint8_t buffer[16384];
        std::size_t written = 0;
        while (schan_output_size(session_) > 0) {
            schan_take_output(session_, buffer, sizeof buffer, &written);
            connection_.send_all(buffer, written);
        }
    }

    void receive_and_feed()
    {
        std::uint8_t buffer[16384];
        const std::size_t received = connection_.receive(buffer, sizeof buffer);
        if (received == 0) {
            schan_feed_eof(session_);
            return;
        }

        std::size_t offset = 0;
        while (offset < received) {
            std::size_t consumed = 0;
            const schan_status status = schan_feed(session_, buffer + offset, received - offset, &consumed);
            if (status < 0)
                throw_tls_error(status);
            offset += consumed;
            // A full input queue contains complete records: process them to make room.
            if (consumed == 0)
                process_queued_input();
        }
    }

    // Processes queued records without losing plaintext: it is kept for read().
    void process_queued_input()
    {
        if (schan_get_state(session_) == SCHAN_STATE_HANDSHAKE) {
            const schan_status status = schan_step(session_);
            if (status < 0)
                throw_tls_error(status);
            flush();
            return;
        }
        decrypt_into(pending_);
    }

    // Decrypts what is queued into `plaintext`; returns false after the
    // client's close_notify.
    bool decrypt_into(std::vector<std::uint8_t>& plaintext)
    {
        std::uint8_t buffer[16384];
        for (;;) {
            std::size_t written = 0;
            const schan_status status = schan_decrypt(session_, buffer, sizeof buffer, &written);
            if (status == SCHAN_OK) {
                plaintext.insert(plaintext.end(), buffer, buffer + written);
            } else if (status == SCHAN_HAVE_OUTPUT || status == SCHAN_NEED_INPUT) {
                flush();
                return true;
            } else if (status == SCHAN_CLOSED) {
                return false;
            } else {
                throw_tls_error(status);
            }
        }
    }

    // Reads at least one plaintext byte into `plaintext`; returns false after
    // the client's close_notify with nothing left to return.
    bool read(std::vector<std::uint8_t>& plaintext)
    {
        plaintext.swap(pending_);
        pending_.clear();
        for (;;) {
            const bool open = decrypt_into(plaintext);
            if (!plaintext.empty())
                return true;
            if (!open)
                return false;
            receive_and_feed();
        }
    }

    void write(const std::uint8_t* data, std::size_t length)
    {
        std::size_t offset = 0;
        while (offset < length) {
            std::size_t consumed = 0;
            const schan_status status = schan_encrypt(session_, data + offset, length - offset, &consumed);
            if (status < 0)
                throw_tls_error(status);
            offset += consumed;
            flush();
            if (status == SCHAN_NEED_INPUT)  // a post-handshake exchange must finish first
                receive_and_feed();
        }
    }

    void close()
    {
        const schan_status status = schan_shutdown(session_);
        if (status < 0)
            throw_tls_error(status);
        flush();
    }

    schan_session* session_;
    schan::tools::TcpSocket& connection_;
    std::vector<std::uint8_t> pending_;  // decrypted while making room for input, not yet read
};

// Serves one client. Returns false when the TLS session failed.
bool serve(const schan_config* config, const Options& options, NativeSocket client, const std::string& peer,
           unsigned long number)
{
    schan::tools::TcpSocket connection(client);
    connection.set_receive_timeout(kReceiveTimeoutSeconds);
    const std::string prefix = "schan-server: connection " + std::to_string(number) + " from " + peer + ": ";

    schan_session* session = nullptr;
    const schan_status created = schan_server_new(config, &session);
    if (created != SCHAN_OK) {
        std::fprintf(stderr, "%scannot create the session: %s\n", prefix.c_str(), schan_status_name(created));
        return false;
    }

    bool clean = true;
    try {
        ServerConnection server(session, connection);
        server.handshake();
        std::string summary = server.describe();
        for (auto& character : summary)
            character = character == '\n' ? ' ' : character;
        std::fprintf(stderr, "%shandshake complete: %s\n", prefix.c_str(), summary.c_str());

        if (options.mode == Mode::http)
            server.respond_http();
        else
            server.echo();
        finish_connection(connection);
        std::fprintf(stderr, "%sclosed cleanly\n", prefix.c_str());
    } catch (const TlsError& error) {
        std::fprintf(stderr, "%sTLS failed: %s\n", prefix.c_str(), error.what());
        clean = false;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "%sconnection failed: %s\n", prefix.c_str(), error.what());
        clean = false;
    }
    std::fflush(stderr);
    schan_session_free(session);
    return clean;
}

int run(int argc, char** argv)
{
    Options options;
    try {
        options = parse_options(argc, argv);
    } catch (const UsageError& error) {
        std::fprintf(stderr, "schan-server: %s\n%s", error.what(), kUsage);
        return kExitUsage;
    }

    ConfigPtr config;
    try {
        config = make_config(options);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "schan-server: invalid configuration: %s\n", error.what());
        return kExitUsage;
    }

    int exit_code = kExitClean;
    try {
        schan::tools::NetworkLibrary network;
        Listener listener(options.port);
        std::printf("listening on 127.0.0.1:%u\n", listener.port());
        std::fflush(stdout);

        for (unsigned long number = 1;; ++number) {
            std::string peer;
            const NativeSocket client = listener.accept(peer);
            const bool clean = serve(config.get(), options, client, peer, number);
            if (options.once) {
                exit_code = clean ? kExitClean : kExitTlsError;
                break;
            }
        }
    } catch (const std::exception& error) {
        std::fprintf(stderr, "schan-server: %s\n", error.what());
        exit_code = kExitNetwork;
    }
    return exit_code;
}

} // namespace

int main(int argc, char** argv)
{
    const int exit_code = run(argc, argv);
    std::fflush(stdout);
    std::fflush(stderr);
    return exit_code;
}
