// Queries of an established SChannel context (QueryContextAttributesW).
#pragma once

#include <windows.h>
#include <sspi.h>

#include <cstdint>
#include <optional>
#include <string>

#include "backend/schannel/handles.h"

namespace schan::schannel {

// Returns the record sizes for EncryptMessage. Throws when the query fails
// or reports no usable maximum message size.
SecPkgContext_StreamSizes query_stream_sizes(CtxtHandle* context);

// Returns the negotiated protocol version as its wire value (0x0303 for
// TLS 1.2) from SECPKG_ATTR_CONNECTION_INFO, or the SP_PROT_* bits
// themselves when they name no known version.
std::uint16_t query_protocol_version(CtxtHandle* context);

struct CipherSuite {
    std::uint16_t number = 0;  // IANA number
    std::string name;          // SChannel's szCipherSuite in UTF-8, may be empty
};

// Returns the negotiated cipher suite from SECPKG_ATTR_CIPHER_INFO, or
// std::nullopt when SChannel does not report one (Wine 8 reports suite 0).
std::optional<CipherSuite> query_cipher_suite(CtxtHandle* context);

// Returns the ALPN protocol the server selected, or "" when none was. When
// `offered` is false a failed query also gives "" (SChannel before Windows
// 8.1 does not know the attribute).
std::string query_application_protocol(CtxtHandle* context, bool offered);

// Returns the server's certificate. Its hCertStore contains the other
// certificates the server sent.
CertificateContext query_remote_certificate(CtxtHandle* context);

// Returns whether the handshake resumed a cached session, from the
// SSL_SESSION_RECONNECT flag of SECPKG_ATTR_SESSION_INFO. Returns false when
// the query fails: Wine 8 does not implement the attribute.
bool query_session_resumed(CtxtHandle* context);

// Converts UTF-16 from Windows to UTF-8.
std::string to_utf8(const wchar_t* text, std::size_t length);

} // namespace schan::schannel
