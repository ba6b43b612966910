// A certificate with a persisted private key, imported from a test PKI
// PKCS#12 file into the current user's MY store for one test.
#pragma once

#include <windows.h>
#include <wincrypt.h>

#include <string>

namespace schan::test {

class StoredCertificate {
public:
    // Imports the end-entity certificate of `pkcs12_file` that has a private key.
    // Throws std::runtime_error when CryptoAPI fails.
    StoredCertificate(const std::string& pkcs12_file, const wchar_t* password);
    ~StoredCertificate();
    StoredCertificate(const StoredCertificate&) = delete;
    StoredCertificate& operator=(const StoredCertificate&) = delete;

    // Returns the SHA-1 thumbprint in lowercase hex.
    [[nodiscard]] const std::string& thumbprint() const { return thumbprint_; }

    // Returns "CurrentUser\MY\<thumbprint>", the form schan_config_load_cert_store takes.
    [[nodiscard]] std::string path() const { return "CurrentUser\\MY\\" + thumbprint_; }

private:
    HCERTSTORE pfx_ = nullptr;
    HCERTSTORE my_ = nullptr;
    PCCERT_CONTEXT stored_ = nullptr;
    std::string thumbprint_;
};

} // namespace schan::test
