// Helpers shared by the contract tests: peer command lines, a connected
// client, test data and readable status output.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "schan/schan.h"
#include "support/peers.h"

// Lets GoogleTest print a status as "SCHAN_E_CERT_EXPIRED (-10)".
void PrintTo(schan_status status, std::ostream* out);

namespace schan::contract {

using ConfigPtr = std::unique_ptr<schan_config, decltype(&schan_config_free)>;

// True for the SChannel backend.
bool is_schannel();

// True when the process runs under Wine, whose SChannel lacks TLS 1.3.
bool is_wine();

// A config that trusts only the test root, as make_test_client_config().
ConfigPtr test_config();

// openssl s_server on 127.0.0.1:{port} serving `cert` with its key and, when
// not empty, `chain`, followed by `extra` options.
std::vector<std::string> s_server(const std::string& cert, const std::string& chain,
                                  const std::vector<std::string>& extra = {});

// A Python peer from tests/peers serving `cert` (with its key and `chain`).
std::vector<std::string> python_server(const std::string& script, const std::string& cert,
                                       const std::string& chain, const std::vector<std::string>& extra = {});

// Creates a client session for `server_name` (nullptr: none) from `config`
// and connects it to 127.0.0.1:port. Throws std::runtime_error when
// schan_client_new fails.
std::unique_ptr<test::TlsConnection> connect(std::uint16_t port, const char* server_name,
                                             const schan_config* config, test::FeedPlan plan = {});

// `length` pseudo-random bytes, the same for the same seed.
std::string test_data(std::size_t length, std::uint32_t seed = 1);

// The peer's certificate number `index` in DER form, or empty when the
// query fails.
std::vector<std::uint8_t> peer_certificate(schan_session* session, std::size_t index);

// True when `a` and `b` are equal; otherwise false with the first
// difference described in `difference`. GoogleTest would print a 1 MiB
// string in full.
bool same_bytes(const std::string& a, const std::string& b, std::string& difference);

} // namespace schan::contract
