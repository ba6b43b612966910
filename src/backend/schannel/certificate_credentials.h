// The SChannel form of schan::Credentials: a CERT_CONTEXT whose private key
// SChannel can reach, with the store and key handles it depends on.
#pragma once

#include <windows.h>
#include <wincrypt.h>
#include <ncrypt.h>

#include <string>
#include <utility>

#include "backend/schannel/handles.h"
#include "core/credentials.h"
#include "schan/schan.h"

namespace schan::schannel {

// A CryptoAPI key container created for one key and deleted with it.
// Wine 8's SChannel reads a client key only from the registry entry of a
// named rsaenh container, so an ephemeral CRYPT_VERIFYCONTEXT key does not
// reach it. The container lives as long as the credentials.
class KeyContainer {
public:
    KeyContainer() noexcept = default;
    KeyContainer(const KeyContainer&) = delete;
    KeyContainer& operator=(const KeyContainer&) = delete;
    ~KeyContainer() { reset(); }

    // Creates a new, uniquely named container in the AES provider; throws
    // SCHAN_E_INTERNAL when CryptoAPI fails.
    void create();

    [[nodiscard]] HCRYPTPROV provider() const noexcept { return provider_; }
    [[nodiscard]] const std::wstring& name() const noexcept { return name_; }

    // Releases the provider handle and deletes the container with its key.
    void reset() noexcept;

private:
    HCRYPTPROV provider_ = 0;
    std::wstring name_;
};

// Owns a CNG key handle from NCryptImportKey.
class NcryptKey {
public:
    NcryptKey() noexcept = default;
    NcryptKey(const NcryptKey&) = delete;
    NcryptKey& operator=(const NcryptKey&) = delete;
    ~NcryptKey() { reset(); }

    [[nodiscard]] NCRYPT_KEY_HANDLE get() const noexcept { return key_; }

    // Releases the current handle and returns the address for an output parameter.
    [[nodiscard]] NCRYPT_KEY_HANDLE* receive() noexcept
    {
        reset();
        return &key_;
    }

    void reset() noexcept
    {
        if (key_ != 0)
            NCryptFreeObject(key_);
        key_ = 0;
    }

private:
    NCRYPT_KEY_HANDLE key_ = 0;
};

// A certificate with its private key. The members are released in reverse
// order, so the certificate goes before the key and the store it lives in.
class CertificateCredentials final : public Credentials {
public:
    KeyContainer container;     // CryptoAPI key container (PEM RSA keys)
    NcryptKey ncrypt_key;       // ephemeral CNG key (PEM ECDSA keys)
    CertificateStore store;     // the store the certificate and its intermediates live in
    CertificateContext certificate;

    // Returns the certificate that AcquireCredentialsHandle takes as paCred.
    [[nodiscard]] PCCERT_CONTEXT context() const noexcept { return certificate.get(); }
};

// Returns the certificate of credentials that this backend loaded, or
// nullptr for none. Throws SCHAN_E_INTERNAL for credentials of another type.
PCCERT_CONTEXT credentials_certificate(const CredentialsPtr& credentials);

// Returns the end-entity certificate in `store` that has a private key, or
// nullptr; the caller frees it. Wine 8's PFXImportCertStore links the key to
// every certificate of a PFX, the intermediates too, so a key property alone
// does not find the leaf.
PCCERT_CONTEXT find_certificate_with_key(HCERTSTORE store);

// Throws `status` with "<step> failed: <system text of GetLastError()>".
[[noreturn]] void fail_last_error(schan_status status, const std::string& step);

} // namespace schan::schannel
