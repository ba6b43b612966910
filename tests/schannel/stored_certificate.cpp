#include "schannel/stored_certificate.h"

#include <stdexcept>
#include <vector>

#include "backend/schannel/certificate_credentials.h"
#include "support/peers.h"

namespace schan::test {

namespace {

[[noreturn]] void fail_last_error(const std::string& step)
{
    throw std::runtime_error(step + " failed: " + std::to_string(GetLastError()));
}

std::string thumbprint_of(PCCERT_CONTEXT certificate)
{
    BYTE hash[20] = {};
    DWORD size = sizeof hash;
    if (!CertGetCertificateContextProperty(certificate, CERT_SHA1_HASH_PROP_ID, hash, &size))
        fail_last_error("CertGetCertificateContextProperty(CERT_SHA1_HASH_PROP_ID)");

    static const char kDigits[] = "0123456789abcdef";
    std::string text;
    for (BYTE byte : hash) {
        text += kDigits[byte >> 4];
        text += kDigits[byte & 0x0F];
    }
    return text;
}

// Deletes the key container that PFXImportCertStore created for `certificate`.
void delete_key_container(PCCERT_CONTEXT certificate)
{
    DWORD size = 0;
    if (!CertGetCertificateContextProperty(certificate, CERT_KEY_PROV_INFO_PROP_ID, nullptr, &size))
        return;
    std::vector<BYTE> buffer(size);
    if (!CertGetCertificateContextProperty(certificate, CERT_KEY_PROV_INFO_PROP_ID, buffer.data(), &size))
        return;
    const auto* info = reinterpret_cast<const CRYPT_KEY_PROV_INFO*>(buffer.data());
    HCRYPTPROV deleted = 0;
    CryptAcquireContextW(&deleted, info->pwszContainerName, info->pwszProvName, info->dwProvType,
                         CRYPT_DELETEKEYSET | CRYPT_SILENT);
}

} // namespace

StoredCertificate::StoredCertificate(const std::string& pkcs12_file, const wchar_t* password)
{
    const std::string data = Pki::read(pkcs12_file);
    CRYPT_DATA_BLOB blob{static_cast<DWORD>(data.size()), reinterpret_cast<BYTE*>(const_cast<char*>(data.data()))};
    pfx_ = PFXImportCertStore(&blob, password, CRYPT_USER_KEYSET);
    if (pfx_ == nullptr)
        fail_last_error("PFXImportCertStore of " + pkcs12_file);
    my_ = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, CERT_SYSTEM_STORE_CURRENT_USER, L"MY");
    if (my_ == nullptr) {
        CertCloseStore(pfx_, 0);
        fail_last_error("CertOpenStore(CurrentUser\\MY)");
    }

    PCCERT_CONTEXT found = schannel::find_certificate_with_key(pfx_);
    const bool added =
        found != nullptr && CertAddCertificateContextToStore(my_, found, CERT_STORE_ADD_REPLACE_EXISTING, &stored_);
    if (found != nullptr)
        CertFreeCertificateContext(found);
    if (!added) {
        CertCloseStore(my_, 0);
        CertCloseStore(pfx_, 0);
        throw std::runtime_error(pkcs12_file + ": no certificate with a private key could be added to CurrentUser\\MY");
    }

    // Wine 8 writes a system store to the registry only on commit or close,
    // and schan opens the store through a handle of its own.
    CertControlStore(my_, 0, CERT_STORE_CTRL_COMMIT, nullptr);
    thumbprint_ = thumbprint_of(stored_);
}

StoredCertificate::~StoredCertificate()
{
    delete_key_container(stored_);
    CertDeleteCertificateFromStore(stored_);  // also frees the context
    CertCloseStore(my_, 0);
    CertCloseStore(pfx_, 0);
}

} // namespace schan::test
