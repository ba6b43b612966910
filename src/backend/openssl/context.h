// The SSL_CTX settings that both roles share.
#pragma once

#include <string>
#include <vector>

#include <openssl/ssl.h>

#include "backend/openssl/openssl_handles.h"
#include "core/config.h"

namespace schan::openssl {

// Creates a context for `method` with the protocol range of `config`, so
// OpenSSL itself rejects any version outside the range. A maximum of 0 is
// the newest version OpenSSL supports.
SslContextPtr make_context(const SSL_METHOD* method, const Config& config);

// Returns the ALPN list in wire format: each name preceded by its length.
std::string alpn_wire_format(const std::vector<std::string>& protocols);

} // namespace schan::openssl
