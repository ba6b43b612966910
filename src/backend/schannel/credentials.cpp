#include "backend/schannel/credentials.h"

#include <sspi.h>
#include <schannel.h>

#include "backend/schannel/certificate_credentials.h"
#include "backend/schannel/sspi_error.h"
#include "backend/schannel/sspi_table.h"
#include "core/error.h"

namespace schan::schannel {

namespace {

// Every client protocol bit that a range can exclude. Listing SSL 2.0 to
// TLS 1.1 explicitly disables them even where the system still enables them.
constexpr DWORD kKnownClientProtocols = SP_PROT_SSL2_CLIENT | SP_PROT_SSL3_CLIENT | SP_PROT_TLS1_0_CLIENT |
                                        SP_PROT_TLS1_1_CLIENT | SP_PROT_TLS1_2_CLIENT | SP_PROT_TLS1_3_CLIENT;

constexpr DWORD kKnownServerProtocols = SP_PROT_SSL2_SERVER | SP_PROT_SSL3_SERVER | SP_PROT_TLS1_0_SERVER |
                                        SP_PROT_TLS1_1_SERVER | SP_PROT_TLS1_2_SERVER | SP_PROT_TLS1_3_SERVER;

constexpr DWORD kCredentialFlags = SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS | SCH_USE_STRONG_CRYPTO;

// A server verifies a client certificate itself, with the client's
// verification code, so SChannel maps no certificate to a Windows account.
constexpr DWORD kServerCredentialFlags = SCH_CRED_NO_SYSTEM_MAPPER | SCH_USE_STRONG_CRYPTO;

// The settings in which outbound and inbound credentials differ.
struct Direction {
    ULONG use;          // SECPKG_CRED_OUTBOUND or SECPKG_CRED_INBOUND
    DWORD flags;        // SCH_CRED_* flags
    DWORD known;        // every protocol bit of this direction
};

constexpr Direction kOutbound{SECPKG_CRED_OUTBOUND, kCredentialFlags, kKnownClientProtocols};
constexpr Direction kInbound{SECPKG_CRED_INBOUND, kServerCredentialFlags, kKnownServerProtocols};

std::uint16_t effective_max_version(const Config& config) noexcept
{
    return config.max_version == SCHAN_TLS_DEFAULT ? std::uint16_t{SCHAN_TLS_1_3} : config.max_version;
}

const char* version_label(std::uint16_t version) noexcept
{
    return version == SCHAN_TLS_1_3 ? "TLS 1.3" : "TLS 1.2";
}

SECURITY_STATUS acquire(const Direction& direction, void* auth_data, CredentialsHandle& credentials)
{
    TimeStamp expiry{};
    return sspi().AcquireCredentialsHandleW(nullptr, const_cast<SEC_WCHAR*>(UNISP_NAME_W), direction.use, nullptr,
                                            auth_data, nullptr, nullptr, credentials.receive(), &expiry);
}

// The own certificate goes to SChannel as paCred only when one is
// configured. Without one, a server that requests a certificate gets none.
struct OwnCertificate {
    PCCERT_CONTEXT context = nullptr;

    [[nodiscard]] DWORD count() const noexcept { return context == nullptr ? 0 : 1; }
    [[nodiscard]] PCCERT_CONTEXT* array() noexcept { return context == nullptr ? nullptr : &context; }
};

SECURITY_STATUS acquire_with_sch_credentials(const Direction& direction, DWORD enabled, OwnCertificate certificate,
                                             CredentialsHandle& credentials)
{
    TLS_PARAMETERS parameters{};
    parameters.grbitDisabledProtocols = direction.known & ~enabled;

    SCH_CREDENTIALS auth_data{};
    auth_data.dwVersion = SCH_CREDENTIALS_VERSION;
    auth_data.dwFlags = direction.flags;
    auth_data.cCreds = certificate.count();
    auth_data.paCred = certificate.array();
    auth_data.cTlsParameters = 1;
    auth_data.pTlsParameters = &parameters;
    return acquire(direction, &auth_data, credentials);
}

SECURITY_STATUS acquire_with_schannel_cred(const Direction& direction, DWORD enabled, OwnCertificate certificate,
                                           CredentialsHandle& credentials)
{
    SCHANNEL_CRED auth_data{};
    auth_data.dwVersion = SCHANNEL_CRED_VERSION;
    auth_data.dwFlags = direction.flags;
    auth_data.cCreds = certificate.count();
    auth_data.paCred = certificate.array();
    auth_data.grbitEnabledProtocols = enabled;
    return acquire(direction, &auth_data, credentials);
}

// Returns whether a provider turned SCH_CREDENTIALS down in a way that
// SCHANNEL_CRED may succeed after.
bool rejects_sch_credentials(SECURITY_STATUS status) noexcept
{
    switch (status) {
    // Windows 10 before version 1809 does not know SCH_CREDENTIALS_VERSION
    // and is expected to report unknown credentials (not measured).
    case SEC_E_UNKNOWN_CREDENTIALS:
    // Wine's sources after 8.0 accept only SCHANNEL_CRED versions and
    // return SEC_E_INTERNAL_ERROR for any other dwVersion.
    case SEC_E_INTERNAL_ERROR:
        return true;
    default:
        return false;
    }
}

// Returns whether the credentials enable a protocol that TLS_PARAMETERS
// disabled. Wine 8 accepts SCH_CREDENTIALS but ignores pTlsParameters: its
// credentials report SSL 3.0 to TLS 1.2 whatever the range, while it honors
// SCHANNEL_CRED's grbitEnabledProtocols.
bool ignores_disabled_protocols(CredentialsHandle& credentials, DWORD disabled)
{
    SecPkgCred_SupportedProtocols supported{};
    const SECURITY_STATUS status =
        sspi().QueryCredentialsAttributesW(credentials.get(), SECPKG_ATTR_SUPPORTED_PROTOCOLS, &supported);
    if (status != SEC_E_OK)
        return false;  // nothing known; trust the provider
    return (supported.grbitProtocol & disabled) != 0;
}

[[noreturn]] void fail_acquire(const Config& config, SECURITY_STATUS status)
{
    switch (status) {
    // Wine 8: none of the requested versions is implemented (TLS 1.3 only).
    case SEC_E_NO_AUTHENTICATING_AUTHORITY:
    // Windows: SCHANNEL_CRED cannot enable TLS 1.3, or the system disabled
    // every requested version.
    case SEC_E_ALGORITHM_MISMATCH:
        fail(SCHAN_E_UNSUPPORTED_VERSION,
             "this SChannel cannot use any protocol version in the configured range " +
                 describe_version_range(config) + ": AcquireCredentialsHandle failed: " + describe_status(status),
             static_cast<std::uint32_t>(status));
    default:
        fail_sspi("AcquireCredentialsHandle for " + describe_version_range(config), status);
    }
}

} // namespace

DWORD enabled_client_protocols(const Config& config) noexcept
{
    const std::uint16_t max_version = effective_max_version(config);
    DWORD enabled = 0;
    if (config.min_version <= SCHAN_TLS_1_2 && max_version >= SCHAN_TLS_1_2)
        enabled |= SP_PROT_TLS1_2_CLIENT;
    if (config.min_version <= SCHAN_TLS_1_3 && max_version >= SCHAN_TLS_1_3)
        enabled |= SP_PROT_TLS1_3_CLIENT;
    return enabled;
}

std::string describe_version_range(const Config& config)
{
    const std::uint16_t max_version = effective_max_version(config);
    if (config.min_version == max_version)
        return std::string(version_label(max_version)) + " only";
    return std::string(version_label(config.min_version)) + " to " + version_label(max_version);
}

namespace {

// Acquires credentials for `direction` with the protocol bits `enabled`
// (never 0), trying SCH_CREDENTIALS before SCHANNEL_CRED.
CredentialsHandle acquire_credentials(const Config& config, const Direction& direction, DWORD enabled)
{
    const OwnCertificate certificate{credentials_certificate(config.credentials)};
    CredentialsHandle credentials;
    SECURITY_STATUS status = acquire_with_sch_credentials(direction, enabled, certificate, credentials);
    if (status == SEC_E_OK) {
        if (!ignores_disabled_protocols(credentials, direction.known & ~enabled))
            return credentials;
        credentials.reset();
    } else if (!rejects_sch_credentials(status)) {
        fail_acquire(config, status);
    }

    status = acquire_with_schannel_cred(direction, enabled, certificate, credentials);
    if (status != SEC_E_OK)
        fail_acquire(config, status);
    return credentials;
}

[[noreturn]] void fail_empty_range(const Config& config)
{
    fail(SCHAN_E_UNSUPPORTED_VERSION, "the configured version range " + describe_version_range(config) +
                                          " contains no version that schan supports");
}

} // namespace

CredentialsHandle acquire_client_credentials(const Config& config)
{
    const DWORD enabled = enabled_client_protocols(config);
    if (enabled == 0)
        fail_empty_range(config);
    return acquire_credentials(config, kOutbound, enabled);
}

CredentialsHandle acquire_server_credentials(const Config& config)
{
    if (credentials_certificate(config.credentials) == nullptr)
        fail(SCHAN_E_INVALID_ARGUMENT, "a server needs a certificate and private key in its config");

    // The server bits sit one position below the client bits of each version.
    const DWORD enabled = enabled_client_protocols(config) >> 1;
    if (enabled == 0)
        fail_empty_range(config);
    return acquire_credentials(config, kInbound, enabled);
}

} // namespace schan::schannel
