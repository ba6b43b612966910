// Client session resumption with OpenSSL: sessions and TLS 1.3 tickets are
// serialized into the config's SessionCache and offered again with
// SSL_set_session.
#pragma once

#include <string>

#include <openssl/ssl.h>

#include "core/config.h"

namespace schan::openssl {

// Returns the cache key of a connection: the server name plus every config
// setting that a resumed session must match.
std::string resumption_key(const Config& config, const std::string& server_name);

// Makes the context hand each new session to the connection's SessionCache
// (ConnectionState::session_cache), including TLS 1.3 tickets that arrive
// after the handshake.
void capture_new_sessions(SSL_CTX* context);

// Offers the newest cached session for `key`, if any. A TLS 1.3 ticket is
// removed from the cache here because servers may accept each one only once.
void offer_cached_session(SSL* ssl, SessionCache& cache, const std::string& key);

} // namespace schan::openssl
