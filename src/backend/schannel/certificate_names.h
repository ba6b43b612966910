// Names in X.509 certificates as the certificate verification uses them: the
// subject as text, the subject alternative names, and IP address literals.
#pragma once

#include <windows.h>
#include <wincrypt.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace schan::schannel {

// Parses an IPv4 literal (dotted decimal, as inet_pton accepts it) or an IPv6
// literal (RFC 4291 text forms, without brackets or zone) into its 4 or 16
// bytes in network order. Returns std::nullopt for anything else, such as a
// host name. RFC 6066 forbids IP literals in SNI, so the SChannel client
// also uses it to decide whether to send SNI.
std::optional<std::vector<std::uint8_t>> parse_ip_address(std::string_view text);

// Formats a 4- or 16-byte address as "127.0.0.1" or in RFC 5952 form ("2001:db8::1").
std::string format_ip_address(const std::uint8_t* bytes, std::size_t length);

// Returns the subject in single quotes for messages, most specific part
// first as in RFC 4514: "'CN=localhost, O=Example'".
std::string quoted_subject(PCCERT_CONTEXT certificate);

// The DNS and IP-address entries of a subject alternative name extension.
struct AlternativeNames {
    std::vector<std::vector<std::uint8_t>> ip_addresses;
    std::vector<std::string> descriptions;  // "DNS:localhost", "IP:127.0.0.1", in certificate order
};

// Decodes the certificate's subject alternative names; throws
// SCHAN_E_CERT_INVALID when the extension cannot be decoded.
AlternativeNames alternative_names(PCCERT_CONTEXT certificate);

// Returns "its names are DNS:localhost, IP:::1" for messages, or a sentence
// saying that there are none.
std::string describe_names(const AlternativeNames& names);

} // namespace schan::schannel
