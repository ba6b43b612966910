// The SSL_CTX settings that both roles share.
#pragma once

#include <functional>
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

// Returns the SSL_CTX that the sessions of `config` in one role share,
// creating it with `make` on first use. It stays valid while the config's
// settings stay unchanged, and SSL_new() takes its own reference.
SSL_CTX* shared_context(const Config& config, bool server, const std::function<SslContextPtr()>& make);

// Returns the ALPN list in wire format: each name preceded by its length.
std::string alpn_wire_format(const std::vector<std::string>& protocols);

} // namespace schan::openssl
