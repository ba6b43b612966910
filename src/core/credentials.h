// A certificate with its private key: the server's certificate for a server
// session, the client certificate for a client session. Each backend parses
// credentials when they are loaded, so a wrong password or a key that does
// not match the certificate fails at load time with its own status.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include <gsl/gsl>

namespace schan {

// The backend's parsed form (OpenSSL: X509 and EVP_PKEY; SChannel: a
// CERT_CONTEXT with its key). Immutable once loaded, so sessions created
// from one config on different threads share it.
class Credentials {
public:
    virtual ~Credentials() = default;
};

using CredentialsPtr = std::shared_ptr<const Credentials>;

// Implemented by the backend compiled into the library. Both throw
// SCHAN_E_BAD_FORMAT for data that cannot be parsed, SCHAN_E_BAD_PASSWORD
// for a missing or wrong password, SCHAN_E_KEY_MISMATCH when the key does not
// belong to the certificate and SCHAN_E_UNSUPPORTED where the backend has no
// such loader. `password` may be nullptr (no password).

// Parses PEM text: `certificate_pem` contains the certificate followed by the
// intermediates to send, `key_pem` the private key (PKCS#8, traditional or
// encrypted PKCS#8).
CredentialsPtr load_pem_credentials(std::string_view certificate_pem, std::string_view key_pem,
                                    const char* password);

// Parses a PKCS#12 (PFX) file's bytes.
CredentialsPtr load_pkcs12_credentials(gsl::span<const std::byte> pkcs12, const char* password);

// Finds a certificate with its key in the Windows certificate store by a path
// "CurrentUser\MY\<SHA-1 thumbprint>". Throws SCHAN_E_INVALID_ARGUMENT for
// a malformed path and SCHAN_E_FILE_NOT_FOUND for an unknown store or
// thumbprint. Only the SChannel backend implements it.
CredentialsPtr load_store_credentials(std::string_view path);

} // namespace schan
