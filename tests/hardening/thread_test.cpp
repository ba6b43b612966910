// 8 threads share one client config (custom and system roots, session
// resumption on) and one server config. Each makes SCHAN_STRESS_HANDSHAKES
// handshakes (1 000 by default), every one followed by a transfer both ways
// and close_notify.
// Even handshakes run against schan's own server role. Odd ones run against
// an in-memory OpenSSL server on a shared SSL_CTX, whose tickets let later
// clients resume through the shared session cache. Built
// with ThreadSanitizer by the linux-tsan preset.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <gtest/gtest.h>

#include "schan/schan.h"
#include "session_pair.h"
#include "support/peers.h"

namespace schan::test {
namespace {

constexpr int kThreads = 8;

int handshakes_per_thread()
{
    const char* value = std::getenv("SCHAN_STRESS_HANDSHAKES");
    return value == nullptr ? 1000 : std::atoi(value);
}

struct SslContextFree {
    void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
};
using SslContextPtr = std::unique_ptr<SSL_CTX, SslContextFree>;

// An OpenSSL server context with leaf-ec.pem, its chain and the default
// ticket and session cache settings, shared by every thread.
SslContextPtr make_openssl_server_context()
{
    SslContextPtr context(SSL_CTX_new(TLS_server_method()));
    const std::string leaf = Pki::read("leaf-ec.pem");
    const std::string inter = Pki::read("inter.pem");
    const std::string key = Pki::read("leaf-ec.key");

    BIO* leaf_bio = BIO_new_mem_buf(leaf.data(), static_cast<int>(leaf.size()));
    BIO* inter_bio = BIO_new_mem_buf(inter.data(), static_cast<int>(inter.size()));
    BIO* key_bio = BIO_new_mem_buf(key.data(), static_cast<int>(key.size()));
    X509* leaf_certificate = PEM_read_bio_X509(leaf_bio, nullptr, nullptr, nullptr);
    X509* inter_certificate = PEM_read_bio_X509(inter_bio, nullptr, nullptr, nullptr);
    EVP_PKEY* private_key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);

    const bool loaded = context && leaf_certificate && inter_certificate && private_key &&
                        SSL_CTX_use_certificate(context.get(), leaf_certificate) == 1 &&
                        SSL_CTX_add1_chain_cert(context.get(), inter_certificate) == 1 &&
                        SSL_CTX_use_PrivateKey(context.get(), private_key) == 1;
    X509_free(leaf_certificate);
    X509_free(inter_certificate);
    EVP_PKEY_free(private_key);
    BIO_free(leaf_bio);
    BIO_free(inter_bio);
    BIO_free(key_bio);
    if (!loaded)
        return nullptr;
    return context;
}

// One server connection of OpenSSL over two memory BIOs.
class OpensslServer {
public:
    explicit OpensslServer(SSL_CTX* context) : ssl_(SSL_new(context))
    {
        BIO* input = BIO_new(BIO_s_mem());
        BIO* output = BIO_new(BIO_s_mem());
        SSL_set_bio(ssl_, input, output);
        SSL_set_accept_state(ssl_);
    }
    ~OpensslServer() { SSL_free(ssl_); }
    OpensslServer(const OpensslServer&) = delete;
    OpensslServer& operator=(const OpensslServer&) = delete;

    void feed(Inbound& inbound)
    {
        BIO_write(SSL_get_rbio(ssl_), inbound.bytes.data(), static_cast<int>(inbound.bytes.size()));
        inbound.bytes.clear();
    }

    void take(Inbound& to_client)
    {
        char buffer[16384];
        int read = 0;
        while ((read = BIO_read(SSL_get_wbio(ssl_), buffer, sizeof buffer)) > 0)
            to_client.bytes.append(buffer, static_cast<std::size_t>(read));
    }

    [[nodiscard]] SSL* ssl() const { return ssl_; }

private:
    SSL* ssl_;
};

// Handshake, `length` bytes each way and close_notify between a schan client
// and an OpenSSL server. Returns "" or what failed; sets `resumed`.
std::string run_against_openssl(const schan_config* client_config, SSL_CTX* server_context, std::size_t length,
                                bool& resumed)
{
    schan_session* client = nullptr;
    if (schan_client_new(client_config, "localhost", &client) != SCHAN_OK)
        return "schan_client_new failed";
    const std::unique_ptr<schan_session, void (*)(schan_session*)> owner(client, schan_session_free);
    OpensslServer server(server_context);
    Inbound to_server;
    Inbound to_client;

    schan_status status = SCHAN_NEED_INPUT;
    for (int round = 0; round < 100 && status != SCHAN_OK; ++round) {
        status = schan_step(client);
        to_server.collect(client);
        if (status < 0)
            return std::string("client schan_step: ") + schan_last_error(client);
        server.feed(to_server);
        SSL_do_handshake(server.ssl());
        server.take(to_client);
        to_client.feed(client);
    }
    if (status != SCHAN_OK)
        return "the handshake with OpenSSL did not complete";
    int was_resumed = 0;
    schan_session_resumed(client, &was_resumed);
    resumed = was_resumed != 0;

    // Client to server.
    const std::string data(length, 'c');
    std::size_t consumed = 0;
    if (schan_encrypt(client, reinterpret_cast<const std::uint8_t*>(data.data()), data.size(), &consumed) < 0 ||
        consumed != data.size())
        return std::string("client schan_encrypt: ") + schan_last_error(client);
    to_server.collect(client);
    server.feed(to_server);
    std::string received(length, '\0');
    std::size_t got = 0;
    while (got < length) {
        const int read = SSL_read(server.ssl(), received.data() + got, static_cast<int>(length - got));
        if (read <= 0)
            return "SSL_read failed on the server";
        got += static_cast<std::size_t>(read);
    }

    // Server to client; the client also processes the tickets here, which
    // stores them in the shared cache.
    if (SSL_write(server.ssl(), data.data(), static_cast<int>(data.size())) != static_cast<int>(data.size()))
        return "SSL_write failed on the server";
    SSL_shutdown(server.ssl());
    server.take(to_client);
    std::uint8_t buffer[4096];
    got = 0;
    for (int round = 0; round < 1000; ++round) {
        to_client.feed(client);
        std::size_t written = 0;
        status = schan_decrypt(client, buffer, sizeof buffer, &written);
        got += written;
        if (status == SCHAN_CLOSED || status < 0)
            break;
    }
    if (status != SCHAN_CLOSED || got != length)
        return std::string("client schan_decrypt: ") + schan_status_name(status) + ": " + schan_last_error(client);
    return "";
}

struct Totals {
    std::atomic<int> completed{0};
    std::atomic<int> resumed{0};
    std::atomic<int> failures{0};
    std::string first_failure;  // written once, by the first failing thread
    std::atomic<bool> failure_recorded{false};

    void fail(const std::string& problem)
    {
        ++failures;
        bool expected = false;
        if (failure_recorded.compare_exchange_strong(expected, true))
            first_failure = problem;
    }
};

void run_thread(const schan_config* client_config, const schan_config* server_config, SSL_CTX* server_context,
                int handshakes, Totals& totals)
{
    for (int i = 0; i < handshakes; ++i) {
        std::string problem;
        if (i % 2 == 0) {
            SessionPair pair(client_config, server_config);
            problem = pair.handshake();
            if (problem.empty())
                problem = pair.send(true, std::string(1024, 'u'));
            if (problem.empty())
                problem = pair.send(false, std::string(1024, 'd'));
            if (problem.empty())
                problem = pair.close();
        } else {
            bool resumed = false;
            problem = run_against_openssl(client_config, server_context, 1024, resumed);
            if (resumed)
                ++totals.resumed;
        }
        ERR_clear_error();

        if (!problem.empty()) {
            totals.fail(problem);
            return;
        }
        ++totals.completed;
    }
}

TEST(ThreadStress, SharedConfigsManyHandshakes)
{
    const int handshakes = handshakes_per_thread();
    schan_config* client_config = nullptr;
    schan_config* server_config = nullptr;
    ASSERT_EQ(schan_config_new(&client_config), SCHAN_OK);
    ASSERT_EQ(schan_config_new(&server_config), SCHAN_OK);
    configure_pair_client(client_config);
    configure_pair_server(server_config);
    // Each session then copies the process-wide store of system roots.
    ASSERT_EQ(schan_config_set_verify_mode(client_config, SCHAN_VERIFY_CUSTOM_AND_SYSTEM), SCHAN_OK);
    ASSERT_EQ(schan_config_enable_resumption(client_config, 1), SCHAN_OK);
    const SslContextPtr server_context = make_openssl_server_context();
    ASSERT_NE(server_context, nullptr);

    Totals totals;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back(run_thread, client_config, server_config, server_context.get(), handshakes,
                             std::ref(totals));
    for (std::thread& thread : threads)
        thread.join();

    EXPECT_EQ(totals.failures.load(), 0) << totals.first_failure;
    EXPECT_EQ(totals.completed.load(), kThreads * handshakes);
    // Every OpenSSL handshake after the first tickets arrive can resume.
    EXPECT_GT(totals.resumed.load(), 0);
    std::cout << kThreads << " threads, " << totals.completed.load() << " handshakes, " << totals.resumed.load()
              << " of them resumed\n";
    schan_config_free(client_config);
    schan_config_free(server_config);
}

} // namespace
} // namespace schan::test
