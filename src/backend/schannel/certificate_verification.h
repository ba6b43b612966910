// Manual verification of the server's certificate after an SChannel client
// handshake. The client always asks SChannel for manual validation
// (ISC_REQ_MANUAL_CRED_VALIDATION) and calls verify_server_certificate()
// itself, because SChannel's automatic validation cannot use a custom CA
// bundle and Wine 8's never rejects any certificate.
#pragma once

#include <windows.h>
#include <wincrypt.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"

namespace schan::schannel {

// Verifies the peer's certificate chain and name according to config.
// `peer` is the context from QueryContextAttributes(SECPKG_ATTR_REMOTE_CERT_CONTEXT);
// its hCertStore holds the intermediates the server sent. An IPv4 or IPv6
// literal in server_name is matched only against IP-address subject
// alternative names, a host name against DNS names, and an empty name skips
// the name check (the chain is still checked). Does nothing for
// SCHAN_VERIFY_NONE.
// Throws schan::Error with SCHAN_E_CERT_UNTRUSTED, SCHAN_E_CERT_EXPIRED,
// SCHAN_E_CERT_NAME_MISMATCH, SCHAN_E_CERT_REVOKED, SCHAN_E_REVOCATION_UNKNOWN
// or SCHAN_E_CERT_INVALID. The backend code is the HRESULT that names the
// problem, for example CERT_E_UNTRUSTEDROOT or CERT_E_CN_NO_MATCH.
void verify_server_certificate(PCCERT_CONTEXT peer, const Config& config, const std::string& server_name);

// Returns the peer's chain as DER, leaf first: the chain built by the engine
// of config's verify mode when one can be built, else the leaf followed by
// the certificates the server sent in peer->hCertStore.
std::vector<Der> peer_chain(PCCERT_CONTEXT peer, const Config& config);

// Parses an IPv4 literal (dotted decimal, as inet_pton accepts it) or an IPv6
// literal (RFC 4291 text forms, without brackets or zone) into its 4 or 16
// bytes in network order. Returns std::nullopt for anything else, such as a
// host name. SChannel clients send no SNI for an IP literal (RFC 6066).
std::optional<std::vector<std::uint8_t>> parse_ip_address(std::string_view text);

} // namespace schan::schannel
