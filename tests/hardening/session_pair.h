// A schan client and server connected in memory, with the bytes in flight
// kept in plain buffers the test can inspect, delay or replace. Unlike
// tests/openssl/memory_link.h it moves bytes only when asked, so a test
// decides who reads and who does not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "capi_handles.h"
#include "schan/schan.h"

namespace schan::test {

// The core's buffer counters of a session (capi_handles.h exposes them).
inline schan::BufferUsage buffer_usage(const schan_session* session)
{
    return session->core.buffer_usage();
}

// Bytes queued on their way to one side, not yet fed.
struct Inbound {
    std::string bytes;

    // Moves everything `from` has queued for the peer into this buffer.
    void collect(schan_session* from);
    // Feeds as much as `to` accepts; returns how many bytes it took.
    std::size_t feed(schan_session* to);
};

class SessionPair {
public:
    // Creates both sessions; a config may be shared with other pairs and
    // other threads. Throws std::runtime_error when a session cannot be made.
    SessionPair(const schan_config* client_config, const schan_config* server_config);
    ~SessionPair();
    SessionPair(const SessionPair&) = delete;
    SessionPair& operator=(const SessionPair&) = delete;

    // Runs both handshakes to completion. Returns "" or what failed.
    std::string handshake();

    // Sends `data` from the server (or client), delivering and decrypting
    // as it goes, and returns "" when the other side received it intact.
    std::string send(bool from_client, const std::string& data);

    // close_notify both ways; returns "" when both reach SCHAN_STATE_CLOSED.
    std::string close();

    [[nodiscard]] schan_session* client() const { return client_; }
    [[nodiscard]] schan_session* server() const { return server_; }

    Inbound to_client;
    Inbound to_server;

private:
    std::string receive(schan_session* session, Inbound& inbound, std::string& received);

    schan_session* client_ = nullptr;
    schan_session* server_ = nullptr;
};

// A client config trusting root.pem and a server config with the ECDSA
// leaf-ec.pem and its chain, which is cheaper to sign with than RSA.
void configure_pair_client(schan_config* config);
void configure_pair_server(schan_config* config);

} // namespace schan::test
