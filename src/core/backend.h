// The interface between the core session and a TLS provider (SChannel or
// OpenSSL). The core owns every buffer and does the record framing; a backend
// only turns whole records into tokens, plaintext and events.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include <gsl/gsl>

#include "core/byte_queue.h"
#include "core/config.h"

namespace schan {

enum class Role { client, server };

struct HandshakeProgress {
    std::size_t consumed = 0;  // input bytes the provider used
    bool complete = false;     // the handshake (or post-handshake exchange) finished
    // The provider needs more records than the unused input contains
    // (SEC_E_INCOMPLETE_MESSAGE): the core calls again only once more arrive.
    bool needs_more_input = false;
};

enum class RecordEvent {
    none,
    close_notify,  // the peer's close_notify was received
    renegotiate,   // a handshake message arrived: call handshake() with the rest of the input
};

struct DecryptProgress {
    std::size_t consumed = 0;
    RecordEvent event = RecordEvent::none;
    bool needs_more_input = false;  // as in HandshakeProgress
};

class Backend {
public:
    virtual ~Backend() = default;

    // Advances the handshake. `input` holds only complete records and may be
    // empty (the client's first call). Tokens for the peer go to `output`.
    // Bytes after `consumed` were not used and are offered again later, for
    // example application data that followed the server's Finished.
    virtual HandshakeProgress handshake(gsl::span<std::byte> input, ByteQueue& output) = 0;

    // Decrypts records from `input` (complete records only, possibly none,
    // and the backend may decrypt them in place) into `plaintext`. Stops
    // after close_notify or a handshake message, reporting it as the event.
    // Alerts or responses the provider produces go to `output`.
    virtual DecryptProgress decrypt(gsl::span<std::byte> input, ByteQueue& plaintext,
                                    ByteQueue& output) = 0;

    // Encrypts at most max_plaintext_chunk() bytes into records appended to `output`.
    virtual void encrypt(gsl::span<const std::byte> plaintext, ByteQueue& output) = 0;

    // The largest plaintext that one encrypt() call accepts.
    [[nodiscard]] virtual std::size_t max_plaintext_chunk() const = 0;

    // Appends close_notify to `output`.
    virtual void shutdown(ByteQueue& output) = 0;

    // Reports what was negotiated; called once the handshake is complete.
    [[nodiscard]] virtual ConnectionInfo connection_info() const = 0;
};

// Implemented by the backend compiled into the library.
std::unique_ptr<Backend> make_client_backend(const Config& config, const std::string& server_name);
// Requires config.credentials.
std::unique_ptr<Backend> make_server_backend(const Config& config);
const char* backend_name() noexcept;

} // namespace schan
