#include "backend/schannel/certificate_credentials.h"

#include <atomic>

#include "backend/schannel/sspi_error.h"
#include "core/error.h"

namespace schan::schannel {

void KeyContainer::create()
{
    reset();
    static std::atomic<unsigned> counter{0};
    // Unique per process and call; the process id keeps concurrent
    // processes apart.
    name_ = L"schan-" + std::to_wstring(GetCurrentProcessId()) + L"-" + std::to_wstring(counter++) + L"-" +
            std::to_wstring(GetTickCount64());
    if (!CryptAcquireContextW(&provider_, name_.c_str(), MS_ENH_RSA_AES_PROV_W, PROV_RSA_AES,
                              CRYPT_NEWKEYSET | CRYPT_SILENT)) {
        provider_ = 0;
        name_.clear();
        fail_last_error(SCHAN_E_INTERNAL, "CryptAcquireContext creating a key container");
    }
}

void KeyContainer::reset() noexcept
{
    if (provider_ != 0)
        CryptReleaseContext(provider_, 0);
    provider_ = 0;
    if (!name_.empty()) {
        HCRYPTPROV deleted = 0;
        CryptAcquireContextW(&deleted, name_.c_str(), MS_ENH_RSA_AES_PROV_W, PROV_RSA_AES,
                             CRYPT_DELETEKEYSET | CRYPT_SILENT);
    }
    name_.clear();
}

PCCERT_CONTEXT credentials_certificate(const CredentialsPtr& credentials)
{
    if (!credentials)
        return nullptr;
    const auto* loaded = dynamic_cast<const CertificateCredentials*>(credentials.get());
    if (loaded == nullptr)
        fail(SCHAN_E_INTERNAL, "the configured credentials were not loaded by the schannel backend");
    return loaded->context();
}

void fail_last_error(schan_status status, const std::string& step)
{
    const DWORD error = GetLastError();
    fail(status, step + " failed: " + describe_status(static_cast<std::int32_t>(HRESULT_FROM_WIN32(error))),
         static_cast<std::uint32_t>(HRESULT_FROM_WIN32(error)));
}

} // namespace schan::schannel
