#include "backend/openssl/resumption.h"

#include <cstdint>
#include <memory>
#include <string>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "backend/openssl/openssl_backend.h"
#include "backend/openssl/openssl_handles.h"
#include "core/error.h"
#include "core/session_cache.h"

namespace schan::openssl {

namespace {

using SessionPtr = std::unique_ptr<SSL_SESSION, Deleter<SSL_SESSION_free>>;

SessionCache::Blob serialize(SSL_SESSION* session)
{
    const int length = i2d_SSL_SESSION(session, nullptr);
    if (length <= 0)
        return {};
    SessionCache::Blob blob(static_cast<std::size_t>(length));
    unsigned char* cursor = blob.data();
    i2d_SSL_SESSION(session, &cursor);
    return blob;
}

// SSL_CTX_sess_set_new_cb callback. Returns 0 because the session is copied,
// so OpenSSL keeps its own reference. A failed copy only costs the next
// connection a full handshake, so it is not an error.
int store_new_session(SSL* ssl, SSL_SESSION* session)
{
    const ConnectionState& state = connection_state(ssl);
    if (!state.session_cache || SSL_SESSION_is_resumable(session) != 1)
        return 0;

    SessionCache::Blob blob = serialize(session);
    if (blob.empty())
        return 0;
    const bool single_use = SSL_SESSION_get_protocol_version(session) >= TLS1_3_VERSION;
    state.session_cache->store(state.session_key, std::move(blob), single_use);
    return 0;
}

} // namespace

std::string resumption_key(const Config& config, const std::string& server_name)
{
    // The config is copied into each session, but the cache is shared with
    // later copies, so settings changed in between must give another key.
    std::string key = server_name;
    key += '\n' + hex(config.min_version, 4) + '-' + hex(config.max_version, 4);
    for (const auto& protocol : config.alpn)
        key += '\n' + protocol;
    key += "\nverify=" + std::to_string(config.verify_mode) + ',' + std::to_string(config.revocation_mode);
    key += ",ca=" + std::to_string(config.ca_certificates.size());
    // NOTE: the certificates are compared by count and the credentials by
    // address, so replacing one CA file with another of the same size keeps the key.
    key += ",credentials=" + std::to_string(reinterpret_cast<std::uintptr_t>(config.credentials.get()));
    return key;
}

void capture_new_sessions(SSL_CTX* context)
{
    // The internal store is off because the config's SessionCache stores the
    // sessions, and it also serves sessions created after a config call
    // replaced this context.
    SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(context, store_new_session);
}

void offer_cached_session(SSL* ssl, SessionCache& cache, const std::string& key)
{
    const auto blob = cache.take(key);
    if (!blob)
        return;

    // NOTE: d2i_SSL_SESSION parses the server's certificate again, which costs
    // about as much as the rest of a resumed TLS 1.2 handshake (callgrind on
    // bench_native). Caching SSL_SESSION objects instead of DER would avoid it.
    const unsigned char* cursor = blob->data();
    const SessionPtr session(d2i_SSL_SESSION(nullptr, &cursor, static_cast<long>(blob->size())));
    // A session that does not parse or that OpenSSL rejects only means a
    // full handshake.
    if (!session || SSL_set_session(ssl, session.get()) != 1)
        ERR_clear_error();
}

} // namespace schan::openssl
