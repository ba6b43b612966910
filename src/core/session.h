// The session state machine and buffer management shared by every backend.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <gsl/gsl>

#include "core/backend.h"
#include "core/byte_queue.h"
#include "core/config.h"
#include "schan/schan.h"

namespace schan {

// Buffer bounds. Unprocessed input holds at most two maximum-size records, so
// a partial record that never completes pins at most one record's worth of
// memory. Encryption stops queueing once the output holds kOutputLimit bytes.
inline constexpr std::size_t kInputCapacity = 2 * (5 + 16384 + 2048);
inline constexpr std::size_t kOutputLimit = 64 * 1024;

// The bytes in a session's queues and the storage the queues keep.
struct BufferUsage {
    std::size_t input = 0;      // ciphertext received, not yet processed
    std::size_t output = 0;     // records for the peer
    std::size_t plaintext = 0;  // decrypted, not yet read by the caller
    std::size_t storage = 0;    // capacity of the three queues together
};

class Session {
public:
    // A handshake that negotiates a version below `min_version` fails.
    Session(Role role, std::unique_ptr<Backend> backend, std::uint16_t min_version);

    schan_status feed(gsl::span<const std::byte> data, std::size_t& consumed);
    schan_status feed_eof();
    schan_status step();
    schan_status encrypt(gsl::span<const std::byte> plaintext, std::size_t& consumed);
    schan_status decrypt(gsl::span<std::byte> buffer, std::size_t& written);
    schan_status shutdown();
    schan_status take_output(gsl::span<std::byte> buffer, std::size_t& written);

    [[nodiscard]] std::size_t output_size() const noexcept { return output_.size(); }
    [[nodiscard]] schan_state state() const noexcept { return state_; }
    [[nodiscard]] BufferUsage buffer_usage() const noexcept;
    [[nodiscard]] Role role() const noexcept { return role_; }

    // The negotiated parameters, or nullptr before the handshake completed.
    [[nodiscard]] const ConnectionInfo* connection_info() const noexcept;

    [[nodiscard]] const std::string& last_error() const noexcept { return last_error_; }
    [[nodiscard]] schan_status last_status() const noexcept { return last_status_; }
    [[nodiscard]] std::uint64_t last_backend_error() const noexcept { return last_backend_error_; }

    // Records a rejected call (bad argument or wrong state) without failing
    // the session, and returns the status. On a failed session the record
    // of the failure stays.
    schan_status reject(schan_status status, const std::string& message);

private:
    schan_status run_handshake();
    bool decrypt_available();
    void complete_handshake();
    schan_status fail_session(schan_status status, const std::string& message,
                              std::uint64_t backend_code);

    template <typename Operation>
    schan_status guarded(const char* operation, Operation&& body);

    Role role_;
    std::unique_ptr<Backend> backend_;
    std::uint16_t min_version_;
    schan_state state_ = SCHAN_STATE_HANDSHAKE;

    ByteQueue input_;      // ciphertext received, not yet processed
    ByteQueue output_;     // records for the peer
    ByteQueue plaintext_;  // decrypted, not yet read by the caller

    // The length of the complete records for which the backend last reported
    // needs_more_input, or 0. It is called again only once more records arrive.
    std::size_t awaited_input_ = 0;
    bool input_ended_ = false;      // the caller reported the transport's end of stream
    bool close_received_ = false;   // the peer's close_notify
    bool close_sent_ = false;       // our close_notify is queued
    std::optional<ConnectionInfo> info_;

    schan_status failure_ = SCHAN_OK;  // what every call returns once the session failed
    std::string last_error_;
    schan_status last_status_ = SCHAN_OK;
    std::uint64_t last_backend_error_ = 0;
};

} // namespace schan
