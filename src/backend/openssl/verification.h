// Peer certificate verification with OpenSSL: trust store, revocation
// checking, name checks and the mapping of X509 verification results.
#pragma once

#include <string>

#include <openssl/ssl.h>

#include "core/config.h"
#include "schan/schan.h"

namespace schan::openssl {

// Fills the context's X509_STORE from Config::verify_mode (system roots,
// Config::ca_certificates or both), sets the revocation flags and, unless
// the mode is SCHAN_VERIFY_NONE, requests the peer's certificate with
// `peer_verify_flags` (SSL_VERIFY_PEER plus, on a server, the client
// authentication flags).
void configure_verification(SSL_CTX* context, const Config& config, int peer_verify_flags);

// Sets the name the client checks the server's certificate against, and SNI.
// A DNS name is sent as SNI and matched against DNS subject alternative
// names only, with no common-name fallback and no partial wildcards. An IPv4
// or IPv6 literal is matched against IP-address subject alternative names
// and is not sent as SNI. An empty name checks no name and sends no SNI.
void configure_server_name(SSL* ssl, const std::string& server_name, schan_verify_mode mode);

// Maps an X509 verification result (X509_V_ERR_*) to a schan status.
schan_status status_for_verify_result(long result) noexcept;

// Returns the symbolic name of an X509 verification result
// ("X509_V_ERR_CERT_HAS_EXPIRED"), or nullptr when it is not in the table.
const char* verify_result_symbol(long result) noexcept;

// Formats "X509_V_ERR_CERT_HAS_EXPIRED (10): certificate has expired".
std::string describe_verify_result(long result);

} // namespace schan::openssl
