// A schan client session and a schan server session connected in memory:
// every byte one side outputs is fed to the other, in whole flights.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "schan/schan.h"

namespace schan::kit {

struct SessionFree {
    void operator()(schan_session* session) const { schan_session_free(session); }
};
using SessionPtr = std::unique_ptr<schan_session, SessionFree>;

struct ConfigFree {
    void operator()(schan_config* config) const { schan_config_free(config); }
};
using ConfigPtr = std::unique_ptr<schan_config, ConfigFree>;

class MemoryPair {
public:
    // Takes ownership of both sessions.
    MemoryPair(SessionPtr client, SessionPtr server);

    // Feeds at most `size` bytes per schan_feed call, each followed by
    // schan_step or schan_decrypt; 0 (the default) feeds what the input
    // queue takes.
    void set_piece_size(std::size_t size) { piece_size_ = size; }

    // Runs both handshakes until each side returned SCHAN_OK or failed, or
    // neither can make progress. Returns true when both completed;
    // client_status() and server_status() give each side's last status.
    bool handshake();

    // Encrypts `data` on one side and decrypts it on the other. Returns ""
    // on success, otherwise what went wrong.
    std::string client_to_server(const std::string& data);
    std::string server_to_client(const std::string& data);

    // Sends `data` from the server, then ends the client's transport
    // without close_notify (schan_feed_eof). Returns the client's plaintext;
    // `status` receives the schan_decrypt status that ended the read.
    std::string truncated_server_to_client(const std::string& data, schan_status& status);

    // Sends close_notify from the client and reads it on the server
    // (SCHAN_CLOSED), then sends the server's close_notify to the client.
    // Returns "" on success, otherwise what went wrong.
    std::string close();

    [[nodiscard]] schan_session* client() const { return client_.session.get(); }
    [[nodiscard]] schan_session* server() const { return server_.session.get(); }
    [[nodiscard]] schan_status client_status() const { return client_.status; }
    [[nodiscard]] schan_status server_status() const { return server_.status; }

    // Both sides' last status and schan_last_error(), for assertion messages.
    [[nodiscard]] std::string describe() const;

private:
    struct Side {
        const char* name;
        SessionPtr session;
        std::string inbound;  // bytes the other side sent, not yet fed
        schan_status status = SCHAN_NEED_INPUT;
    };

    static void transfer(Side& from, Side& to);
    void feed(Side& side) const;
    std::string send(Side& from, Side& to, const std::string& data) const;
    std::string receive(Side& side, Side& other, std::size_t length, std::string& plaintext) const;
    std::string deliver(Side& from, Side& to, const std::string& data) const;
    static std::string describe(const Side& side);

    Side client_;
    Side server_;
    std::size_t piece_size_ = 0;
};

} // namespace schan::kit
