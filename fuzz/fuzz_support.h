// Shared pieces of the fuzz targets: deterministic randomness for OpenSSL,
// the test PKI, the configs of both roles and an in-memory handshake.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "schan/schan.h"

namespace schan::fuzz {

// The random stream OpenSSL draws from. Each side has its own, so
// the bytes a side sends depend only on its own calls and its input, not on
// how the other side's calls interleave with them.
enum class RandomStream { client, server };

// Replaces OpenSSL's random generator with a deterministic one (not
// cryptographically secure). Call once, before the first session.
void install_deterministic_random();

// Restarts both streams from their fixed seeds and selects the client's.
void reset_random();

void use_random_stream(RandomStream stream);

// Returns the path of a file of the test PKI that the build generated.
std::string pki_path(const char* file);

// Returns the contents of a PKI file; aborts when it cannot be read.
std::string read_pki_file(const char* file);

// The configs every session target uses. A client trusts root.pem only,
// offers ALPN and has a client certificate (client-ec); a server has
// leaf-ec with its chain and requests a client certificate. Both abort
// when the PKI cannot be loaded, because no fuzz result means anything then.
schan_config* make_client_config();
schan_config* make_server_config();

// Takes every byte the session has queued for the peer and appends it to `sink`.
void drain_output(schan_session* session, std::string& sink);

// Feeds as much of `bytes` as the session takes, at most `limit` bytes,
// and erases that prefix. Returns whether anything was taken.
bool feed_some(schan_session* session, std::string& bytes, std::size_t limit = SIZE_MAX);

// Feeds `input` to the session, in pieces of varying size, as everything
// its peer sends: steps the handshake, decrypts once it completes, then
// encrypts, reports the end of stream and shuts down. Output for the peer
// is discarded.
void drive_session(schan_session* session, std::string input);

// Bytes each side sent during a handshake, and those the other side has
// not taken yet (a TLS 1.3 server's tickets follow the client's last step).
struct Transcript {
    std::string client_bytes;
    std::string server_bytes;
    std::string pending_to_client;
    std::string pending_to_server;
};

// Runs both handshakes in memory, delivering every flight whole, with each
// side on its own random stream. Returns whether both reached SCHAN_OK.
bool run_handshake(schan_session* client, schan_session* server, Transcript& transcript);

// Input of the loader target: a selector byte, then the file contents.
enum class LoaderInput : std::uint8_t {
    ca_pem = 0,          // schan_config_load_ca_pem
    chain_pem = 1,       // a 2-byte big-endian certificate length, the certificate, the key
    pkcs12 = 2,          // with the password "secret"
    pkcs12_no_password = 3,
    chain_pem_password = 4,  // as chain_pem, with the key password "secret"
};

// Encodes a certificate chain and its key as a chain_pem loader input.
std::string encode_loader_chain(const std::string& certificate, const std::string& key);

} // namespace schan::fuzz
