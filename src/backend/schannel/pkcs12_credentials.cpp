// Loads PKCS#12 (PFX) credentials with PFXImportCertStore.
#include <windows.h>
#include <wincrypt.h>

#include <string>
#include <vector>

#include "backend/schannel/certificate_credentials.h"
#include "backend/schannel/sspi_error.h"
#include "core/error.h"
#include "core/secure_memory.h"

namespace schan {

namespace {

using schannel::CertificateCredentials;
using schannel::CertificateStore;

// Checks the start of a PFX (RFC 7292): SEQUENCE { INTEGER 3, ... }. Wine 8
// reports a wrong password and broken data alike (NULL with GetLastError()
// 0), so the format is checked before the import.
bool looks_like_pfx(gsl::span<const std::byte> data) noexcept
{
    if (data.size() < 8 || data[0] != std::byte{0x30})
        return false;
    std::size_t offset = 2;
    const auto first_length = std::to_integer<std::size_t>(data[1]);
    if (first_length & 0x80)
        offset += first_length & 0x7F;
    return offset + 3 <= data.size() && data[offset] == std::byte{0x02} && data[offset + 1] == std::byte{0x01} &&
           data[offset + 2] == std::byte{0x03};
}

// The password in UTF-16, NUL-terminated, in a buffer that is wiped when
// released (a std::wstring would keep a short password in its own object).
using WidePassword = std::vector<wchar_t, WipingAllocator<wchar_t>>;

WidePassword widen(const char* text)
{
    const int size = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, text, -1, nullptr, 0);
    if (size <= 0)
        fail(SCHAN_E_INVALID_ARGUMENT, "the PKCS#12 password is not valid UTF-8");
    WidePassword wide(static_cast<std::size_t>(size), L'\0');
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, text, -1, wide.data(), size);
    return wide;
}

// PKCS12_NO_PERSIST_KEY keeps the key in memory for the store's lifetime, so
// loading leaves nothing in the user's key containers. CRYPT_EXPORTABLE is
// needed under Wine 8, whose SChannel exports the key to GnuTLS.
constexpr DWORD kImportFlags = PKCS12_NO_PERSIST_KEY | CRYPT_EXPORTABLE | CRYPT_USER_KEYSET;

HCERTSTORE import(gsl::span<const std::byte> data, const wchar_t* password)
{
    CRYPT_DATA_BLOB blob{};
    blob.cbData = static_cast<DWORD>(data.size());
    blob.pbData = reinterpret_cast<BYTE*>(const_cast<std::byte*>(data.data()));
    return PFXImportCertStore(&blob, password, kImportFlags);
}

// An unencrypted PFX is MACed with an empty password, which PKCS#12 encodes
// either as no bytes or as a two-byte NUL (OpenSSL writes the latter for
// -passout pass:). PFXImportCertStore takes the first for NULL and the second
// for L"", so both are tried.
HCERTSTORE import_without_password(gsl::span<const std::byte> data)
{
    HCERTSTORE store = import(data, L"");
    if (store == nullptr)
        store = import(data, nullptr);
    return store;
}

bool has_private_key(PCCERT_CONTEXT certificate) noexcept
{
    DWORD size = 0;
    return CertGetCertificateContextProperty(certificate, CERT_KEY_PROV_INFO_PROP_ID, nullptr, &size) ||
           CertGetCertificateContextProperty(certificate, CERT_NCRYPT_KEY_HANDLE_PROP_ID, nullptr, &size) ||
           CertGetCertificateContextProperty(certificate, CERT_KEY_CONTEXT_PROP_ID, nullptr, &size);
}

bool is_ca(PCCERT_CONTEXT certificate) noexcept
{
    const CERT_EXTENSION* extension = CertFindExtension(szOID_BASIC_CONSTRAINTS2,
                                                        certificate->pCertInfo->cExtension,
                                                        certificate->pCertInfo->rgExtension);
    if (extension == nullptr)
        return false;
    CERT_BASIC_CONSTRAINTS2_INFO constraints{};
    DWORD size = sizeof(constraints);
    return CryptDecodeObjectEx(X509_ASN_ENCODING, X509_BASIC_CONSTRAINTS2, extension->Value.pbData,
                               extension->Value.cbData, 0, nullptr, &constraints, &size) &&
           constraints.fCA;
}

[[noreturn]] void fail_import(bool with_password)
{
    const DWORD error = GetLastError();

    // Windows sets ERROR_INVALID_PASSWORD. Wine 8 returns NULL with
    // GetLastError() 0 for a wrong password (its PFXVerifyPassword is a stub),
    // and looks_like_pfx() has ruled out most broken data by then.
    if (error == ERROR_INVALID_PASSWORD || error == 0 ||
        static_cast<HRESULT>(error) == HRESULT_FROM_WIN32(ERROR_INVALID_PASSWORD))
        fail(SCHAN_E_BAD_PASSWORD, with_password ? "the PKCS#12 password is wrong"
                                                 : "the PKCS#12 data is encrypted and no password was given");
    schannel::fail_last_error(SCHAN_E_BAD_FORMAT, "PFXImportCertStore");
}

} // namespace

namespace schannel {

PCCERT_CONTEXT find_certificate_with_key(HCERTSTORE store)
{
    PCCERT_CONTEXT found = nullptr;
    while ((found = CertEnumCertificatesInStore(store, found)) != nullptr) {
        if (has_private_key(found) && !is_ca(found))
            return found;
    }
    return nullptr;
}

} // namespace schannel

CredentialsPtr load_pkcs12_credentials(gsl::span<const std::byte> pkcs12, const char* password)
{
    if (!looks_like_pfx(pkcs12))
        fail(SCHAN_E_BAD_FORMAT, "the data is not a PKCS#12 (PFX) file");

    auto credentials = std::make_shared<CertificateCredentials>();
    SetLastError(0);
    credentials->store = CertificateStore(password == nullptr ? import_without_password(pkcs12)
                                                              : import(pkcs12, widen(password).data()));
    if (credentials->store.get() == nullptr)
        fail_import(password != nullptr);

    // The PFX contains the certificate with the key and its intermediates;
    // those stay in the store, where SChannel looks for the chain to send.
    credentials->certificate = schannel::CertificateContext(schannel::find_certificate_with_key(credentials->store.get()));
    if (credentials->certificate.get() == nullptr)
        fail(SCHAN_E_BAD_FORMAT, "the PKCS#12 data contains no certificate with a private key");
    return credentials;
}

} // namespace schan
