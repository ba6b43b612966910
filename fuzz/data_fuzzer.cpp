// The data phase: every input starts from the same in-memory handshake
// between schan's client and server, then runs a sequence of operations
// (see data_operations.h) that encrypt, split, corrupt, inject, truncate,
// close and end the streams between them. Besides the sanitizers it checks
// one property: whatever plaintext a side decrypts is exactly the next part
// of what the other side encrypted, since no mutation can forge a record.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "data_operations.h"
#include "fuzz_support.h"

namespace {

using schan::fuzz::DataOperation;
using schan::fuzz::RandomStream;

schan_config* client_config = nullptr;
schan_config* server_config = nullptr;

struct Side {
    const char* name;
    schan_session* session;
    RandomStream stream;
    std::uint8_t salt;          // makes the two plaintext streams differ
    std::string inbound;        // bytes in flight to this side
    std::uint64_t sent = 0;     // plaintext bytes this side encrypted
    std::uint64_t received = 0; // plaintext bytes this side decrypted
};

// Byte `position` of the plaintext stream a side with `salt` encrypts.
std::uint8_t stream_byte(std::uint8_t salt, std::uint64_t position)
{
    return static_cast<std::uint8_t>(position * 31 + (position >> 8) + salt);
}

class Reader {
public:
    Reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

    [[nodiscard]] bool done() const { return offset_ >= size_; }

    std::uint8_t next() { return done() ? 0 : data_[offset_++]; }

    std::string take(std::size_t length)
    {
        const std::size_t count = std::min(length, size_ - offset_);
        std::string bytes(reinterpret_cast<const char*>(data_ + offset_), count);
        offset_ += count;
        return bytes;
    }

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t offset_ = 0;
};

void check_plaintext(const Side& receiver, const Side& sender, const std::uint8_t* plaintext, std::size_t length)
{
    if (receiver.received + length > sender.sent) {
        std::fprintf(stderr, "%s decrypted %zu bytes more than %s encrypted\n", receiver.name,
                     static_cast<std::size_t>(receiver.received + length - sender.sent), sender.name);
        std::abort();
    }
    for (std::size_t i = 0; i < length; ++i) {
        if (plaintext[i] != stream_byte(sender.salt, receiver.received + i)) {
            std::fprintf(stderr, "%s decrypted a wrong byte at stream position %llu\n", receiver.name,
                         static_cast<unsigned long long>(receiver.received + i));
            std::abort();
        }
    }
}

void encrypt(Side& side, Side& other, std::size_t length)
{
    std::vector<std::uint8_t> plaintext(length);
    for (std::size_t i = 0; i < length; ++i)
        plaintext[i] = stream_byte(side.salt, side.sent + i);

    schan::fuzz::use_random_stream(side.stream);
    std::size_t consumed = 0;
    schan_encrypt(side.session, plaintext.data(), plaintext.size(), &consumed);
    side.sent += consumed;
    schan::fuzz::drain_output(side.session, other.inbound);
}

void decrypt_available(Side& side, Side& other, std::size_t capacity)
{
    std::vector<std::uint8_t> buffer(capacity);
    schan::fuzz::use_random_stream(side.stream);
    for (int round = 0; round < 256; ++round) {
        std::size_t written = 0;
        const schan_status status = schan_decrypt(side.session, buffer.data(), buffer.size(), &written);
        schan::fuzz::drain_output(side.session, other.inbound);
        if (status == SCHAN_OK) {
            check_plaintext(side, other, buffer.data(), written);
            side.received += written;
            continue;
        }
        if (status != SCHAN_HAVE_OUTPUT)
            return;
    }
}

void deliver(Side& side, Side& other, std::uint8_t argument)
{
    const std::size_t limit = static_cast<std::size_t>(argument) * argument + 1;
    std::string piece = side.inbound.substr(0, limit);
    const std::size_t before = piece.size();
    schan::fuzz::feed_some(side.session, piece);
    side.inbound.erase(0, before - piece.size());
    decrypt_available(side, other, static_cast<std::size_t>(argument) * 61 + 1);
}

void corrupt(Side& side, std::uint8_t argument, std::uint8_t value)
{
    if (side.inbound.empty())
        return;
    const std::size_t position = static_cast<std::size_t>(argument) * 67 % side.inbound.size();
    side.inbound[position] = static_cast<char>(side.inbound[position] ^ (value | 1));
}

void truncate(Side& side, std::uint8_t argument)
{
    side.inbound.resize(std::min<std::size_t>(side.inbound.size(), argument * 64u));
}

void run_operation(Reader& input, Side& client, Side& server)
{
    const auto operation = static_cast<DataOperation>(input.next() % static_cast<std::uint8_t>(DataOperation::count));
    const std::uint8_t argument = input.next();
    switch (operation) {
    case DataOperation::client_encrypt: encrypt(client, server, argument * 97u + 1); break;
    case DataOperation::server_encrypt: encrypt(server, client, argument * 97u + 1); break;
    case DataOperation::to_server: deliver(server, client, argument); break;
    case DataOperation::to_client: deliver(client, server, argument); break;
    case DataOperation::corrupt_to_server: corrupt(server, argument, input.next()); break;
    case DataOperation::corrupt_to_client: corrupt(client, argument, input.next()); break;
    case DataOperation::inject_to_server: server.inbound += input.take(argument); break;
    case DataOperation::inject_to_client: client.inbound += input.take(argument); break;
    case DataOperation::truncate_to_server: truncate(server, argument); break;
    case DataOperation::truncate_to_client: truncate(client, argument); break;
    case DataOperation::client_shutdown:
        schan::fuzz::use_random_stream(client.stream);
        schan_shutdown(client.session);
        schan::fuzz::drain_output(client.session, server.inbound);
        break;
    case DataOperation::server_shutdown:
        schan::fuzz::use_random_stream(server.stream);
        schan_shutdown(server.session);
        schan::fuzz::drain_output(server.session, client.inbound);
        break;
    case DataOperation::client_eof:
        schan_feed_eof(client.session);
        decrypt_available(client, server, 4096);
        break;
    case DataOperation::server_eof:
        schan_feed_eof(server.session);
        decrypt_available(server, client, 4096);
        break;
    case DataOperation::count: break;
    }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    schan::fuzz::install_deterministic_random();
    client_config = schan::fuzz::make_client_config();
    server_config = schan::fuzz::make_server_config();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    schan::fuzz::reset_random();
    Side client{"client", nullptr, RandomStream::client, 0x11, {}};
    Side server{"server", nullptr, RandomStream::server, 0x5A, {}};
    schan::fuzz::use_random_stream(RandomStream::client);
    if (schan_client_new(client_config, "localhost", &client.session) != SCHAN_OK)
        std::abort();
    schan::fuzz::use_random_stream(RandomStream::server);
    if (schan_server_new(server_config, &server.session) != SCHAN_OK)
        std::abort();

    schan::fuzz::Transcript transcript;
    if (!schan::fuzz::run_handshake(client.session, server.session, transcript)) {
        std::fprintf(stderr, "the fixed handshake failed: client: %s; server: %s\n", schan_last_error(client.session),
                     schan_last_error(server.session));
        std::abort();
    }
    client.inbound = std::move(transcript.pending_to_client);
    server.inbound = std::move(transcript.pending_to_server);

    Reader input(data, size);
    for (int count = 0; count < 4096 && !input.done(); ++count)
        run_operation(input, client, server);

    schan_session_free(client.session);
    schan_session_free(server.session);
    return 0;
}
