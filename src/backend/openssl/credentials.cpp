#include "backend/openssl/credentials.h"

#include <cstring>
#include <string>
#include <utility>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>

#include "backend/openssl/openssl_error.h"
#include "core/error.h"

namespace schan::openssl {

namespace {

using Pkcs12Ptr = std::unique_ptr<PKCS12, Deleter<PKCS12_free>>;

// The password callback's argument: the caller's password and whether
// OpenSSL requested one, which distinguishes an encrypted key from a broken one.
struct PasswordRequest {
    const char* password = nullptr;
    bool requested = false;
};

int supply_password(char* buffer, int size, int /*rwflag*/, void* user_data)
{
    auto* request = static_cast<PasswordRequest*>(user_data);
    request->requested = true;
    if (request->password == nullptr)
        return -1;

    const std::size_t length = std::strlen(request->password);
    if (length > static_cast<std::size_t>(size))
        return -1;
    std::memcpy(buffer, request->password, length);
    return static_cast<int>(length);
}

BioPtr open_memory(const void* data, std::size_t length)
{
    BioPtr bio(BIO_new_mem_buf(data, static_cast<int>(length)));
    if (!bio)
        fail_with_queue(SCHAN_E_OUT_OF_MEMORY, "opening a memory buffer (BIO_new_mem_buf)");
    return bio;
}

bool is_end_of_pem(unsigned long code) noexcept
{
    return ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE;
}

X509StackPtr new_x509_stack()
{
    X509StackPtr stack(sk_X509_new_null());
    if (!stack)
        fail_with_queue(SCHAN_E_OUT_OF_MEMORY, "allocating a certificate list (sk_X509_new_null)");
    return stack;
}

// Reads the certificates after the first one. PEM_read_bio_X509 skips other
// PEM blocks (a private key in the same text) and fails with
// PEM_R_NO_START_LINE at the end.
X509StackPtr read_chain(BIO* bio)
{
    X509StackPtr chain = new_x509_stack();
    for (;;) {
        X509Ptr certificate(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
        if (!certificate)
            break;
        if (sk_X509_push(chain.get(), certificate.get()) == 0)
            fail_with_queue(SCHAN_E_OUT_OF_MEMORY, "adding a chain certificate (sk_X509_push)");
        certificate.release();
    }

    if (!is_end_of_pem(ERR_peek_last_error()))
        fail_with_queue(SCHAN_E_BAD_FORMAT, "reading chain certificate " +
                                                std::to_string(sk_X509_num(chain.get()) + 2) +
                                                " of the certificate PEM");
    ERR_clear_error();
    return chain;
}

PrivateKeyPtr read_private_key(std::string_view key_pem, const char* password)
{
    const BioPtr bio = open_memory(key_pem.data(), key_pem.size());
    PasswordRequest request{password};
    PrivateKeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, supply_password, &request));
    if (key)
        return key;

    if (!request.requested)
        fail_with_queue(SCHAN_E_BAD_FORMAT, "reading the private key PEM (no PRIVATE KEY block, or a broken one)");
    if (password == nullptr)
        fail_with_queue(SCHAN_E_BAD_PASSWORD, "reading the private key PEM: the key is encrypted and no password was given");
    fail_with_queue(SCHAN_E_BAD_PASSWORD, "decrypting the private key PEM with the given password (wrong password?)");
}

void check_key_matches(X509* certificate, EVP_PKEY* key)
{
    if (X509_check_private_key(certificate, key) != 1)
        fail_with_queue(SCHAN_E_KEY_MISMATCH, "checking that the private key belongs to the certificate "
                                              "(X509_check_private_key)");
}

// Installs the credentials in a scratch context, so that a key or signature
// below OpenSSL's security level is reported when loading, not at the first
// handshake.
void check_usable(const OpensslCredentials& credentials)
{
    const SslContextPtr context(SSL_CTX_new(TLS_method()));
    if (!context)
        fail_with_queue(SCHAN_E_OUT_OF_MEMORY, "creating a TLS context (SSL_CTX_new)");
    use_credentials(context.get(), credentials);
}

CredentialsPtr make_checked(X509Ptr certificate, X509StackPtr chain, PrivateKeyPtr key)
{
    check_key_matches(certificate.get(), key.get());
    auto credentials = std::make_shared<OpensslCredentials>(std::move(certificate), std::move(chain), std::move(key));
    check_usable(*credentials);
    return credentials;
}

// Returns a library context with OpenSSL's default and legacy providers, or
// nullptr when the legacy provider is not installed. PKCS#12 files written
// with "openssl pkcs12 -legacy" or by older Windows versions use RC2 and
// 3DES, which only the legacy provider offers. A separate context keeps the
// legacy algorithms away from the application's own OpenSSL use.
// NOTE: the context lives until the process ends; it is never freed.
OSSL_LIB_CTX* legacy_library_context()
{
    static OSSL_LIB_CTX* const context = [] {
        OSSL_LIB_CTX* created = OSSL_LIB_CTX_new();
        if (created == nullptr)
            return created;
        if (OSSL_PROVIDER_load(created, "default") == nullptr || OSSL_PROVIDER_load(created, "legacy") == nullptr) {
            OSSL_LIB_CTX_free(created);
            created = nullptr;
        }
        ERR_clear_error();
        return created;
    }();
    return context;
}

// Makes a library context the current thread's default while it exists.
class DefaultLibraryContext {
public:
    explicit DefaultLibraryContext(OSSL_LIB_CTX* context) : previous_(OSSL_LIB_CTX_set0_default(context)) {}
    ~DefaultLibraryContext() { OSSL_LIB_CTX_set0_default(previous_); }
    DefaultLibraryContext(const DefaultLibraryContext&) = delete;
    DefaultLibraryContext& operator=(const DefaultLibraryContext&) = delete;

private:
    OSSL_LIB_CTX* previous_;
};

struct Pkcs12Contents {
    PrivateKeyPtr key;
    X509Ptr certificate;
    X509StackPtr others;
};

// Decodes and decrypts a PKCS#12 file in the thread's default library
// context. Returns false with OpenSSL's errors queued when PKCS12_parse fails.
bool parse_pkcs12(gsl::span<const std::byte> data, const char* password, Pkcs12Contents& contents)
{
    const auto* cursor = reinterpret_cast<const unsigned char*>(data.data());
    const Pkcs12Ptr pkcs12(d2i_PKCS12(nullptr, &cursor, static_cast<long>(data.size())));
    if (!pkcs12)
        fail_with_queue(SCHAN_E_BAD_FORMAT, "decoding the PKCS#12 data (d2i_PKCS12)");

    EVP_PKEY* key = nullptr;
    X509* certificate = nullptr;
    STACK_OF(X509)* others = nullptr;
    const int result = PKCS12_parse(pkcs12.get(), password, &key, &certificate, &others);
    // Take ownership of whatever PKCS12_parse allocated, also when it failed.
    contents = {PrivateKeyPtr(key), X509Ptr(certificate), X509StackPtr(others)};
    return result == 1;
}

bool is_mac_failure(unsigned long code) noexcept
{
    return ERR_GET_LIB(code) == ERR_LIB_PKCS12 && ERR_GET_REASON(code) == PKCS12_R_MAC_VERIFY_FAILURE;
}

// Copies a key into the process's default library context through its DER
// encoding, so that it no longer refers to the legacy context.
PrivateKeyPtr copy_to_default_context(EVP_PKEY* key)
{
    unsigned char* der = nullptr;
    const int length = i2d_PrivateKey(key, &der);
    if (length <= 0)
        fail_with_queue(SCHAN_E_INTERNAL, "encoding the PKCS#12 private key (i2d_PrivateKey)");

    const unsigned char* cursor = der;
    PrivateKeyPtr copy(d2i_AutoPrivateKey(nullptr, &cursor, length));
    OPENSSL_clear_free(der, static_cast<std::size_t>(length));
    if (!copy)
        fail_with_queue(SCHAN_E_INTERNAL, "decoding the PKCS#12 private key (d2i_AutoPrivateKey)");
    return copy;
}

X509Ptr copy_to_default_context(X509* certificate)
{
    unsigned char* der = nullptr;
    const int length = i2d_X509(certificate, &der);
    if (length <= 0)
        fail_with_queue(SCHAN_E_INTERNAL, "encoding a PKCS#12 certificate (i2d_X509)");

    const unsigned char* cursor = der;
    X509Ptr copy(d2i_X509(nullptr, &cursor, length));
    OPENSSL_free(der);
    if (!copy)
        fail_with_queue(SCHAN_E_INTERNAL, "decoding a PKCS#12 certificate (d2i_X509)");
    return copy;
}

Pkcs12Contents parse_pkcs12_with_legacy(gsl::span<const std::byte> data, const char* password)
{
    OSSL_LIB_CTX* legacy = legacy_library_context();
    if (legacy == nullptr)
        fail_with_queue(SCHAN_E_BAD_FORMAT, "decrypting the PKCS#12 data (PKCS12_parse; OpenSSL's legacy "
                                            "provider, needed for RC2 and 3DES, is not installed)");

    Pkcs12Contents parsed;
    {
        const DefaultLibraryContext scope(legacy);
        if (!parse_pkcs12(data, password, parsed))
            fail_with_queue(SCHAN_E_BAD_FORMAT, "decrypting the PKCS#12 data (PKCS12_parse, with the legacy provider)");
    }

    Pkcs12Contents copied{nullptr, nullptr, new_x509_stack()};
    if (parsed.key)
        copied.key = copy_to_default_context(parsed.key.get());
    if (parsed.certificate)
        copied.certificate = copy_to_default_context(parsed.certificate.get());
    for (int i = 0; parsed.others && i < sk_X509_num(parsed.others.get()); ++i) {
        X509Ptr certificate = copy_to_default_context(sk_X509_value(parsed.others.get(), i));
        if (sk_X509_push(copied.others.get(), certificate.get()) == 0)
            fail_with_queue(SCHAN_E_OUT_OF_MEMORY, "adding a chain certificate (sk_X509_push)");
        certificate.release();
    }
    return copied;
}

} // namespace

OpensslCredentials::OpensslCredentials(X509Ptr certificate, X509StackPtr chain, PrivateKeyPtr key)
    : certificate_(std::move(certificate)), chain_(std::move(chain)), key_(std::move(key))
{
    Expects(certificate_ && chain_ && key_);
}

void use_credentials(SSL_CTX* context, const Credentials& credentials)
{
    const auto& own = static_cast<const OpensslCredentials&>(credentials);
    if (SSL_CTX_use_certificate(context, own.certificate()) != 1)
        fail_with_queue(SCHAN_E_CERT_INVALID, "using the certificate (SSL_CTX_use_certificate)");
    if (SSL_CTX_set1_chain(context, own.chain()) != 1)
        fail_with_queue(SCHAN_E_CERT_INVALID, "using the certificate chain (SSL_CTX_set1_chain)");
    if (SSL_CTX_use_PrivateKey(context, own.key()) != 1)
        fail_with_queue(SCHAN_E_CERT_INVALID, "using the private key (SSL_CTX_use_PrivateKey)");
}

} // namespace schan::openssl

namespace schan {

using namespace openssl;

CredentialsPtr load_pem_credentials(std::string_view certificate_pem, std::string_view key_pem, const char* password)
{
    const ErrorQueueScope error_scope;

    const BioPtr certificates = open_memory(certificate_pem.data(), certificate_pem.size());
    X509Ptr certificate(PEM_read_bio_X509(certificates.get(), nullptr, nullptr, nullptr));
    if (!certificate)
        fail_with_queue(SCHAN_E_BAD_FORMAT, "reading the certificate PEM (no CERTIFICATE block, or a broken one)");
    X509StackPtr chain = read_chain(certificates.get());

    PrivateKeyPtr key = read_private_key(key_pem, password);
    return make_checked(std::move(certificate), std::move(chain), std::move(key));
}

CredentialsPtr load_pkcs12_credentials(gsl::span<const std::byte> pkcs12, const char* password)
{
    const ErrorQueueScope error_scope;

    // PKCS12_parse checks the MAC first, so a wrong password is distinguished
    // from an algorithm that the default provider does not offer.
    Pkcs12Contents contents;
    if (!parse_pkcs12(pkcs12, password, contents)) {
        if (is_mac_failure(ERR_peek_error()))
            fail_with_queue(SCHAN_E_BAD_PASSWORD, std::string("verifying the PKCS#12 MAC with ") +
                                                      (password == nullptr ? "no password" : "the given password") +
                                                      " (wrong password?)");
        ERR_clear_error();
        contents = parse_pkcs12_with_legacy(pkcs12, password);
    }

    if (!contents.key)
        fail(SCHAN_E_BAD_FORMAT, "the PKCS#12 data contains no private key");
    if (!contents.others)
        contents.others = new_x509_stack();
    if (!contents.certificate) {
        if (sk_X509_num(contents.others.get()) > 0)
            fail(SCHAN_E_KEY_MISMATCH, "no certificate in the PKCS#12 data belongs to its private key");
        fail(SCHAN_E_BAD_FORMAT, "the PKCS#12 data contains no certificate");
    }
    return make_checked(std::move(contents.certificate), std::move(contents.others), std::move(contents.key));
}

} // namespace schan
