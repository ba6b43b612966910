#include "core/session.h"

#include <algorithm>
#include <new>
#include <utility>

#include "core/error.h"
#include "core/record.h"

namespace schan {

namespace {

std::string version_name(std::uint16_t version)
{
    switch (version) {
    case 0x0301: return "TLSv1.0";
    case 0x0302: return "TLSv1.1";
    case 0x0303: return "TLSv1.2";
    case 0x0304: return "TLSv1.3";
    default: return hex(version, 4);
    }
}

} // namespace

Session::Session(Role role, std::unique_ptr<Backend> backend, std::uint16_t min_version)
    : role_(role), backend_(std::move(backend)), min_version_(min_version)
{
    // The queues start empty and grow to the sizes the traffic needs, so an
    // idle session holds only what its handshake used.
    Expects(backend_ != nullptr);
}

const ConnectionInfo* Session::connection_info() const noexcept
{
    return info_ ? &*info_ : nullptr;
}

BufferUsage Session::buffer_usage() const noexcept
{
    return BufferUsage{input_.size(), output_.size(), plaintext_.size(),
                       input_.capacity() + output_.capacity() + plaintext_.capacity()};
}

schan_status Session::reject(schan_status status, const std::string& message)
{
    // A failed session keeps describing its failure.
    if (state_ == SCHAN_STATE_FAILED)
        return status;
    last_status_ = status;
    last_error_ = message;
    last_backend_error_ = 0;
    return status;
}

schan_status Session::fail_session(schan_status status, const std::string& message,
                                   std::uint64_t backend_code)
{
    state_ = SCHAN_STATE_FAILED;
    failure_ = status;
    last_status_ = status;
    last_error_ = message;
    last_backend_error_ = backend_code;
    return status;
}

template <typename Operation>
schan_status Session::guarded(const char* operation, Operation&& body)
{
    try {
        return body();
    } catch (const Error& error) {
        return fail_session(error.status(), std::string(operation) + ": " + error.what(),
                            error.backend_code());
    } catch (const std::bad_alloc&) {
        return fail_session(SCHAN_E_OUT_OF_MEMORY, std::string(operation) + ": out of memory", 0);
    } catch (const std::exception& error) {
        return fail_session(SCHAN_E_INTERNAL, std::string(operation) + ": " + error.what(), 0);
    }
}

schan_status Session::feed(gsl::span<const std::byte> data, std::size_t& consumed)
{
    consumed = 0;
    if (state_ == SCHAN_STATE_FAILED)
        return failure_;
    if (input_ended_)
        return reject(SCHAN_E_INVALID_STATE, "feed: the end of stream was already reported");

    consumed = std::min(data.size(), kInputCapacity - input_.size());
    return guarded("feed", [&] {
        input_.append(data.first(consumed));
        return SCHAN_OK;
    });
}

schan_status Session::feed_eof()
{
    if (state_ == SCHAN_STATE_FAILED)
        return failure_;
    input_ended_ = true;
    return SCHAN_OK;
}

schan_status Session::step()
{
    if (state_ == SCHAN_STATE_FAILED)
        return failure_;

    return guarded("handshake", [&] {
        if (state_ == SCHAN_STATE_HANDSHAKE || state_ == SCHAN_STATE_RENEGOTIATING)
            return run_handshake();
        return output_.empty() ? SCHAN_OK : SCHAN_HAVE_OUTPUT;
    });
}

schan_status Session::run_handshake()
{
    for (;;) {
        auto records = input_.data().first(complete_records_length(input_.data()));
        // A server's handshake starts with the client's ClientHello, so a
        // server never calls the backend without records before that.
        if (records.empty() && role_ == Role::server && state_ == SCHAN_STATE_HANDSHAKE)
            break;
        if (awaited_input_ > 0 && records.size() <= awaited_input_)
            break;
        const auto progress = backend_->handshake(records, output_);
        input_.consume(progress.consumed);
        awaited_input_ = progress.needs_more_input ? records.size() - progress.consumed : 0;

        if (progress.complete) {
            complete_handshake();
            break;
        }
        if (progress.consumed == 0)
            break;
    }

    if (!output_.empty())
        return SCHAN_HAVE_OUTPUT;
    if (state_ == SCHAN_STATE_OPEN)
        return SCHAN_OK;
    if (input_ended_ && state_ == SCHAN_STATE_RENEGOTIATING)
        fail(SCHAN_E_TRUNCATED, "the transport ended during a post-handshake exchange, before close_notify");
    if (input_ended_)
        fail(SCHAN_E_HANDSHAKE_FAILED, "the transport ended before the handshake was complete");
    return SCHAN_NEED_INPUT;
}

void Session::complete_handshake()
{
    const bool first = state_ == SCHAN_STATE_HANDSHAKE;
    // A post-handshake exchange after schan_shutdown() ends in CLOSING again.
    state_ = close_sent_ ? SCHAN_STATE_CLOSING : SCHAN_STATE_OPEN;
    if (!first)
        return;

    info_ = backend_->connection_info();
    if (info_->protocol < min_version_)
        fail(SCHAN_E_UNSUPPORTED_VERSION, "the peer negotiated " + version_name(info_->protocol) +
                                              ", below the configured minimum " +
                                              version_name(min_version_));
}

// Gives the backend every complete record and returns whether anything
// happened: input used, plaintext produced or an event reported.
bool Session::decrypt_available()
{
    const std::size_t complete = complete_records_length(input_.data());
    if (awaited_input_ > 0 && complete <= awaited_input_)
        return false;
    auto records = input_.data().first(complete);
    const std::size_t plaintext_before = plaintext_.size();
    const std::size_t output_before = output_.size();

    const auto progress = backend_->decrypt(records, plaintext_, output_);
    input_.consume(progress.consumed);
    awaited_input_ = progress.needs_more_input ? complete - progress.consumed : 0;

    if (progress.event == RecordEvent::close_notify) {
        close_received_ = true;
        state_ = close_sent_ ? SCHAN_STATE_CLOSED : SCHAN_STATE_CLOSING;
    } else if (progress.event == RecordEvent::renegotiate) {
        state_ = SCHAN_STATE_RENEGOTIATING;
    }

    const bool progressed = progress.consumed > 0 || progress.event != RecordEvent::none ||
                            plaintext_.size() != plaintext_before || output_.size() != output_before;
    if (!progressed && complete > 0 && !progress.needs_more_input)
        fail(SCHAN_E_INTERNAL, "the TLS provider made no progress on " + std::to_string(complete) +
                                   " bytes of complete records");
    return progressed;
}

schan_status Session::decrypt(gsl::span<std::byte> buffer, std::size_t& written)
{
    written = 0;
    if (state_ == SCHAN_STATE_FAILED)
        return failure_;
    if (state_ == SCHAN_STATE_HANDSHAKE)
        return reject(SCHAN_E_INVALID_STATE,
                      "decrypt: the handshake is not complete; call schan_step until it returns SCHAN_OK");

    return guarded("decrypt", [&] {
        for (;;) {
            if (!plaintext_.empty()) {
                written = plaintext_.read_into(buffer);
                return SCHAN_OK;
            }
            if (close_received_)
                return SCHAN_CLOSED;

            if (state_ == SCHAN_STATE_RENEGOTIATING) {
                const schan_status status = run_handshake();
                if (state_ == SCHAN_STATE_RENEGOTIATING)
                    return status;
                continue;
            }

            if (decrypt_available())
                continue;

            if (!output_.empty())
                return SCHAN_HAVE_OUTPUT;
            if (input_ended_) {
                std::string message = "the transport ended without the peer's close_notify";
                if (!input_.empty())
                    message += " (" + std::to_string(input_.size()) + " bytes of an incomplete record pending)";
                fail(SCHAN_E_TRUNCATED, message);
            }
            return SCHAN_NEED_INPUT;
        }
    });
}

schan_status Session::encrypt(gsl::span<const std::byte> plaintext, std::size_t& consumed)
{
    consumed = 0;
    if (state_ == SCHAN_STATE_FAILED)
        return failure_;
    if (state_ == SCHAN_STATE_HANDSHAKE)
        return reject(SCHAN_E_INVALID_STATE,
                      "encrypt: the handshake is not complete; call schan_step until it returns SCHAN_OK");
    if (close_sent_)
        return reject(SCHAN_E_INVALID_STATE, "encrypt: close_notify was already sent by schan_shutdown");

    // While a post-handshake exchange runs, records cannot be protected yet:
    // the caller must first feed the peer's input and call schan_decrypt.
    if (state_ == SCHAN_STATE_RENEGOTIATING)
        return output_.empty() ? SCHAN_NEED_INPUT : SCHAN_HAVE_OUTPUT;

    return guarded("encrypt", [&] {
        const std::size_t chunk_limit = backend_->max_plaintext_chunk();
        while (consumed < plaintext.size() && output_.size() < kOutputLimit) {
            const std::size_t chunk = std::min(plaintext.size() - consumed, chunk_limit);
            backend_->encrypt(plaintext.subspan(consumed, chunk), output_);
            consumed += chunk;
        }
        return output_.empty() ? SCHAN_OK : SCHAN_HAVE_OUTPUT;
    });
}

schan_status Session::shutdown()
{
    if (state_ == SCHAN_STATE_FAILED)
        return failure_;
    if (state_ == SCHAN_STATE_HANDSHAKE)
        return reject(SCHAN_E_INVALID_STATE, "shutdown: the handshake is not complete");
    if (close_sent_)
        return output_.empty() ? SCHAN_OK : SCHAN_HAVE_OUTPUT;

    return guarded("shutdown", [&] {
        backend_->shutdown(output_);
        close_sent_ = true;
        state_ = close_received_ ? SCHAN_STATE_CLOSED : SCHAN_STATE_CLOSING;
        return output_.empty() ? SCHAN_OK : SCHAN_HAVE_OUTPUT;
    });
}

schan_status Session::take_output(gsl::span<std::byte> buffer, std::size_t& written)
{
    written = output_.read_into(buffer);
    return output_.empty() ? SCHAN_OK : SCHAN_HAVE_OUTPUT;
}

} // namespace schan
