// The input language of the data-phase target: after a fixed handshake,
// each input is a sequence of operations on the two sessions and on the
// bytes in flight between them.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace schan::fuzz {

// Each operation is one byte (taken modulo the count) followed by one
// argument byte. A corrupt operation takes one more byte, the XOR value,
// and an inject operation the number of bytes its argument gives.
enum class DataOperation : std::uint8_t {
    client_encrypt,   // encrypt (argument * 97 + 1) bytes of the client's stream
    server_encrypt,
    to_server,        // feed up to (argument * argument + 1) bytes in flight, then decrypt
    to_client,
    corrupt_to_server,  // XOR a byte in flight at a position the argument picks
    corrupt_to_client,
    inject_to_server,   // append raw bytes to those in flight
    inject_to_client,
    truncate_to_server,  // drop bytes in flight from (argument * 64) on
    truncate_to_client,
    client_shutdown,
    server_shutdown,
    client_eof,  // report the end of stream, then decrypt
    server_eof,
    count,
};

// Named operation sequences for the seed corpus.
std::vector<std::pair<std::string, std::string>> data_seed_programs();

} // namespace schan::fuzz
