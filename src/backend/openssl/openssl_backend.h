// schan::Backend over one OpenSSL SSL object with two memory BIOs. Used for
// both roles: the factories in client_backend.cpp and server_backend.cpp
// configure the SSL object, this class moves records through it.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include <gsl/gsl>

#include "backend/openssl/openssl_error.h"
#include "backend/openssl/openssl_handles.h"
#include "backend/openssl/queue_bio.h"
#include "core/backend.h"

namespace schan::openssl {

// Per-connection data that OpenSSL callbacks reach through SSL_get_app_data().
struct ConnectionState {
    AlertLog alerts;
    std::string alpn_preference;  // a server's ALPN list in wire format
    std::shared_ptr<SessionCache> session_cache;  // a client's resumption cache, or null
    std::string session_key;                      // this connection's key in session_cache
};

// Returns the state of a connection that an OpensslBackend owns.
ConnectionState& connection_state(const SSL* ssl);

class OpensslBackend final : public Backend {
public:
    // Takes a configured SSL object in connect or accept state and attaches
    // the memory BIOs.
    explicit OpensslBackend(SslPtr ssl, std::string alpn_preference = {});

    // Makes a client offer the newest session cached under `key` when its
    // handshake starts, and store the sessions it receives there.
    void use_session_cache(std::shared_ptr<SessionCache> cache, std::string key);

    OpensslBackend(const OpensslBackend&) = delete;
    OpensslBackend& operator=(const OpensslBackend&) = delete;

    HandshakeProgress handshake(gsl::span<std::byte> input, ByteQueue& output) override;
    DecryptProgress decrypt(gsl::span<std::byte> input, ByteQueue& plaintext, ByteQueue& output) override;
    void encrypt(gsl::span<const std::byte> plaintext, ByteQueue& output) override;
    [[nodiscard]] std::size_t max_plaintext_chunk() const override;
    void shutdown(ByteQueue& output) override;
    [[nodiscard]] ConnectionInfo connection_info() const override;

private:
    // Returns whether the post-handshake exchange is complete.
    bool continue_post_handshake();
    RecordEvent read_records(ByteQueue& plaintext);

    SslPtr ssl_;
    QueueBioBuffers buffers_;  // what ssl_'s BIO reads and writes during a call
    ConnectionState state_;
    bool established_ = false;      // the first handshake completed
    bool session_offered_ = false;  // the session cache was consulted
    bool close_received_ = false;   // SSL_read reported the peer's close_notify
    ByteQueue held_plaintext_;      // read during a renegotiation, returned by the next decrypt()
};

} // namespace schan::openssl
