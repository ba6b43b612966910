// Helpers for the SChannel injection tests: peers, connected clients and
// the record operations that hooks perform with the real SSPI table.
#pragma once

#include <windows.h>
#include <sspi.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "schan/schan.h"
#include "support/peers.h"

// Lets GoogleTest print a status as "SCHAN_E_PROTOCOL (-15)".
void PrintTo(schan_status status, std::ostream* out);

namespace schan::test {

using ConfigPtr = std::unique_ptr<schan_config, decltype(&schan_config_free)>;

// True when the process runs under Wine rather than Windows.
bool is_wine();

// A config that trusts only the test root.
ConfigPtr test_config();

// A Python peer serving leaf.pem with inter.pem. `script` is a path on the
// peer host's side, for example "{peers}/echo_server.py".
std::vector<std::string> python_peer(const std::string& script, const std::vector<std::string>& extra = {});

// tests/schannel/records_server.py with `extra` options.
std::vector<std::string> records_peer(const std::vector<std::string>& extra);

// openssl s_server serving leaf.pem with inter.pem, followed by `extra`.
std::vector<std::string> s_server(const std::vector<std::string>& extra);

// Creates a client session for `server_name` and connects it to
// 127.0.0.1:port. Uses test_config() when `config` is nullptr.
std::unique_ptr<TlsConnection> connect_client(std::uint16_t port, const char* server_name = "localhost",
                                              const schan_config* config = nullptr);

// The bytes a SecBuffer points to.
std::vector<std::byte> buffer_bytes(const SecBuffer& buffer);

// Returns the first buffer of `type` in `desc`, or nullptr.
SecBuffer* find_buffer(SecBufferDesc& desc, unsigned long type);

// Returns the size of the first TLS record in `records`, header included.
std::size_t first_record_size(const std::vector<std::byte>& records);

// Decrypts one record with the real DecryptMessage and returns its
// plaintext; throws std::runtime_error when SSPI fails.
std::string decrypt_record(const SecurityFunctionTableW& table, PCtxtHandle context, std::vector<std::byte> record);

// Encrypts `plaintext` into one record with the real EncryptMessage.
std::vector<std::byte> encrypt_record(const SecurityFunctionTableW& table, PCtxtHandle context,
                                      const std::string& plaintext);

} // namespace schan::test
