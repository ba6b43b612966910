// Two schan sessions, a client and a server, connected in memory without
// sockets. Every byte one side outputs is queued on its way to the other,
// and the link delivers queued bytes in random pieces: a flight may be
// split into many schan_feed calls or merged with the next flight.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>

#include "schan/schan.h"

namespace schan::test {

// Owns a config; frees it on destruction.
class ConfigHandle {
public:
    ConfigHandle();
    ~ConfigHandle();
    ConfigHandle(const ConfigHandle&) = delete;
    ConfigHandle& operator=(const ConfigHandle&) = delete;

    [[nodiscard]] schan_config* get() const { return config_; }
    // schan_config_last_error(), for assertion messages.
    [[nodiscard]] std::string error() const;

private:
    schan_config* config_ = nullptr;
};

// A client config that trusts root.pem only.
void configure_test_client(schan_config* config);
// A server config with leaf-chain.pem and leaf.key (DNS:localhost).
void configure_test_server(schan_config* config);

class MemoryLink {
public:
    // Takes ownership of both sessions. `max_piece` bounds the bytes of one
    // schan_feed call; the seed makes the split reproducible.
    MemoryLink(schan_session* client, schan_session* server, std::uint32_t seed, std::size_t max_piece = 20000);
    ~MemoryLink();
    MemoryLink(const MemoryLink&) = delete;
    MemoryLink& operator=(const MemoryLink&) = delete;

    // Runs both handshakes until each returns SCHAN_OK or one fails.
    // Returns true when both completed; client_status() and server_status()
    // tell the last status of each.
    bool handshake();

    // Sends `length` pseudo-random bytes each way at once, in random pieces,
    // and checks the SHA-256 digest on both ends. Returns "" on success,
    // otherwise what went wrong.
    std::string exchange(std::size_t length);

    // Sends close_notify from both sides and reads until SCHAN_CLOSED on
    // both. Returns "" on success, otherwise what went wrong.
    std::string close();

    [[nodiscard]] schan_session* client() const { return client_.session; }
    [[nodiscard]] schan_session* server() const { return server_.session; }
    [[nodiscard]] schan_status client_status() const { return client_.status; }
    [[nodiscard]] schan_status server_status() const { return server_.status; }

private:
    struct Side {
        const char* name;
        schan_session* session = nullptr;
        std::string inbound;  // bytes sent by the other side, not yet fed
        schan_status status = SCHAN_NEED_INPUT;
    };

    void collect_output(Side& from, Side& to);
    bool feed_piece(Side& side);
    void deliver_alert(Side& side);
    std::size_t random_size(std::size_t max);

    Side client_{"client", nullptr, {}, SCHAN_NEED_INPUT};
    Side server_{"server", nullptr, {}, SCHAN_NEED_INPUT};
    std::mt19937 random_;
    std::size_t max_piece_;
};

} // namespace schan::test
