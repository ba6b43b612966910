// TLS endpoints that the native benchmarks pump in memory: schan sessions
// through the C ABI, and raw OpenSSL SSL objects joined by memory BIOs with
// no schan code. Both sides of a connection live in one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <openssl/ssl.h>

#include "schan/schan.h"

namespace bench {

[[noreturn]] void fail(const std::string& message);

// Test PKI files written by tests/support/test_pki.py, plus leaf-ec-chain.pem.
struct Pki {
    std::string folder;
    [[nodiscard]] std::string root() const { return folder + "/root.pem"; }
    // key_type is "rsa" (RSA-2048 leaf) or "ecdsa" (P-256 leaf).
    [[nodiscard]] std::string chain(const std::string& key_type) const;
    [[nodiscard]] std::string key(const std::string& key_type) const;
};

// The common interface, so that one pump moves bytes for both kinds.
class Endpoint {
public:
    virtual ~Endpoint() = default;
    // Moves queued records for the peer into `buffer`; returns the count (0 when none).
    virtual std::size_t take_output(std::uint8_t* buffer, std::size_t capacity) = 0;
    // Accepts records from the peer; returns how many bytes were taken.
    virtual std::size_t feed(const std::uint8_t* data, std::size_t length) = 0;
    // Advances the handshake as far as the input allows.
    virtual void advance() = 0;
    [[nodiscard]] virtual bool established() const = 0;
    // Returns decrypted bytes copied into `buffer`, 0 when more input is needed.
    virtual std::size_t read(std::uint8_t* buffer, std::size_t capacity) = 0;
    // Encrypts plaintext; returns how many bytes were taken.
    virtual std::size_t write(const std::uint8_t* data, std::size_t length) = 0;
    [[nodiscard]] virtual bool resumed() const = 0;
    [[nodiscard]] virtual std::string cipher() const = 0;
};

class SchanConfig {
public:
    // A client config trusting the test root, or a server config with the leaf.
    SchanConfig(const Pki& pki, const std::string& key_type, bool server, schan_tls_version version,
                bool resumption);
    ~SchanConfig();
    SchanConfig(const SchanConfig&) = delete;
    SchanConfig& operator=(const SchanConfig&) = delete;
    [[nodiscard]] const schan_config* get() const { return config_; }

private:
    schan_config* config_ = nullptr;
};

class SchanEndpoint final : public Endpoint {
public:
    SchanEndpoint(const SchanConfig& config, bool server);
    ~SchanEndpoint() override;
    SchanEndpoint(const SchanEndpoint&) = delete;
    SchanEndpoint& operator=(const SchanEndpoint&) = delete;

    std::size_t take_output(std::uint8_t* buffer, std::size_t capacity) override;
    std::size_t feed(const std::uint8_t* data, std::size_t length) override;
    void advance() override;
    [[nodiscard]] bool established() const override;
    std::size_t read(std::uint8_t* buffer, std::size_t capacity) override;
    std::size_t write(const std::uint8_t* data, std::size_t length) override;
    [[nodiscard]] bool resumed() const override;
    [[nodiscard]] std::string cipher() const override;

private:
    void check(schan_status status, const char* operation) const;
    schan_session* session_ = nullptr;
};

class RawContext {
public:
    // version is TLS1_2_VERSION or TLS1_3_VERSION. Verification matches a
    // schan client: chain to the test root and host name "localhost".
    RawContext(const Pki& pki, const std::string& key_type, bool server, int version, bool resumption);
    ~RawContext();
    RawContext(const RawContext&) = delete;
    RawContext& operator=(const RawContext&) = delete;
    [[nodiscard]] SSL_CTX* get() const { return context_; }

    // The session a raw client resumes, taken from the last connection.
    SSL_SESSION* saved_session = nullptr;

private:
    SSL_CTX* context_ = nullptr;
};

class RawEndpoint final : public Endpoint {
public:
    RawEndpoint(RawContext& context, bool server);
    ~RawEndpoint() override;
    RawEndpoint(const RawEndpoint&) = delete;
    RawEndpoint& operator=(const RawEndpoint&) = delete;

    std::size_t take_output(std::uint8_t* buffer, std::size_t capacity) override;
    std::size_t feed(const std::uint8_t* data, std::size_t length) override;
    void advance() override;
    [[nodiscard]] bool established() const override;
    std::size_t read(std::uint8_t* buffer, std::size_t capacity) override;
    std::size_t write(const std::uint8_t* data, std::size_t length) override;
    [[nodiscard]] bool resumed() const override;
    [[nodiscard]] std::string cipher() const override;
    // Stores the client's current session in the context for the next connection.
    void save_session();

private:
    RawContext& context_;
    SSL* ssl_ = nullptr;
    BIO* input_ = nullptr;   // records from the peer, owned by ssl_
    BIO* output_ = nullptr;  // records for the peer, owned by ssl_
};

// Buffers the pump reuses, so that pumping allocates nothing itself.
struct PumpBuffers {
    std::vector<std::uint8_t> transfer = std::vector<std::uint8_t>(64 * 1024);
    std::vector<std::uint8_t> plaintext = std::vector<std::uint8_t>(64 * 1024);
};

// Moves every queued record of `from` to `to` in transfer-sized pieces, like
// socket reads, and lets `to` process them. Returns the plaintext bytes `to`
// delivered.
std::size_t deliver(Endpoint& from, Endpoint& to, PumpBuffers& buffers);

// Runs a fresh pair's handshake to completion, then delivers what the server
// sent after it (TLS 1.3 tickets) to the client.
void handshake(Endpoint& client, Endpoint& server, PumpBuffers& buffers);

std::uint64_t now_ns();
// Returns the CPU time of this process, which other load on a shared machine
// changes far less than wall-clock time.
std::uint64_t cpu_now_ns();

} // namespace bench
