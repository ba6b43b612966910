#include "memory_link.h"

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <vector>

#include <openssl/evp.h>

#include "support/peers.h"

namespace schan::test {

namespace {

// Incremental SHA-256 over OpenSSL's EVP interface.
class Sha256 {
public:
    Sha256() : context_(EVP_MD_CTX_new())
    {
        if (!context_ || EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr) != 1)
            throw std::runtime_error("EVP_DigestInit_ex(SHA-256) failed");
    }

    void update(const void* data, std::size_t length) { EVP_DigestUpdate(context_.get(), data, length); }

    std::string finish()
    {
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int length = 0;
        EVP_DigestFinal_ex(context_.get(), digest, &length);
        return std::string(reinterpret_cast<const char*>(digest), length);
    }

private:
    struct Free {
        void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
    };
    std::unique_ptr<EVP_MD_CTX, Free> context_;
};

std::string random_bytes(std::mt19937& random, std::size_t length)
{
    std::string data(length, '\0');
    for (auto& byte : data)
        byte = static_cast<char>(random() & 0xFF);
    return data;
}

std::string sha256(const std::string& data)
{
    Sha256 digest;
    digest.update(data.data(), data.size());
    return digest.finish();
}

void check(schan_status status, schan_config* config, const char* call)
{
    if (status != SCHAN_OK)
        throw std::runtime_error(std::string(call) + " failed with " + schan_status_name(status) + ": " +
                                 schan_config_last_error(config));
}

// One direction of an exchange: what the sender still has to encrypt and
// what the receiver decrypted so far.
struct Stream {
    std::string data;
    std::size_t sent = 0;
    std::size_t received = 0;
    Sha256 received_digest;
};

} // namespace

ConfigHandle::ConfigHandle()
{
    if (schan_config_new(&config_) != SCHAN_OK)
        throw std::runtime_error("schan_config_new failed");
}

ConfigHandle::~ConfigHandle()
{
    schan_config_free(config_);
}

std::string ConfigHandle::error() const
{
    return schan_config_last_error(config_);
}

void configure_test_client(schan_config* config)
{
    check(schan_config_set_verify_mode(config, SCHAN_VERIFY_CUSTOM_ONLY), config, "schan_config_set_verify_mode");
    check(schan_config_load_ca_file(config, Pki::path("root.pem").c_str()), config, "schan_config_load_ca_file");
}

void configure_test_server(schan_config* config)
{
    check(schan_config_load_cert_chain_file(config, Pki::path("leaf-chain.pem").c_str(),
                                            Pki::path("leaf.key").c_str(), nullptr),
          config, "schan_config_load_cert_chain_file");
}

MemoryLink::MemoryLink(schan_session* client, schan_session* server, std::uint32_t seed, std::size_t max_piece)
    : random_(seed), max_piece_(max_piece)
{
    client_.session = client;
    server_.session = server;
}

MemoryLink::~MemoryLink()
{
    schan_session_free(client_.session);
    schan_session_free(server_.session);
}

std::size_t MemoryLink::random_size(std::size_t max)
{
    if (max <= 1)
        return max;
    return std::uniform_int_distribution<std::size_t>(1, max)(random_);
}

void MemoryLink::collect_output(Side& from, Side& to)
{
    std::uint8_t buffer[8192];
    std::size_t written = 0;
    while (schan_output_size(from.session) > 0) {
        schan_take_output(from.session, buffer, sizeof buffer, &written);
        to.inbound.append(reinterpret_cast<const char*>(buffer), written);
    }
}

bool MemoryLink::feed_piece(Side& side)
{
    if (side.inbound.empty())
        return false;
    const std::size_t piece = random_size(std::min(max_piece_, side.inbound.size()));
    std::size_t consumed = 0;
    schan_feed(side.session, reinterpret_cast<const std::uint8_t*>(side.inbound.data()), piece, &consumed);
    side.inbound.erase(0, consumed);
    return consumed > 0;
}

// Feeds the alert of a failed peer to `side`, so that its status reports
// the failure from its side. A TLS 1.3 client completes its handshake before the
// server checks the client certificate, so it learns of a rejection from
// its first schan_decrypt().
void MemoryLink::deliver_alert(Side& side)
{
    while (side.status != SCHAN_OK && side.status >= 0 && feed_piece(side))
        side.status = schan_step(side.session);
    if (side.status != SCHAN_OK)
        return;

    std::uint8_t buffer[1024];
    std::size_t written = 0;
    while (feed_piece(side)) {
        const schan_status status = schan_decrypt(side.session, buffer, sizeof buffer, &written);
        if (status < 0) {
            side.status = status;
            return;
        }
    }
}

bool MemoryLink::handshake()
{
    for (int round = 0; round < 100000; ++round) {
        const bool client_first = (random_() & 1) != 0;
        Side* order[2] = {client_first ? &client_ : &server_, client_first ? &server_ : &client_};
        for (Side* side : order) {
            Side& other = side == &client_ ? server_ : client_;
            if (side->status == SCHAN_OK)
                continue;

            side->status = schan_step(side->session);
            if (side->status == SCHAN_HAVE_OUTPUT)
                collect_output(*side, other);
            else if (side->status == SCHAN_NEED_INPUT)
                feed_piece(*side);
            else if (side->status != SCHAN_OK) {
                collect_output(*side, other);
                deliver_alert(other);
                return false;
            }
        }
        if (client_.status == SCHAN_OK && server_.status == SCHAN_OK)
            return true;
    }
    return false;
}

std::string MemoryLink::exchange(std::size_t length)
{
    Stream upload;    // client to server
    Stream download;  // server to client
    upload.data = random_bytes(random_, length);
    download.data = random_bytes(random_, length);

    std::vector<std::uint8_t> buffer(64 * 1024);
    for (long round = 0; round < 10000000; ++round) {
        const bool client_turn = (random_() & 1) != 0;
        Side& side = client_turn ? client_ : server_;
        Side& other = client_turn ? server_ : client_;
        Stream& outgoing = client_turn ? upload : download;
        Stream& incoming = client_turn ? download : upload;

        if ((random_() & 1) != 0 && outgoing.sent < outgoing.data.size()) {
            const std::size_t piece = random_size(std::min<std::size_t>(3 * 16384, outgoing.data.size() - outgoing.sent));
            std::size_t consumed = 0;
            const schan_status status = schan_encrypt(
                side.session, reinterpret_cast<const std::uint8_t*>(outgoing.data.data() + outgoing.sent), piece,
                &consumed);
            if (status < 0)
                return std::string(side.name) + " schan_encrypt: " + schan_status_name(status) + ": " +
                       schan_last_error(side.session);
            outgoing.sent += consumed;
            collect_output(side, other);
        } else {
            feed_piece(side);
            for (;;) {
                std::size_t written = 0;
                const std::size_t capacity = random_size(buffer.size());
                const schan_status status = schan_decrypt(side.session, buffer.data(), capacity, &written);
                if (status == SCHAN_OK) {
                    incoming.received_digest.update(buffer.data(), written);
                    incoming.received += written;
                    continue;
                }
                collect_output(side, other);
                if (status == SCHAN_HAVE_OUTPUT)
                    continue;
                if (status == SCHAN_NEED_INPUT)
                    break;
                return std::string(side.name) + " schan_decrypt: " + schan_status_name(status) + ": " +
                       schan_last_error(side.session);
            }
        }

        if (upload.received == length && download.received == length) {
            if (upload.received_digest.finish() != sha256(upload.data))
                return "the server received " + std::to_string(length) + " bytes with a different SHA-256 digest";
            if (download.received_digest.finish() != sha256(download.data))
                return "the client received " + std::to_string(length) + " bytes with a different SHA-256 digest";
            return "";
        }
        if (upload.received > length || download.received > length)
            return "more plaintext arrived than was sent";
    }
    return "the exchange made no progress: the server received " + std::to_string(upload.received) +
           " bytes, the client " + std::to_string(download.received);
}

std::string MemoryLink::close()
{
    for (Side* side : {&client_, &server_}) {
        Side& other = side == &client_ ? server_ : client_;
        const schan_status status = schan_shutdown(side->session);
        if (status != SCHAN_HAVE_OUTPUT)
            return std::string(side->name) + " schan_shutdown returned " + schan_status_name(status);
        collect_output(*side, other);
    }

    std::uint8_t buffer[1024];
    for (Side* side : {&client_, &server_}) {
        for (int round = 0; round < 100000; ++round) {
            std::size_t written = 0;
            const schan_status status = schan_decrypt(side->session, buffer, sizeof buffer, &written);
            if (status == SCHAN_CLOSED)
                break;
            if (status == SCHAN_OK)
                return std::string(side->name) + " received " + std::to_string(written) + " bytes after the exchange";
            if (status == SCHAN_NEED_INPUT && feed_piece(*side))
                continue;
            return std::string(side->name) + " schan_decrypt returned " + schan_status_name(status) +
                   " instead of SCHAN_CLOSED: " + schan_last_error(side->session);
        }
        if (schan_get_state(side->session) != SCHAN_STATE_CLOSED)
            return std::string(side->name) + " is not in SCHAN_STATE_CLOSED after both close_notify alerts";
    }
    return "";
}

} // namespace schan::test
