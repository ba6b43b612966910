// Owners for OpenSSL objects: each unique_ptr frees its object with the
// matching OpenSSL function.
#pragma once

#include <memory>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace schan::openssl {

template <auto Free>
struct Deleter {
    template <typename T>
    void operator()(T* object) const noexcept
    {
        Free(object);
    }
};

inline void free_x509_stack(STACK_OF(X509) * stack) noexcept
{
    sk_X509_pop_free(stack, X509_free);
}

using SslContextPtr = std::unique_ptr<SSL_CTX, Deleter<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, Deleter<SSL_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using X509StackPtr = std::unique_ptr<STACK_OF(X509), Deleter<free_x509_stack>>;
using PrivateKeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;

} // namespace schan::openssl
