// OPENSSL_SUPPRESS_DEPRECATED: RAND_set_rand_method() is deprecated in
// OpenSSL 3 but still consulted by RAND_bytes_ex() and RAND_priv_bytes_ex(),
// which the TLS code and the default provider's key generation call.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "fuzz_support.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include <openssl/rand.h>

namespace schan::fuzz {

namespace {

// splitmix64: a small generator whose whole state is one 64-bit counter.
struct SplitMix {
    std::uint64_t state;

    std::uint64_t next()
    {
        std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
};

// Sizes of the pieces drive_session() feeds, in turn: single bytes, part
// of a record header, a whole header and pieces beyond one record, so that
// records reach the session split at every kind of boundary.
constexpr std::size_t kFeedPieces[] = {1, 5, 6, 300, 16389, 2, 4000};

constexpr std::uint64_t kClientSeed = 0x636C69656E74ULL;
constexpr std::uint64_t kServerSeed = 0x736572766572ULL;

SplitMix client_random{kClientSeed};
SplitMix server_random{kServerSeed};
SplitMix* active_random = &client_random;

int random_bytes(unsigned char* buffer, int length)
{
    for (int i = 0; i < length; ++i)
        buffer[i] = static_cast<unsigned char>(active_random->next());
    return 1;
}

int random_seed(const void*, int)
{
    return 1;
}

int random_add(const void*, int, double)
{
    return 1;
}

int random_status()
{
    return 1;
}

const RAND_METHOD deterministic_method = {
    random_seed, random_bytes, nullptr, random_add, random_bytes, random_status,
};

[[noreturn]] void abort_with(const std::string& message)
{
    std::fprintf(stderr, "fuzz setup failed: %s\n", message.c_str());
    std::abort();
}

void check(schan_status status, schan_config* config, const char* call)
{
    if (status != SCHAN_OK)
        abort_with(std::string(call) + " returned " + schan_status_name(status) + ": " +
                   schan_config_last_error(config));
}

schan_config* new_config()
{
    schan_config* config = nullptr;
    if (schan_config_new(&config) != SCHAN_OK)
        abort_with("schan_config_new failed");
    check(schan_config_set_verify_mode(config, SCHAN_VERIFY_CUSTOM_ONLY), config, "schan_config_set_verify_mode");
    check(schan_config_load_ca_file(config, pki_path("root.pem").c_str()), config, "schan_config_load_ca_file");
    check(schan_config_add_alpn(config, "h2"), config, "schan_config_add_alpn");
    check(schan_config_add_alpn(config, "http/1.1"), config, "schan_config_add_alpn");
    return config;
}

// Loads NAME.pem with the intermediate certificate that issued it, and NAME.key.
void load_ec_chain(schan_config* config, const std::string& name)
{
    const std::string chain = read_pki_file((name + ".pem").c_str()) + read_pki_file("inter.pem");
    const std::string key = read_pki_file((name + ".key").c_str());
    check(schan_config_load_cert_chain_pem(config, chain.data(), chain.size(), key.data(), key.size(), nullptr),
          config, "schan_config_load_cert_chain_pem");
}

// Lets `from` run once on its own random stream and moves its output.
schan_status step_side(schan_session* from, RandomStream stream, std::string& sent, std::string& pending)
{
    use_random_stream(stream);
    const schan_status status = schan_step(from);
    std::string output;
    drain_output(from, output);
    sent += output;
    pending += output;
    return status;
}

} // namespace

void install_deterministic_random()
{
    if (RAND_set_rand_method(&deterministic_method) != 1)
        abort_with("RAND_set_rand_method failed");
    reset_random();
}

void reset_random()
{
    client_random.state = kClientSeed;
    server_random.state = kServerSeed;
    active_random = &client_random;
}

void use_random_stream(RandomStream stream)
{
    active_random = stream == RandomStream::client ? &client_random : &server_random;
}

std::string pki_path(const char* file)
{
    return std::string(SCHAN_FUZZ_PKI_DIR) + "/" + file;
}

std::string read_pki_file(const char* file)
{
    std::ifstream stream(pki_path(file), std::ios::binary);
    if (!stream)
        abort_with("cannot open " + pki_path(file));
    return std::string(std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>());
}

schan_config* make_client_config()
{
    schan_config* config = new_config();
    load_ec_chain(config, "client-ec");
    return config;
}

schan_config* make_server_config()
{
    schan_config* config = new_config();
    load_ec_chain(config, "leaf-ec");
    check(schan_config_set_client_auth(config, SCHAN_CLIENT_AUTH_OPTIONAL), config, "schan_config_set_client_auth");
    return config;
}

void drain_output(schan_session* session, std::string& sink)
{
    std::uint8_t buffer[16384];
    while (schan_output_size(session) > 0) {
        std::size_t written = 0;
        schan_take_output(session, buffer, sizeof buffer, &written);
        sink.append(reinterpret_cast<const char*>(buffer), written);
    }
}

bool feed_some(schan_session* session, std::string& bytes, std::size_t limit)
{
    std::size_t consumed = 0;
    schan_feed(session, reinterpret_cast<const std::uint8_t*>(bytes.data()), std::min(bytes.size(), limit),
               &consumed);
    bytes.erase(0, consumed);
    return consumed > 0;
}

void drive_session(schan_session* session, std::string input)
{
    std::string discarded;
    std::uint8_t plaintext[4096];
    for (std::size_t round = 0; round < 1000; ++round) {
        const bool fed = feed_some(session, input, kFeedPieces[round % std::size(kFeedPieces)]);
        schan_status status = SCHAN_OK;
        std::size_t written = 0;
        if (schan_get_state(session) == SCHAN_STATE_HANDSHAKE)
            status = schan_step(session);
        else
            status = schan_decrypt(session, plaintext, sizeof plaintext, &written);
        drain_output(session, discarded);
        discarded.clear();
        if (status < 0 || status == SCHAN_CLOSED)
            break;
        if (!fed && input.empty() && status == SCHAN_NEED_INPUT)
            break;
    }

    static const std::uint8_t message[] = "fuzz";
    std::size_t consumed = 0;
    schan_encrypt(session, message, sizeof message, &consumed);
    schan_feed_eof(session);
    std::size_t written = 0;
    if (schan_get_state(session) == SCHAN_STATE_HANDSHAKE)
        schan_step(session);
    else
        schan_decrypt(session, plaintext, sizeof plaintext, &written);
    schan_shutdown(session);
    drain_output(session, discarded);
}

bool run_handshake(schan_session* client, schan_session* server, Transcript& transcript)
{
    schan_status client_status = SCHAN_NEED_INPUT;
    schan_status server_status = SCHAN_NEED_INPUT;
    for (int round = 0; round < 64; ++round) {
        if (client_status != SCHAN_OK) {
            feed_some(client, transcript.pending_to_client);
            client_status = step_side(client, RandomStream::client, transcript.client_bytes,
                                      transcript.pending_to_server);
        }
        if (server_status != SCHAN_OK) {
            feed_some(server, transcript.pending_to_server);
            server_status = step_side(server, RandomStream::server, transcript.server_bytes,
                                      transcript.pending_to_client);
        }
        if (client_status < 0 || server_status < 0)
            return false;
        if (client_status == SCHAN_OK && server_status == SCHAN_OK)
            return true;
    }
    return false;
}

std::string encode_loader_chain(const std::string& certificate, const std::string& key)
{
    std::string input(1, static_cast<char>(LoaderInput::chain_pem));
    input += static_cast<char>(certificate.size() >> 8 & 0xFF);
    input += static_cast<char>(certificate.size() & 0xFF);
    return input + certificate + key;
}

} // namespace schan::fuzz
