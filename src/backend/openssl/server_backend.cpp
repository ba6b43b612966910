// make_server_backend() for OpenSSL: a server SSL object with the config's
// certificate, client authentication and ALPN preference.
#include <openssl/ssl.h>

#include "backend/openssl/context.h"
#include "backend/openssl/credentials.h"
#include "backend/openssl/openssl_backend.h"
#include "backend/openssl/openssl_error.h"
#include "backend/openssl/verification.h"
#include "core/error.h"

namespace schan {

using namespace openssl;

namespace {

// Selects the first protocol of the server's list that the client offered.
// Without an overlap the handshake fails with the alert
// no_application_protocol; a server without a list ignores the extension.
int select_alpn(SSL* ssl, const unsigned char** selected, unsigned char* selected_length,
                const unsigned char* offered, unsigned int offered_length, void* /*argument*/)
{
    const std::string& preference = connection_state(ssl).alpn_preference;
    if (preference.empty())
        return SSL_TLSEXT_ERR_NOACK;

    unsigned char* match = nullptr;
    const int result = SSL_select_next_proto(&match, selected_length,
                                             reinterpret_cast<const unsigned char*>(preference.data()),
                                             static_cast<unsigned int>(preference.size()), offered, offered_length);
    if (result != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    *selected = match;
    return SSL_TLSEXT_ERR_OK;
}

// Verify callback for SCHAN_VERIFY_NONE with client authentication: the
// client must send a certificate, but any certificate is accepted.
int accept_any_certificate(int /*preverify_ok*/, X509_STORE_CTX* store_context)
{
    X509_STORE_CTX_set_error(store_context, X509_V_OK);
    return 1;
}

// Names the custom CAs in the CertificateRequest, so that a client with
// several certificates can pick one these CAs issued.
void announce_client_cas(SSL_CTX* context, const Config& config)
{
    if (config.verify_mode != SCHAN_VERIFY_CUSTOM_ONLY && config.verify_mode != SCHAN_VERIFY_CUSTOM_AND_SYSTEM)
        return;
    for (const Der& der : config.ca_certificates) {
        const auto* bytes = reinterpret_cast<const unsigned char*>(der.data());
        const X509Ptr certificate(d2i_X509(nullptr, &bytes, static_cast<long>(der.size())));
        if (!certificate || SSL_CTX_add_client_CA(context, certificate.get()) != 1)
            fail_with_queue(SCHAN_E_BAD_FORMAT, "adding a custom CA's name to the certificate request "
                                                "(SSL_CTX_add_client_CA)");
    }
}

void configure_client_auth(SSL_CTX* context, const Config& config)
{
    if (config.client_auth == SCHAN_CLIENT_AUTH_NONE) {
        SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nullptr);
        return;
    }

    int flags = SSL_VERIFY_PEER;
    if (config.client_auth == SCHAN_CLIENT_AUTH_REQUIRED)
        flags |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;

    if (config.verify_mode == SCHAN_VERIFY_NONE) {
        SSL_CTX_set_verify(context, flags, accept_any_certificate);
        return;
    }
    configure_verification(context, config, flags);
    announce_client_cas(context, config);
}

// NOTE: servers do not resume sessions. The sessions of one config share an
// SSL_CTX, but its tickets and session cache stay off, so no handshake sends a
// ticket that the server would not accept.
void disable_resumption(SSL_CTX* context)
{
    SSL_CTX_set_options(context, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(context, 0);
    SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_OFF);
}

} // namespace

std::unique_ptr<Backend> make_server_backend(const Config& config)
{
    const ErrorQueueScope error_scope;
    Expects(config.credentials != nullptr);

    SSL_CTX* context = shared_context(config, true, [&] {
        SslContextPtr made = make_context(TLS_server_method(), config);
        use_credentials(made.get(), *config.credentials);
        configure_client_auth(made.get(), config);
        disable_resumption(made.get());
        SSL_CTX_set_alpn_select_cb(made.get(), select_alpn, nullptr);
        return made;
    });

    SslPtr ssl(SSL_new(context));
    if (!ssl)
        fail_with_queue(SCHAN_E_OUT_OF_MEMORY, "creating the TLS connection (SSL_new)");
    SSL_set_accept_state(ssl.get());

    return std::make_unique<OpensslBackend>(std::move(ssl), alpn_wire_format(config.alpn));
}

} // namespace schan
