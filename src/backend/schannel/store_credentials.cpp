// Loads credentials from a Windows system certificate store by thumbprint.
#include <windows.h>
#include <wincrypt.h>

#include <array>
#include <cctype>
#include <string>
#include <vector>

#include "backend/schannel/certificate_credentials.h"
#include "core/error.h"

namespace schan {

namespace {

using schannel::CertificateCredentials;
using schannel::CertificateContext;
using schannel::CertificateStore;

struct StorePath {
    DWORD location = 0;  // CERT_SYSTEM_STORE_CURRENT_USER or _LOCAL_MACHINE
    std::wstring store;  // "MY"
    std::array<BYTE, 20> thumbprint{};
};

bool equals_ignoring_case(std::string_view a, std::string_view b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

[[noreturn]] void fail_path(std::string_view path, const std::string& reason)
{
    fail(SCHAN_E_INVALID_ARGUMENT, "invalid certificate store path '" + std::string(path) + "': " + reason +
                                       "; expected CurrentUser\\MY\\<40 hex digits of the SHA-1 thumbprint>");
}

std::array<BYTE, 20> parse_thumbprint(std::string_view path, std::string_view text)
{
    std::string digits;
    for (char c : text) {
        if (c == ' ' || c == ':')
            continue;
        if (hex_value(c) < 0)
            fail_path(path, "the thumbprint contains '" + std::string(1, c) + "'");
        digits += c;
    }
    if (digits.size() != 40)
        fail_path(path, "the thumbprint has " + std::to_string(digits.size()) + " hex digits, not 40");

    std::array<BYTE, 20> thumbprint{};
    for (std::size_t i = 0; i < thumbprint.size(); ++i)
        thumbprint[i] = static_cast<BYTE>(hex_value(digits[2 * i]) * 16 + hex_value(digits[2 * i + 1]));
    return thumbprint;
}

StorePath parse_store_path(std::string_view path)
{
    const std::size_t first = path.find_first_of("\\/");
    const std::size_t second = first == std::string_view::npos ? first : path.find_first_of("\\/", first + 1);
    if (second == std::string_view::npos)
        fail_path(path, "it does not have three parts");

    StorePath parsed;
    const std::string_view location = path.substr(0, first);
    if (equals_ignoring_case(location, "CurrentUser"))
        parsed.location = CERT_SYSTEM_STORE_CURRENT_USER;
    else if (equals_ignoring_case(location, "LocalMachine"))
        parsed.location = CERT_SYSTEM_STORE_LOCAL_MACHINE;
    else
        fail_path(path, "the location is neither CurrentUser nor LocalMachine");

    const std::string_view store = path.substr(first + 1, second - first - 1);
    if (store.empty())
        fail_path(path, "the store name is empty");
    parsed.store.assign(store.begin(), store.end());  // store names are ASCII
    parsed.thumbprint = parse_thumbprint(path, path.substr(second + 1));
    return parsed;
}

bool has_private_key(PCCERT_CONTEXT certificate) noexcept
{
    DWORD size = 0;
    return CertGetCertificateContextProperty(certificate, CERT_KEY_PROV_INFO_PROP_ID, nullptr, &size) ||
           CertGetCertificateContextProperty(certificate, CERT_NCRYPT_KEY_HANDLE_PROP_ID, nullptr, &size) ||
           CertGetCertificateContextProperty(certificate, CERT_KEY_CONTEXT_PROP_ID, nullptr, &size);
}

} // namespace

CredentialsPtr load_store_credentials(std::string_view path)
{
    const StorePath parsed = parse_store_path(path);

    auto credentials = std::make_shared<CertificateCredentials>();
    // OPEN_EXISTING: a missing store is an error, not a new empty store.
    credentials->store = CertificateStore(
        CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0,
                      parsed.location | CERT_STORE_OPEN_EXISTING_FLAG | CERT_STORE_READONLY_FLAG,
                      parsed.store.c_str()));
    if (credentials->store.get() == nullptr)
        schannel::fail_last_error(SCHAN_E_FILE_NOT_FOUND, "opening the certificate store of '" +
                                                              std::string(path) + "'");

    CRYPT_HASH_BLOB hash{};
    hash.cbData = static_cast<DWORD>(parsed.thumbprint.size());
    hash.pbData = const_cast<BYTE*>(parsed.thumbprint.data());
    credentials->certificate = CertificateContext(CertFindCertificateInStore(
        credentials->store.get(), X509_ASN_ENCODING | PKCS_7_ASN_ENCODING, 0, CERT_FIND_SHA1_HASH, &hash, nullptr));
    if (credentials->certificate.get() == nullptr)
        fail(SCHAN_E_FILE_NOT_FOUND, "no certificate with the thumbprint of '" + std::string(path) + "' found");
    if (!has_private_key(credentials->certificate.get()))
        fail(SCHAN_E_BAD_FORMAT, "the certificate '" + std::string(path) + "' has no private key");
    return credentials;
}

} // namespace schan
