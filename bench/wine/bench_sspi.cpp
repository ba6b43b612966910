// One round of the SChannel bulk benchmark under Wine; prints one JSON line.
//
//   bench_sspi.exe schan|sspi PORT BYTES WRITE_SIZE
//
// Connects to a TLS receiver on 127.0.0.1:PORT and sends BYTES in writes of
// WRITE_SIZE bytes, either through schan (the SChannel backend, linked
// statically) or through a raw SSPI loop with no schan code, then waits for
// the receiver's one-byte acknowledgement. Neither client verifies the
// receiver's certificate, and the handshake is not timed.
#define SECURITY_WIN32
#include <winsock2.h>
#include <windows.h>
#include <schannel.h>
#include <security.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "schan/schan.h"

namespace {

[[noreturn]] void fail(const std::string& message)
{
    throw std::runtime_error(message);
}

// A connected loopback TCP socket, closed on destruction.
class Connection {
public:
    explicit Connection(unsigned short port)
    {
        WSADATA data;
        if (WSAStartup(MAKEWORD(2, 2), &data) != 0)
            fail("WSAStartup failed");
        socket_ = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
        sockaddr_in address = {};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (socket_ == INVALID_SOCKET || connect(socket_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
            fail("connecting to 127.0.0.1:" + std::to_string(port) + " failed");
    }
    ~Connection()
    {
        closesocket(socket_);
        WSACleanup();
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    void send_all(const void* data, std::size_t length)
    {
        const char* cursor = static_cast<const char*>(data);
        while (length > 0) {
            const int sent = ::send(socket_, cursor, static_cast<int>(length), 0);
            if (sent <= 0)
                fail("send failed");
            cursor += sent;
            length -= static_cast<std::size_t>(sent);
        }
    }

    // Returns the bytes received, 0 at the end of the stream.
    std::size_t receive(void* buffer, std::size_t capacity)
    {
        const int received = ::recv(socket_, static_cast<char*>(buffer), static_cast<int>(capacity), 0);
        if (received < 0)
            fail("recv failed");
        return static_cast<std::size_t>(received);
    }

private:
    SOCKET socket_ = INVALID_SOCKET;
};

// ---------------------------------------------------------------- schan

void check(schan_status status, schan_session* session, const char* operation)
{
    if (status < 0)
        fail(std::string(operation) + " failed: " + schan_last_error(session));
}

void send_output(schan_session* session, Connection& connection, std::vector<std::uint8_t>& transfer)
{
    while (schan_output_size(session) > 0) {
        // One send for everything queued, as the raw loop sends each write's
        // records at once: a 64 KiB write queues 64 KiB plus record overhead.
        if (transfer.size() < schan_output_size(session))
            transfer.resize(schan_output_size(session));

        std::size_t written = 0;
        check(schan_take_output(session, transfer.data(), transfer.size(), &written), session, "schan_take_output");
        connection.send_all(transfer.data(), written);
    }
}

void feed_all(schan_session* session, const std::uint8_t* data, std::size_t length)
{
    std::size_t consumed = 0;
    check(schan_feed(session, data, length, &consumed), session, "schan_feed");
    if (consumed != length)
        fail("schan_feed took only part of the received bytes");
}

template <typename Body>
double run_schan(Connection& connection, Body&& send_payload)
{
    schan_config* config = nullptr;
    schan_session* session = nullptr;
    schan_config_new(&config);
    schan_config_set_verify_mode(config, SCHAN_VERIFY_NONE);
    check(schan_client_new(config, "localhost", &session), session, "schan_client_new");
    schan_config_free(config);
    std::vector<std::uint8_t> transfer(64 * 1024);

    for (;;) {
        const schan_status status = schan_step(session);
        check(status, session, "schan_step");
        send_output(session, connection, transfer);
        if (status == SCHAN_OK)
            break;
        if (status == SCHAN_NEED_INPUT)
            feed_all(session, transfer.data(), connection.receive(transfer.data(), 16 * 1024));
    }

    const auto started = std::chrono::steady_clock::now();
    send_payload([&](const std::uint8_t* data, std::size_t length) {
        std::size_t offset = 0;
        while (offset < length) {
            std::size_t consumed = 0;
            check(schan_encrypt(session, data + offset, length - offset, &consumed), session, "schan_encrypt");
            offset += consumed;
            send_output(session, connection, transfer);
        }
    });

    std::uint8_t acknowledgement = 0;
    for (;;) {
        std::size_t written = 0;
        const schan_status status = schan_decrypt(session, &acknowledgement, 1, &written);
        check(status, session, "schan_decrypt");
        if (written == 1)
            break;
        const std::size_t received = connection.receive(transfer.data(), 16 * 1024);
        if (received == 0)
            fail("the receiver closed the connection before its acknowledgement");
        feed_all(session, transfer.data(), received);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    schan_session_free(session);
    return seconds;
}

// ---------------------------------------------------------------- raw SSPI

void check_sspi(SECURITY_STATUS status, const char* operation)
{
    if (status != SEC_E_OK)
        fail(std::string(operation) + " failed: 0x" + std::to_string(static_cast<unsigned long>(status)));
}

template <typename Body>
double run_sspi(Connection& connection, std::size_t write_size, Body&& send_payload)
{
    SCHANNEL_CRED credentials = {};
    credentials.dwVersion = SCHANNEL_CRED_VERSION;
    credentials.grbitEnabledProtocols = SP_PROT_TLS1_2_CLIENT;
    credentials.dwFlags = SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS;
    CredHandle credential_handle;
    TimeStamp expiry;
    check_sspi(AcquireCredentialsHandleA(nullptr, const_cast<char*>(UNISP_NAME_A), SECPKG_CRED_OUTBOUND, nullptr,
                                         &credentials, nullptr, nullptr, &credential_handle, &expiry),
               "AcquireCredentialsHandle");

    const DWORD request = ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | ISC_REQ_CONFIDENTIALITY |
                          ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM;
    CtxtHandle context;
    bool have_context = false;
    std::vector<char> input(64 * 1024);
    std::size_t input_length = 0;
    char target[] = "localhost";

    for (;;) {
        SecBuffer in_buffers[2] = {{static_cast<unsigned long>(input_length), SECBUFFER_TOKEN, input.data()},
                                   {0, SECBUFFER_EMPTY, nullptr}};
        SecBufferDesc in_description = {SECBUFFER_VERSION, 2, in_buffers};
        SecBuffer out_buffer = {0, SECBUFFER_TOKEN, nullptr};
        SecBufferDesc out_description = {SECBUFFER_VERSION, 1, &out_buffer};
        const bool have_input = have_context;
        DWORD attributes = 0;
        const SECURITY_STATUS status = InitializeSecurityContextA(
            &credential_handle, have_context ? &context : nullptr, target, request, 0, 0,
            have_context ? &in_description : nullptr, 0, &context, &out_description, &attributes, &expiry);
        have_context = true;
        if (out_buffer.cbBuffer > 0 && out_buffer.pvBuffer != nullptr) {
            connection.send_all(out_buffer.pvBuffer, out_buffer.cbBuffer);
            FreeContextBuffer(out_buffer.pvBuffer);
        }
        if (status == SEC_I_CONTINUE_NEEDED) {
            // Keep the bytes ISC did not use; receive when none are left.
            const bool extra = have_input && in_buffers[1].BufferType == SECBUFFER_EXTRA;
            const std::size_t kept = extra ? in_buffers[1].cbBuffer : 0;
            std::memmove(input.data(), input.data() + input_length - kept, kept);
            input_length = kept;
            if (kept > 0)
                continue;
        }
        if (status == SEC_I_CONTINUE_NEEDED || status == SEC_E_INCOMPLETE_MESSAGE) {
            const std::size_t received = connection.receive(input.data() + input_length, input.size() - input_length);
            if (received == 0)
                fail("the receiver closed the connection during the handshake");
            input_length += received;
            continue;
        }
        check_sspi(status, "InitializeSecurityContext");
        break;
    }

    SecPkgContext_StreamSizes sizes;
    check_sspi(QueryContextAttributesA(&context, SECPKG_ATTR_STREAM_SIZES, &sizes), "QueryContextAttributes");
    // Like schan, which queues every record of a write before sending, the
    // loop encrypts all records of one write into one buffer and sends it once.
    const std::size_t record_size = sizes.cbHeader + sizes.cbMaximumMessage + sizes.cbTrailer;
    std::vector<char> records((write_size / sizes.cbMaximumMessage + 1) * record_size);

    const auto started = std::chrono::steady_clock::now();
    send_payload([&](const std::uint8_t* data, std::size_t length) {
        std::size_t filled = 0;
        for (std::size_t offset = 0; offset < length;) {
            const std::size_t chunk = std::min<std::size_t>(length - offset, sizes.cbMaximumMessage);
            char* record = records.data() + filled;
            std::memcpy(record + sizes.cbHeader, data + offset, chunk);
            SecBuffer buffers[4] = {
                {sizes.cbHeader, SECBUFFER_STREAM_HEADER, record},
                {static_cast<unsigned long>(chunk), SECBUFFER_DATA, record + sizes.cbHeader},
                {sizes.cbTrailer, SECBUFFER_STREAM_TRAILER, record + sizes.cbHeader + chunk},
                {0, SECBUFFER_EMPTY, nullptr}};
            SecBufferDesc description = {SECBUFFER_VERSION, 4, buffers};
            check_sspi(EncryptMessage(&context, 0, &description, 0), "EncryptMessage");
            filled += buffers[0].cbBuffer + buffers[1].cbBuffer + buffers[2].cbBuffer;
            offset += chunk;
        }
        connection.send_all(records.data(), filled);
    });

    // The acknowledgement is one record with one byte of plaintext.
    input_length = 0;
    for (;;) {
        const std::size_t received = connection.receive(input.data() + input_length, input.size() - input_length);
        if (received == 0)
            fail("the receiver closed the connection before its acknowledgement");
        input_length += received;
        SecBuffer buffers[4] = {{static_cast<unsigned long>(input_length), SECBUFFER_DATA, input.data()},
                                {0, SECBUFFER_EMPTY, nullptr},
                                {0, SECBUFFER_EMPTY, nullptr},
                                {0, SECBUFFER_EMPTY, nullptr}};
        SecBufferDesc description = {SECBUFFER_VERSION, 4, buffers};
        const SECURITY_STATUS status = DecryptMessage(&context, &description, 0, nullptr);
        if (status == SEC_E_INCOMPLETE_MESSAGE)
            continue;
        check_sspi(status, "DecryptMessage");
        break;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    DeleteSecurityContext(&context);
    FreeCredentialsHandle(&credential_handle);
    return seconds;
}

int run(int argc, char** argv)
{
    if (argc != 5) {
        std::fprintf(stderr, "usage: bench_sspi.exe schan|sspi PORT BYTES WRITE_SIZE\n");
        return 2;
    }
    const std::string implementation = argv[1];
    const auto port = static_cast<unsigned short>(std::stoul(argv[2]));
    const std::size_t total = std::stoull(argv[3]);
    const std::size_t write_size = std::stoull(argv[4]);
    const std::vector<std::uint8_t> payload(write_size, 0x5a);
    auto send_payload = [&](auto&& write) {
        for (std::size_t sent = 0; sent < total; sent += write_size)
            write(payload.data(), std::min(write_size, total - sent));
    };

    Connection connection(port);
    const double seconds = implementation == "schan" ? run_schan(connection, send_payload)
                                                     : run_sspi(connection, write_size, send_payload);
    std::printf("{\"bytes\": %zu, \"write_size\": %zu, \"seconds\": %.6f, \"mib_per_s\": %.2f}\n", total, write_size,
                seconds, static_cast<double>(total) / (1 << 20) / seconds);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    try {
        return run(argc, argv);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "bench_sspi: %s\n", error.what());
        return 1;
    }
}
