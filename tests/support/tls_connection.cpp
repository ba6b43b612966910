// TlsConnection: drives a schan session over a blocking socket.
#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "support/peers.h"

namespace schan::test {

namespace {

constexpr std::size_t kReceiveSize = 65536;
constexpr std::size_t kPlaintextBuffer = 16384;

// schan_feed calls in a row that may take no byte before the session counts
// as stuck. A full input queue takes nothing once, then schan_step or
// schan_decrypt must make room.
constexpr int kMaxIdleFeeds = 3;

} // namespace

TlsConnection::TlsConnection(schan_session* session, Socket socket, FeedPlan plan)
    : session_(session), socket_(std::move(socket)), plan_(plan),
      random_state_(plan.random_seed == 0 ? 1u : plan.random_seed)
{
    if (session_ == nullptr)
        throw std::invalid_argument("TlsConnection: the session is NULL");
}

TlsConnection::~TlsConnection()
{
    schan_session_free(session_);
}

std::string TlsConnection::error() const
{
    return schan_last_error(session_);
}

// xorshift32: a fixed sequence per seed, so a failing split can be replayed.
std::size_t TlsConnection::next_chunk_size(std::size_t available)
{
    if (plan_.chunk == 0)
        return available;
    std::size_t limit = plan_.chunk;
    if (plan_.random_seed != 0) {
        random_state_ ^= random_state_ << 13;
        random_state_ ^= random_state_ >> 17;
        random_state_ ^= random_state_ << 5;
        limit = 1 + random_state_ % plan_.chunk;
    }
    return std::min(limit, available);
}

schan_status TlsConnection::flush()
{
    std::vector<std::uint8_t> buffer(kReceiveSize);
    while (schan_output_size(session_) > 0) {
        std::size_t written = 0;
        const schan_status status = schan_take_output(session_, buffer.data(), buffer.size(), &written);
        if (status < 0)
            return status;
        socket_.send_all(buffer.data(), written);
    }
    return SCHAN_OK;
}

schan_status TlsConnection::receive_and_feed()
{
    if (pending_.empty()) {
        if (end_of_stream_)
            throw std::runtime_error("the session asked for more input after schan_feed_eof; last error: '" +
                                     error() + "'");
        std::vector<std::uint8_t> buffer(kReceiveSize);
        const std::size_t received = socket_.receive(buffer.data(), buffer.size());
        if (received == 0) {
            end_of_stream_ = true;
            return schan_feed_eof(session_);
        }
        pending_.assign(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(received));
    }

    std::size_t consumed = 0;
    const schan_status status = schan_feed(session_, pending_.data(), next_chunk_size(pending_.size()), &consumed);
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(consumed));
    if (status < 0)
        return status;

    idle_feeds_ = consumed == 0 ? idle_feeds_ + 1 : 0;
    if (idle_feeds_ > kMaxIdleFeeds)
        throw std::runtime_error("schan_feed took no byte " + std::to_string(idle_feeds_) +
                                 " times in a row although the session asked for input");
    return status;
}

schan_status TlsConnection::handshake()
{
    for (;;) {
        const schan_status status = schan_step(session_);
        if (status == SCHAN_HAVE_OUTPUT) {
            flush();
            continue;
        }
        if (status == SCHAN_NEED_INPUT) {
            const schan_status fed = receive_and_feed();
            if (fed < 0)
                return fed;
            continue;
        }
        if (status < 0) {
            // Send any alert the provider queued, so the peer logs the reason.
            try {
                flush();
            } catch (const std::exception&) {
            }
        }
        return status;
    }
}

// Runs a post-handshake exchange (renegotiation, TLS 1.3 KeyUpdate or
// tickets) that blocks schan_encrypt. Plaintext that arrives meanwhile is
// kept for the next read().
schan_status TlsConnection::finish_post_handshake()
{
    std::vector<std::uint8_t> buffer(kPlaintextBuffer);
    while (schan_get_state(session_) == SCHAN_STATE_RENEGOTIATING) {
        std::size_t written = 0;
        const schan_status status = schan_decrypt(session_, buffer.data(), buffer.size(), &written);
        if (status == SCHAN_OK) {
            unread_.append(reinterpret_cast<const char*>(buffer.data()), written);
        } else if (status == SCHAN_HAVE_OUTPUT) {
            flush();
        } else if (status == SCHAN_NEED_INPUT) {
            flush();
            // The exchange may have finished inside this call: then no more input is owed.
            if (schan_get_state(session_) != SCHAN_STATE_RENEGOTIATING)
                break;
            const schan_status fed = receive_and_feed();
            if (fed < 0)
                return fed;
        } else {
            return status;
        }
    }
    return SCHAN_OK;
}

schan_status TlsConnection::write(const std::string& data)
{
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(data.data());
    std::size_t offset = 0;
    while (offset < data.size()) {
        std::size_t consumed = 0;
        const schan_status status = schan_encrypt(session_, bytes + offset, data.size() - offset, &consumed);
        offset += consumed;

        if (status == SCHAN_HAVE_OUTPUT) {
            flush();
        } else if (status == SCHAN_NEED_INPUT) {
            const schan_status finished = finish_post_handshake();
            if (finished < 0 || finished == SCHAN_CLOSED)
                return finished;
        } else if (status == SCHAN_OK) {
            if (consumed == 0)
                throw std::runtime_error("schan_encrypt returned SCHAN_OK but took none of the " +
                                         std::to_string(data.size() - offset) + " remaining bytes");
        } else {
            return status;
        }
    }
    flush();
    return SCHAN_OK;
}

std::string TlsConnection::read(std::size_t length, schan_status& status)
{
    std::string result = unread_.substr(0, std::min(length, unread_.size()));
    unread_.erase(0, result.size());

    std::vector<std::uint8_t> buffer(kPlaintextBuffer);
    while (result.size() < length) {
        const std::size_t capacity = std::min(buffer.size(), length - result.size());
        std::size_t written = 0;
        const schan_status decrypted = schan_decrypt(session_, buffer.data(), capacity, &written);

        if (decrypted == SCHAN_OK) {
            result.append(reinterpret_cast<const char*>(buffer.data()), written);
        } else if (decrypted == SCHAN_HAVE_OUTPUT) {
            flush();
        } else if (decrypted == SCHAN_NEED_INPUT) {
            flush();
            const schan_status fed = receive_and_feed();
            if (fed < 0) {
                status = fed;
                return result;
            }
        } else {
            if (decrypted < 0) {
                try {
                    flush();  // an alert the provider queued
                } catch (const std::exception&) {
                }
            }
            status = decrypted;
            return result;
        }
    }
    status = SCHAN_OK;
    return result;
}

std::string TlsConnection::read_to_end(schan_status& status)
{
    return read(std::numeric_limits<std::size_t>::max(), status);
}

schan_status TlsConnection::shutdown()
{
    const schan_status status = schan_shutdown(session_);
    if (status != SCHAN_HAVE_OUTPUT)
        return status;
    return flush();
}

} // namespace schan::test
