#include "memory_pair.h"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace schan::kit {

namespace {

// More rounds than a handshake of the test PKI's longest chain fed in 1-byte
// pieces takes. The loop also ends as soon as neither side makes progress.
constexpr int kMaxHandshakeRounds = 100000;

const std::uint8_t* bytes(const std::string& text)
{
    return reinterpret_cast<const std::uint8_t*>(text.data());
}

} // namespace

MemoryPair::MemoryPair(SessionPtr client, SessionPtr server)
    : client_{"client", std::move(client), {}, SCHAN_NEED_INPUT},
      server_{"server", std::move(server), {}, SCHAN_NEED_INPUT}
{
}

void MemoryPair::transfer(Side& from, Side& to)
{
    std::uint8_t buffer[16384];
    while (schan_output_size(from.session.get()) > 0) {
        std::size_t written = 0;
        schan_take_output(from.session.get(), buffer, sizeof buffer, &written);
        to.inbound.append(reinterpret_cast<const char*>(buffer), written);
    }
}

// Feeds one piece, or what the input queue takes; the rest waits for the next call.
void MemoryPair::feed(Side& side) const
{
    std::size_t budget = piece_size_ > 0 ? piece_size_ : side.inbound.size();
    while (!side.inbound.empty() && budget > 0) {
        std::size_t consumed = 0;
        const std::size_t length = std::min(budget, side.inbound.size());
        if (schan_feed(side.session.get(), bytes(side.inbound), length, &consumed) != SCHAN_OK || consumed == 0)
            return;
        side.inbound.erase(0, consumed);
        budget -= consumed;
    }
}

bool MemoryPair::handshake()
{
    for (int round = 0; round < kMaxHandshakeRounds; ++round) {
        bool progress = false;
        for (Side* side : {&client_, &server_}) {
            Side& other = side == &client_ ? server_ : client_;
            if (side->status == SCHAN_OK || side->status < 0)
                continue;

            const std::size_t waiting = side->inbound.size();
            feed(*side);
            side->status = schan_step(side->session.get());
            const std::size_t sent = other.inbound.size();
            transfer(*side, other);  // also an alert queued before a failure
            progress = progress || waiting != side->inbound.size() || sent != other.inbound.size() ||
                       side->status == SCHAN_OK;
        }

        // After one side fails, the other still reads the alert it sent.
        const bool client_done = client_.status == SCHAN_OK || client_.status < 0;
        const bool server_done = server_.status == SCHAN_OK || server_.status < 0;
        if ((client_done && server_done) || !progress)
            return client_.status == SCHAN_OK && server_.status == SCHAN_OK;
    }
    return false;
}

std::string MemoryPair::send(Side& from, Side& to, const std::string& data) const
{
    std::size_t offset = 0;
    while (offset < data.size()) {
        std::size_t consumed = 0;
        const schan_status status =
            schan_encrypt(from.session.get(), bytes(data) + offset, data.size() - offset, &consumed);
        if (status < 0)
            return std::string("schan_encrypt on the ") + from.name + " returned " + schan_status_name(status) +
                   ": " + schan_last_error(from.session.get());
        offset += consumed;
        transfer(from, to);
    }
    return "";
}

// Decrypts until `length` bytes of plaintext arrived, or, for length 0,
// until the peer's close_notify.
std::string MemoryPair::receive(Side& side, Side& other, std::size_t length, std::string& plaintext) const
{
    std::uint8_t buffer[16384];
    for (;;) {
        const std::size_t waiting = side.inbound.size();
        feed(side);
        std::size_t written = 0;
        const schan_status status = schan_decrypt(side.session.get(), buffer, sizeof buffer, &written);
        plaintext.append(reinterpret_cast<const char*>(buffer), written);
        side.status = status;
        transfer(side, other);  // a response to a post-handshake message

        if (length > 0 && plaintext.size() >= length)
            return "";
        if (status == SCHAN_CLOSED)
            return length == 0 ? "" : std::string("the ") + side.name + " received close_notify early";
        if (status < 0)
            return std::string("schan_decrypt on the ") + side.name + " returned " + schan_status_name(status) +
                   ": " + schan_last_error(side.session.get());
        if (status == SCHAN_NEED_INPUT && (side.inbound.empty() || side.inbound.size() == waiting))
            return std::string("the ") + side.name + " ran out of input after " + std::to_string(plaintext.size()) +
                   " bytes of plaintext";
    }
}

std::string MemoryPair::deliver(Side& from, Side& to, const std::string& data) const
{
    std::string failure = send(from, to, data);
    std::string plaintext;
    if (failure.empty())
        failure = receive(to, from, data.size(), plaintext);
    if (failure.empty() && plaintext != data)
        failure = std::string("the ") + to.name + " decrypted other bytes than the " + from.name + " sent";
    return failure;
}

std::string MemoryPair::client_to_server(const std::string& data)
{
    return deliver(client_, server_, data);
}

std::string MemoryPair::server_to_client(const std::string& data)
{
    return deliver(server_, client_, data);
}

std::string MemoryPair::truncated_server_to_client(const std::string& data, schan_status& status)
{
    status = SCHAN_OK;
    const std::string failure = send(server_, client_, data);
    if (!failure.empty())
        return failure;

    std::string plaintext;
    std::uint8_t buffer[16384];
    bool end_of_stream = false;
    for (;;) {
        feed(client_);
        if (client_.inbound.empty() && !end_of_stream) {
            schan_feed_eof(client_.session.get());
            end_of_stream = true;
        }
        std::size_t written = 0;
        status = schan_decrypt(client_.session.get(), buffer, sizeof buffer, &written);
        plaintext.append(reinterpret_cast<const char*>(buffer), written);
        transfer(client_, server_);
        if (status < 0 || status == SCHAN_CLOSED)
            return plaintext;
        if (status == SCHAN_NEED_INPUT && end_of_stream && client_.inbound.empty())
            return plaintext;  // the caller's check of `status` fails
    }
}

std::string MemoryPair::close()
{
    for (auto [from, to] : {std::pair{&client_, &server_}, std::pair{&server_, &client_}}) {
        const schan_status status = schan_shutdown(from->session.get());
        if (status < 0)
            return std::string("schan_shutdown on the ") + from->name + " returned " + schan_status_name(status) +
                   ": " + schan_last_error(from->session.get());
        transfer(*from, *to);

        std::string plaintext;
        std::string failure = receive(*to, *from, 0, plaintext);
        if (!failure.empty())
            return failure;
        if (!plaintext.empty())
            return std::string("the ") + to->name + " decrypted unexpected data before close_notify";
    }
    return "";
}

std::string MemoryPair::describe(const Side& side)
{
    return std::string(side.name) + " " + schan_status_name(side.status) + " (" +
           schan_last_error(side.session.get()) + ")";
}

std::string MemoryPair::describe() const
{
    return describe(client_) + "; " + describe(server_);
}

} // namespace schan::kit
