// make_client_backend() for OpenSSL: a client SSL object configured from
// Config and the server name.
#include <openssl/ssl.h>

#include "backend/openssl/context.h"
#include "backend/openssl/credentials.h"
#include "backend/openssl/openssl_backend.h"
#include "backend/openssl/openssl_error.h"
#include "backend/openssl/resumption.h"
#include "backend/openssl/verification.h"
#include "core/error.h"

namespace schan {

using namespace openssl;

namespace {

void offer_alpn(SSL* ssl, const Config& config)
{
    if (config.alpn.empty())
        return;
    const std::string wire = alpn_wire_format(config.alpn);
    // SSL_set_alpn_protos() returns 0 on success.
    if (SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned int>(wire.size())) != 0)
        fail_with_queue(SCHAN_E_OUT_OF_MEMORY, "setting the ALPN list (SSL_set_alpn_protos)");
}

} // namespace

std::unique_ptr<Backend> make_client_backend(const Config& config, const std::string& server_name)
{
    const ErrorQueueScope error_scope;

    SSL_CTX* context = shared_context(config, false, [&] {
        SslContextPtr made = make_context(TLS_client_method(), config);
        configure_verification(made.get(), config, SSL_VERIFY_PEER);
        if (config.credentials)
            use_credentials(made.get(), *config.credentials);
        if (config.session_cache)
            capture_new_sessions(made.get());
        return made;
    });

    SslPtr ssl(SSL_new(context));
    if (!ssl)
        fail_with_queue(SCHAN_E_OUT_OF_MEMORY, "creating the TLS connection (SSL_new)");
    configure_server_name(ssl.get(), server_name, config.verify_mode);
    offer_alpn(ssl.get(), config);
    SSL_set_connect_state(ssl.get());

    auto backend = std::make_unique<OpensslBackend>(std::move(ssl));
    if (config.session_cache)
        backend->use_session_cache(config.session_cache, resumption_key(config, server_name));
    return backend;
}

} // namespace schan
