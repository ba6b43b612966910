// Manual verification of the server's certificate after an SChannel client
// handshake. The client always asks SChannel for manual validation
// (ISC_REQ_MANUAL_CRED_VALIDATION) and calls verify_server_certificate()
// itself, because SChannel's automatic validation cannot use a custom CA
// bundle and Wine 8's never rejects any certificate.
#pragma once

#include <windows.h>
#include <wincrypt.h>

#include <string>
#include <vector>

#include "backend/schannel/certificate_names.h"  // parse_ip_address() for the backend's SNI decision
#include "core/config.h"

namespace schan::schannel {

// Verifies the peer's certificate chain and name according to config.
// `peer` is the context from QueryContextAttributes(SECPKG_ATTR_REMOTE_CERT_CONTEXT);
// its hCertStore contains the intermediates the server sent. An IPv4 or IPv6
// literal in server_name is matched only against IP-address subject
// alternative names, a host name against DNS names, and an empty name skips
// the name check (the chain is still checked). Does nothing for
// SCHAN_VERIFY_NONE.
// Throws schan::Error with SCHAN_E_CERT_UNTRUSTED, SCHAN_E_CERT_EXPIRED,
// SCHAN_E_CERT_NAME_MISMATCH, SCHAN_E_CERT_REVOKED, SCHAN_E_REVOCATION_UNKNOWN
// or SCHAN_E_CERT_INVALID, and with SCHAN_E_BAD_FORMAT for a CA bundle
// certificate that crypt32 cannot decode. The backend code is the HRESULT
// that names the problem, for example CERT_E_UNTRUSTEDROOT or CERT_E_CN_NO_MATCH.
void verify_server_certificate(PCCERT_CONTEXT peer, const Config& config, const std::string& server_name);

// Verifies a client's certificate chain for a server the same way, for TLS
// client authentication and without a name check. Throws the same statuses.
void verify_client_certificate(PCCERT_CONTEXT peer, const Config& config);

// Returns the peer's chain as DER, leaf first: the chain that an engine of
// config's verify mode builds up to a trusted root, else the leaf followed by
// the other certificates the server sent in peer->hCertStore. Never throws
// for an untrusted or malformed chain.
std::vector<Der> peer_chain(PCCERT_CONTEXT peer, const Config& config);

} // namespace schan::schannel
