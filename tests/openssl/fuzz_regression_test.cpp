// Regression tests for the findings of the fuzz targets in fuzz/. Each test
// rebuilds the input of one finding here, with keys generated at run time.
#include <memory>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "memory_link.h"
#include "schan/schan.h"

namespace schan::test {
namespace {

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using CertificatePtr = std::unique_ptr<X509, decltype(&X509_free)>;

std::string memory_contents(BIO* bio)
{
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(length));
}

void set_common_name(X509_NAME* name, const char* common_name)
{
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name),
                                   -1, -1, 0) != 1)
        throw std::runtime_error("X509_NAME_add_entry_by_txt failed");
}

struct PemCredentials {
    std::string certificate;
    std::string key;
};

// Returns an RSA key and a certificate for it that names another issuer (so
// it is not self-signed) and is signed with MD5. OpenSSL 3 rejects such a
// signature at every security level from 1 on ("ca md too weak").
PemCredentials make_md5_signed_certificate()
{
    const KeyPtr key(EVP_RSA_gen(2048), EVP_PKEY_free);
    const CertificatePtr certificate(X509_new(), X509_free);
    if (!key || !certificate)
        throw std::runtime_error("creating the key or certificate failed");

    X509_set_version(certificate.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(certificate.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(certificate.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(certificate.get()), 24 * 60 * 60);
    X509_set_pubkey(certificate.get(), key.get());
    set_common_name(X509_get_subject_name(certificate.get()), "localhost");
    set_common_name(X509_get_issuer_name(certificate.get()), "md5 issuer");
    if (X509_sign(certificate.get(), key.get(), EVP_md5()) == 0)
        throw std::runtime_error("X509_sign with MD5 failed");

    const BioPtr certificate_pem(BIO_new(BIO_s_mem()), BIO_free);
    const BioPtr key_pem(BIO_new(BIO_s_mem()), BIO_free);
    if (PEM_write_bio_X509(certificate_pem.get(), certificate.get()) != 1 ||
        PEM_write_bio_PrivateKey(key_pem.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
        throw std::runtime_error("writing the PEM files failed");
    return {memory_contents(certificate_pem.get()), memory_contents(key_pem.get())};
}

// The loader target found that a certificate whose signature algorithm is
// below OpenSSL's security level fails with SCHAN_E_CERT_INVALID, which
// schan.h did not list for the loaders.
TEST(FuzzRegression, WeakCertificateSignatureInvalid)
{
    const PemCredentials credentials = make_md5_signed_certificate();
    ConfigHandle config;

    const schan_status status =
        schan_config_load_cert_chain_pem(config.get(), credentials.certificate.data(), credentials.certificate.size(),
                                         credentials.key.data(), credentials.key.size(), nullptr);

    EXPECT_EQ(status, SCHAN_E_CERT_INVALID) << config.error();
    EXPECT_NE(config.error().find("too weak"), std::string::npos) << config.error();
}

} // namespace
} // namespace schan::test
