// The OpenSSL form of schan::Credentials and how a context uses it.
#pragma once

#include <openssl/ssl.h>

#include "backend/openssl/openssl_handles.h"
#include "core/credentials.h"

namespace schan::openssl {

class OpensslCredentials final : public Credentials {
public:
    // Takes a certificate, the intermediates sent after it (may be empty)
    // and the certificate's private key.
    OpensslCredentials(X509Ptr certificate, X509StackPtr chain, PrivateKeyPtr key);

    [[nodiscard]] X509* certificate() const noexcept { return certificate_.get(); }
    [[nodiscard]] STACK_OF(X509) * chain() const noexcept { return chain_.get(); }
    [[nodiscard]] EVP_PKEY* key() const noexcept { return key_.get(); }

private:
    X509Ptr certificate_;
    X509StackPtr chain_;
    PrivateKeyPtr key_;
};

// Installs the certificate, its chain and its key in `context`. Throws
// SCHAN_E_CERT_INVALID when OpenSSL rejects them, for example a key below
// the security level.
void use_credentials(SSL_CTX* context, const Credentials& credentials);

} // namespace schan::openssl
