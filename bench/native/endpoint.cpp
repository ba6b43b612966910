#include "endpoint.h"

#include <chrono>
#include <ctime>
#include <stdexcept>

#include <openssl/err.h>

namespace bench {

void fail(const std::string& message)
{
    throw std::runtime_error(message);
}

std::string Pki::chain(const std::string& key_type) const
{
    return folder + (key_type == "ecdsa" ? "/leaf-ec-chain.pem" : "/leaf-chain.pem");
}

std::string Pki::key(const std::string& key_type) const
{
    return folder + (key_type == "ecdsa" ? "/leaf-ec.key" : "/leaf.key");
}

std::uint64_t now_ns()
{
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
}

std::uint64_t cpu_now_ns()
{
    timespec now{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return static_cast<std::uint64_t>(now.tv_sec) * 1000000000u + static_cast<std::uint64_t>(now.tv_nsec);
}

// ---------------------------------------------------------------- schan

namespace {

void check_config(schan_status status, const schan_config* config, const char* operation)
{
    if (status < 0)
        fail(std::string(operation) + " failed: " + schan_status_name(status) + ": " +
             schan_config_last_error(config));
}

} // namespace

SchanConfig::SchanConfig(const Pki& pki, const std::string& key_type, bool server, schan_tls_version version,
                         bool resumption)
{
    if (schan_config_new(&config_) != SCHAN_OK)
        fail("schan_config_new failed");

    check_config(schan_config_set_versions(config_, version, version), config_, "schan_config_set_versions");
    if (server) {
        check_config(schan_config_load_cert_chain_file(config_, pki.chain(key_type).c_str(),
                                                       pki.key(key_type).c_str(), nullptr),
                     config_, "schan_config_load_cert_chain_file");
        return;
    }

    check_config(schan_config_set_verify_mode(config_, SCHAN_VERIFY_CUSTOM_ONLY), config_,
                 "schan_config_set_verify_mode");
    // A raw OpenSSL client checks no revocation either.
    check_config(schan_config_set_revocation_mode(config_, SCHAN_REVOCATION_OFF), config_,
                 "schan_config_set_revocation_mode");
    check_config(schan_config_load_ca_file(config_, pki.root().c_str()), config_, "schan_config_load_ca_file");
    check_config(schan_config_enable_resumption(config_, resumption ? 1 : 0), config_,
                 "schan_config_enable_resumption");
}

SchanConfig::~SchanConfig()
{
    schan_config_free(config_);
}

SchanEndpoint::SchanEndpoint(const SchanConfig& config, bool server)
{
    const schan_status status = server ? schan_server_new(config.get(), &session_)
                                       : schan_client_new(config.get(), "localhost", &session_);
    if (status != SCHAN_OK)
        fail(std::string("creating a schan session failed: ") + schan_status_name(status));
}

SchanEndpoint::~SchanEndpoint()
{
    schan_session_free(session_);
}

void SchanEndpoint::check(schan_status status, const char* operation) const
{
    if (status < 0)
        fail(std::string(operation) + " failed: " + schan_status_name(status) + ": " + schan_last_error(session_));
}

std::size_t SchanEndpoint::take_output(std::uint8_t* buffer, std::size_t capacity)
{
    std::size_t written = 0;
    check(schan_take_output(session_, buffer, capacity, &written), "schan_take_output");
    return written;
}

std::size_t SchanEndpoint::feed(const std::uint8_t* data, std::size_t length)
{
    std::size_t consumed = 0;
    check(schan_feed(session_, data, length, &consumed), "schan_feed");
    return consumed;
}

void SchanEndpoint::advance()
{
    check(schan_step(session_), "schan_step");
}

bool SchanEndpoint::established() const
{
    return schan_get_state(session_) == SCHAN_STATE_OPEN;
}

std::size_t SchanEndpoint::read(std::uint8_t* buffer, std::size_t capacity)
{
    std::size_t written = 0;
    const schan_status status = schan_decrypt(session_, buffer, capacity, &written);
    check(status, "schan_decrypt");
    return status == SCHAN_OK ? written : 0;
}

std::size_t SchanEndpoint::write(const std::uint8_t* data, std::size_t length)
{
    std::size_t consumed = 0;
    check(schan_encrypt(session_, data, length, &consumed), "schan_encrypt");
    return consumed;
}

bool SchanEndpoint::resumed() const
{
    int resumed = 0;
    check(schan_session_resumed(session_, &resumed), "schan_session_resumed");
    return resumed != 0;
}

std::string SchanEndpoint::cipher() const
{
    const char* name = nullptr;
    check(schan_get_cipher(session_, &name), "schan_get_cipher");
    return name;
}

// ---------------------------------------------------------------- raw OpenSSL

namespace {

[[noreturn]] void fail_openssl(const std::string& operation)
{
    char text[256] = {};
    ERR_error_string_n(ERR_get_error(), text, sizeof text);
    fail(operation + " failed: " + text);
}

} // namespace

RawContext::RawContext(const Pki& pki, const std::string& key_type, bool server, int version, bool resumption)
{
    context_ = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (context_ == nullptr)
        fail_openssl("SSL_CTX_new");
    SSL_CTX_set_min_proto_version(context_, version);
    SSL_CTX_set_max_proto_version(context_, version);

    if (server) {
        if (SSL_CTX_use_certificate_chain_file(context_, pki.chain(key_type).c_str()) != 1 ||
            SSL_CTX_use_PrivateKey_file(context_, pki.key(key_type).c_str(), SSL_FILETYPE_PEM) != 1)
            fail_openssl("loading the server certificate");
        // Without resumption the server sends no tickets, like a schan server.
        if (!resumption) {
            SSL_CTX_set_options(context_, SSL_OP_NO_TICKET);
            SSL_CTX_set_num_tickets(context_, 0);
            SSL_CTX_set_session_cache_mode(context_, SSL_SESS_CACHE_OFF);
        }
        return;
    }

    if (SSL_CTX_load_verify_locations(context_, pki.root().c_str(), nullptr) != 1)
        fail_openssl("SSL_CTX_load_verify_locations");
    SSL_CTX_set_verify(context_, SSL_VERIFY_PEER, nullptr);
}

RawContext::~RawContext()
{
    SSL_SESSION_free(saved_session);
    SSL_CTX_free(context_);
}

RawEndpoint::RawEndpoint(RawContext& context, bool server) : context_(context)
{
    ssl_ = SSL_new(context.get());
    input_ = BIO_new(BIO_s_mem());
    output_ = BIO_new(BIO_s_mem());
    if (ssl_ == nullptr || input_ == nullptr || output_ == nullptr)
        fail_openssl("SSL_new");
    BIO_set_mem_eof_return(input_, -1);
    BIO_set_mem_eof_return(output_, -1);
    SSL_set_bio(ssl_, input_, output_);

    if (server) {
        SSL_set_accept_state(ssl_);
        return;
    }
    SSL_set_tlsext_host_name(ssl_, "localhost");
    SSL_set1_host(ssl_, "localhost");
    if (context.saved_session != nullptr)
        SSL_set_session(ssl_, context.saved_session);
    SSL_set_connect_state(ssl_);
}

RawEndpoint::~RawEndpoint()
{
    SSL_free(ssl_);
}

std::size_t RawEndpoint::take_output(std::uint8_t* buffer, std::size_t capacity)
{
    const int read = BIO_read(output_, buffer, static_cast<int>(capacity));
    return read > 0 ? static_cast<std::size_t>(read) : 0;
}

std::size_t RawEndpoint::feed(const std::uint8_t* data, std::size_t length)
{
    const int written = BIO_write(input_, data, static_cast<int>(length));
    if (written < 0)
        fail_openssl("BIO_write");
    return static_cast<std::size_t>(written);
}

void RawEndpoint::advance()
{
    if (SSL_is_init_finished(ssl_))
        return;
    const int result = SSL_do_handshake(ssl_);
    if (result != 1 && SSL_get_error(ssl_, result) != SSL_ERROR_WANT_READ)
        fail_openssl("SSL_do_handshake");
}

bool RawEndpoint::established() const
{
    return SSL_is_init_finished(ssl_) != 0;
}

std::size_t RawEndpoint::read(std::uint8_t* buffer, std::size_t capacity)
{
    const int result = SSL_read(ssl_, buffer, static_cast<int>(capacity));
    if (result > 0)
        return static_cast<std::size_t>(result);
    if (SSL_get_error(ssl_, result) != SSL_ERROR_WANT_READ)
        fail_openssl("SSL_read");
    return 0;
}

std::size_t RawEndpoint::write(const std::uint8_t* data, std::size_t length)
{
    const int result = SSL_write(ssl_, data, static_cast<int>(length));
    if (result <= 0)
        fail_openssl("SSL_write");
    return static_cast<std::size_t>(result);
}

bool RawEndpoint::resumed() const
{
    return SSL_session_reused(ssl_) == 1;
}

std::string RawEndpoint::cipher() const
{
    return SSL_CIPHER_standard_name(SSL_get_current_cipher(ssl_));
}

void RawEndpoint::save_session()
{
    // A copy, because SSL_free() of a connection that sent no close_notify
    // marks its own SSL_SESSION as not resumable.
    SSL_SESSION* session = SSL_SESSION_dup(SSL_get0_session(ssl_));
    if (session == nullptr)
        return;
    SSL_SESSION_free(context_.saved_session);
    context_.saved_session = session;
}

// ---------------------------------------------------------------- pump

std::size_t deliver(Endpoint& from, Endpoint& to, PumpBuffers& buffers)
{
    std::size_t delivered = 0;
    for (;;) {
        const std::size_t length = from.take_output(buffers.transfer.data(), buffers.transfer.size());
        if (length == 0)
            return delivered;

        std::size_t offset = 0;
        while (offset < length) {
            const std::size_t consumed = to.feed(buffers.transfer.data() + offset, length - offset);
            offset += consumed;
            if (!to.established()) {
                to.advance();
                continue;
            }
            for (;;) {
                const std::size_t read = to.read(buffers.plaintext.data(), buffers.plaintext.size());
                if (read == 0)
                    break;
                delivered += read;
            }
        }
    }
}

void handshake(Endpoint& client, Endpoint& server, PumpBuffers& buffers)
{
    for (int flight = 0; flight < 20; ++flight) {
        client.advance();
        deliver(client, server, buffers);
        server.advance();
        deliver(server, client, buffers);
        if (client.established() && server.established()) {
            deliver(server, client, buffers);
            return;
        }
    }
    fail("the handshake did not complete within 20 flights");
}

} // namespace bench
