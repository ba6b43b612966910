// NOTE: this code has run only under Wine 8. Statements about real Windows in
// the comments come from Microsoft's documentation, not from a test.

// CERT_CHAIN_PARA declares dwUrlRetrievalTimeout only with this macro, and it
// must be defined before <wincrypt.h> is first included.
#define CERT_CHAIN_PARA_HAS_EXTRA_FIELDS

#include "backend/schannel/certificate_verification.h"

#include <windows.h>
#include <wincrypt.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backend/schannel/certificate_names.h"
#include "backend/schannel/sspi_error.h"
#include "core/error.h"

namespace schan::schannel {

namespace {

// --- Owners of crypt32 handles -------------------------------------------

struct CertificateDeleter {
    void operator()(PCCERT_CONTEXT certificate) const noexcept { CertFreeCertificateContext(certificate); }
};
using CertificatePtr = std::unique_ptr<const CERT_CONTEXT, CertificateDeleter>;

struct ChainDeleter {
    void operator()(PCCERT_CHAIN_CONTEXT chain) const noexcept { CertFreeCertificateChain(chain); }
};
using ChainPtr = std::unique_ptr<const CERT_CHAIN_CONTEXT, ChainDeleter>;

// HCERTSTORE and HCERTCHAINENGINE are both void*, so unique_ptr<void, ...> owns them.
struct StoreDeleter {
    void operator()(HCERTSTORE store) const noexcept { CertCloseStore(store, 0); }
};
using StorePtr = std::unique_ptr<void, StoreDeleter>;

struct EngineDeleter {
    void operator()(HCERTCHAINENGINE engine) const noexcept { CertFreeCertificateChainEngine(engine); }
};
using EnginePtr = std::unique_ptr<void, EngineDeleter>;

// --- Limits and constants -------------------------------------------------

// Upper bound for the URL retrievals (CRLs, OCSP, missing issuers) of one
// chain build together, with CERT_CHAIN_REVOCATION_ACCUMULATIVE_TIMEOUT. A
// verification builds one to three chains. Measured under Wine 8: a CRL server
// that accepts the connection and never responds costs 7.5 s per chain build,
// because the accumulative timeout gives the first URL half of the budget.
constexpr DWORD kUrlRetrievalTimeoutMs = 15000;

// Wine 8 accepts CERT_CHAIN_ENGINE_CONFIG only when cbSize is its own struct
// size, which ends after hExclusiveTrustedPeople (the Windows 7 layout).
// mingw-w64's struct also has the Windows 8 field dwExclusiveFlags, so its
// sizeof is rejected with E_INVALIDARG.
constexpr DWORD kEngineConfigSize = offsetof(CERT_CHAIN_ENGINE_CONFIG, dwExclusiveFlags);

// Wine 8 passes dwUrlRetrievalTimeout on to the revocation check only when
// CERT_CHAIN_PARA.cbSize equals its own struct size, which ends after
// pftCacheResync (the Windows 7 layout). Without the timeout, a check against
// a CRL server that accepts the connection and never responds had not returned
// after 200 s. mingw-w64's struct also has the Windows 8 strong-signature fields.
constexpr DWORD kChainParaSize = offsetof(CERT_CHAIN_PARA, pStrongSignPara);

// Windows' SECURITY_FLAG_IGNORE_CERT_CN_INVALID from <winhttp.h>, which this
// file does not otherwise need.
constexpr DWORD kIgnoreCommonNameInvalid = 0x00001000;

// Trust status bits that this code does not treat as errors. RFC 5280 does
// not require nested validity periods, and OpenSSL does not check them.
constexpr DWORD kIgnoredTrustErrors = CERT_TRUST_IS_NOT_TIME_NESTED;

constexpr DWORD kRevocationUnknownErrors = CERT_TRUST_REVOCATION_STATUS_UNKNOWN | CERT_TRUST_IS_OFFLINE_REVOCATION;

constexpr DWORD kNameConstraintErrors = CERT_TRUST_INVALID_NAME_CONSTRAINTS |
                                        CERT_TRUST_HAS_NOT_SUPPORTED_NAME_CONSTRAINT |
                                        CERT_TRUST_HAS_NOT_DEFINED_NAME_CONSTRAINT |
                                        CERT_TRUST_HAS_NOT_PERMITTED_NAME_CONSTRAINT |
                                        CERT_TRUST_HAS_EXCLUDED_NAME_CONSTRAINT;

const std::string kFailurePrefix = "certificate verification failed: ";

// The purpose a verified certificate must serve: the extended key usage the
// chain must allow and the side of the SSL chain policy.
struct Purpose {
    const char* usage;      // szOID_PKIX_KP_SERVER_AUTH or szOID_PKIX_KP_CLIENT_AUTH
    DWORD auth_type;        // AUTHTYPE_SERVER or AUTHTYPE_CLIENT
    const char* usage_name; // for messages
};

const Purpose kServerPurpose{szOID_PKIX_KP_SERVER_AUTH, AUTHTYPE_SERVER, "TLS server authentication"};
const Purpose kClientPurpose{szOID_PKIX_KP_CLIENT_AUTH, AUTHTYPE_CLIENT, "TLS client authentication"};

// --- Text helpers -----------------------------------------------------------

std::wstring to_wide(const std::string& text)
{
    if (text.empty())
        return {};
    const int size = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, text.data(), static_cast<int>(text.size()),
                                         nullptr, 0);
    if (size <= 0)
        fail(SCHAN_E_INVALID_ARGUMENT, "certificate verification failed: the server name is not valid UTF-8");
    std::wstring wide(static_cast<std::size_t>(size), L'\0');
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, text.data(), static_cast<int>(text.size()), wide.data(), size);
    return wide;
}

std::string format_time(const FILETIME& time)
{
    SYSTEMTIME utc{};
    if (!FileTimeToSystemTime(&time, &utc))
        return "(invalid time)";
    char text[32];
    std::snprintf(text, sizeof(text), "%04u-%02u-%02u %02u:%02u:%02u UTC", utc.wYear, utc.wMonth, utc.wDay,
                  utc.wHour, utc.wMinute, utc.wSecond);
    return text;
}

// --- Trust anchors and chain building --------------------------------------

// Returns the trusted roots of a verify mode as words for messages.
const char* trust_source(schan_verify_mode mode) noexcept
{
    switch (mode) {
    case SCHAN_VERIFY_CUSTOM_ONLY:
        return "the configured CA bundle";
    case SCHAN_VERIFY_CUSTOM_AND_SYSTEM:
        return "the configured CA bundle or the system root store";
    default:
        return "the system root store";
    }
}

StorePtr open_memory_store()
{
    HCERTSTORE store = CertOpenStore(CERT_STORE_PROV_MEMORY, 0, 0, CERT_STORE_CREATE_NEW_FLAG, nullptr);
    if (store == nullptr) {
        const auto code = static_cast<std::int32_t>(GetLastError());
        fail(SCHAN_E_OUT_OF_MEMORY, kFailurePrefix + "CertOpenStore for a memory store failed (" +
                                        describe_status(code) + ")",
             static_cast<std::uint32_t>(code));
    }
    return StorePtr(store);
}

// A chain engine whose only trusted roots are the self-signed certificates of
// the CA bundle. The bundle's other certificates serve as intermediates, so a
// server that omits an intermediate still verifies when the bundle contains it.
// Like OpenSSL without X509_V_FLAG_PARTIAL_CHAIN, an intermediate in the
// bundle is never a trust anchor by itself.
class CustomTrust {
public:
    explicit CustomTrust(const std::vector<Der>& bundle)
        : roots_(open_memory_store()), intermediates_(open_memory_store())
    {
        for (std::size_t i = 0; i < bundle.size(); ++i)
            add(bundle[i], i);

        HCERTSTORE additional[] = {intermediates_.get()};
        CERT_CHAIN_ENGINE_CONFIG config{};
        config.cbSize = kEngineConfigSize;
        config.cAdditionalStore = 1;
        config.rghAdditionalStore = additional;
        config.dwUrlRetrievalTimeout = kUrlRetrievalTimeoutMs;
        config.hExclusiveRoot = roots_.get();

        HCERTCHAINENGINE engine = nullptr;
        if (!CertCreateCertificateChainEngine(&config, &engine)) {
            const auto code = static_cast<std::int32_t>(GetLastError());
            fail(SCHAN_E_INTERNAL, kFailurePrefix + "CertCreateCertificateChainEngine for the CA bundle failed (" +
                                       describe_status(code) + ")",
                 static_cast<std::uint32_t>(code));
        }
        engine_.reset(engine);
    }

    [[nodiscard]] HCERTCHAINENGINE engine() const noexcept { return engine_.get(); }

private:
    void add(const Der& der, std::size_t index)
    {
        PCCERT_CONTEXT certificate = CertCreateCertificateContext(
            X509_ASN_ENCODING, reinterpret_cast<const BYTE*>(der.data()), static_cast<DWORD>(der.size()));
        if (certificate == nullptr) {
            const auto code = static_cast<std::int32_t>(GetLastError());
            fail(SCHAN_E_BAD_FORMAT,
                 kFailurePrefix + "certificate " + std::to_string(index + 1) +
                     " of the CA bundle could not be decoded (" + describe_status(code) + ")",
                 static_cast<std::uint32_t>(code));
        }
        const CertificatePtr owner(certificate);

        const CERT_INFO* info = certificate->pCertInfo;
        const bool self_issued = CertCompareCertificateName(X509_ASN_ENCODING, const_cast<CERT_NAME_BLOB*>(&info->Subject),
                                                            const_cast<CERT_NAME_BLOB*>(&info->Issuer)) != FALSE;
        HCERTSTORE store = self_issued ? roots_.get() : intermediates_.get();
        if (!CertAddCertificateContextToStore(store, certificate, CERT_STORE_ADD_USE_EXISTING, nullptr)) {
            const auto code = static_cast<std::int32_t>(GetLastError());
            fail(SCHAN_E_INTERNAL,
                 kFailurePrefix + "CertAddCertificateContextToStore for CA bundle certificate " +
                     std::to_string(index + 1) + " failed (" + describe_status(code) + ")",
                 static_cast<std::uint32_t>(code));
        }
    }

    // The engine keeps its own references to the stores. The stores still
    // outlive it, because members are destroyed in reverse order.
    StorePtr roots_;
    StorePtr intermediates_;
    EnginePtr engine_;
};

// Wine 8's cryptnet.dll leaves its asynchronous WinINet request running when
// a CRL download times out, and crypt32 unloads cryptnet.dll after the
// revocation check. The request's completion callback then jumps into
// unmapped code and crashes the process (measured with a loopback CRL server
// that accepts connections and never responds). One reference held for the
// life of the process keeps the code mapped. On Windows it only keeps a
// system DLL loaded.
// NOTE: under Wine the late callback still writes to a context that cryptnet
// has freed; only a fixed Wine removes that.
void keep_cryptnet_loaded() noexcept
{
    static const HMODULE cryptnet = LoadLibraryExW(L"cryptnet.dll", nullptr, LOAD_LIBRARY_SEARCH_SYSTEM32);
    static_cast<void>(cryptnet);
}

DWORD chain_flags(schan_revocation_mode mode) noexcept
{
    if (mode == SCHAN_REVOCATION_OFF)
        return 0;
    // Roots are trusted by being installed, so their revocation is not
    // checked. The timeout covers all retrievals of one build together.
    return CERT_CHAIN_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT | CERT_CHAIN_REVOCATION_ACCUMULATIVE_TIMEOUT;
}

// Builds the peer's chain with `engine` (nullptr is the default engine with
// the system roots), using the certificates the peer sent as intermediates.
ChainPtr build_chain(HCERTCHAINENGINE engine, PCCERT_CONTEXT peer, DWORD flags,
                     const Purpose& purpose = kServerPurpose)
{
    LPSTR usages[] = {const_cast<LPSTR>(purpose.usage)};

    CERT_CHAIN_PARA para{};
    para.cbSize = kChainParaSize;
    para.RequestedUsage.dwType = USAGE_MATCH_TYPE_AND;
    para.RequestedUsage.Usage.cUsageIdentifier = 1;
    para.RequestedUsage.Usage.rgpszUsageIdentifier = usages;
    para.dwUrlRetrievalTimeout = kUrlRetrievalTimeoutMs;

    if (flags != 0)
        keep_cryptnet_loaded();

    PCCERT_CHAIN_CONTEXT chain = nullptr;
    if (!CertGetCertificateChain(engine, peer, nullptr, peer->hCertStore, &para, flags, nullptr, &chain)) {
        const auto code = static_cast<std::int32_t>(GetLastError());
        const schan_status status = code == E_INVALIDARG ? SCHAN_E_INTERNAL : SCHAN_E_CERT_INVALID;
        fail(status,
             kFailurePrefix + "CertGetCertificateChain failed for " + quoted_subject(peer) + " (" +
                 describe_status(code) + ")",
             static_cast<std::uint32_t>(code));
    }
    return ChainPtr(chain);
}

// --- Chain trust status -----------------------------------------------------

// Why a chain is not acceptable: the schan status, the HRESULT that names the
// problem, and a sentence that names the certificate.
struct ChainFailure {
    schan_status status;
    HRESULT code;
    std::string reason;
};

// Returns the first certificate of the chain whose trust status has one of `bits`.
PCCERT_CONTEXT find_element(const CERT_CHAIN_CONTEXT& chain, DWORD bits)
{
    for (DWORD i = 0; i < chain.cChain; ++i) {
        const CERT_SIMPLE_CHAIN* simple = chain.rgpChain[i];
        for (DWORD j = 0; j < simple->cElement; ++j)
            if ((simple->rgpElement[j]->TrustStatus.dwErrorStatus & bits) != 0)
                return simple->rgpElement[j]->pCertContext;
    }
    return nullptr;
}

PCCERT_CONTEXT leaf_of(const CERT_CHAIN_CONTEXT& chain)
{
    return chain.rgpChain[0]->rgpElement[0]->pCertContext;
}

PCCERT_CONTEXT last_of(const CERT_CHAIN_CONTEXT& chain)
{
    const CERT_SIMPLE_CHAIN* simple = chain.rgpChain[chain.cChain - 1];
    return simple->rgpElement[simple->cElement - 1]->pCertContext;
}

std::string describe_validity(PCCERT_CONTEXT certificate)
{
    const CERT_INFO* info = certificate->pCertInfo;
    FILETIME now{};
    GetSystemTimeAsFileTime(&now);
    if (CompareFileTime(&now, &info->NotBefore) < 0)
        return quoted_subject(certificate) + " is not yet valid: its validity starts " + format_time(info->NotBefore);
    return quoted_subject(certificate) + " has expired: its validity ended " + format_time(info->NotAfter);
}

// Checks the chain's trust status bits. Both the SSL policy and these checks
// are needed: Wine 8's SSL policy accepts a chain with
// CERT_TRUST_IS_PARTIAL_CHAIN, and its automatic validation accepts anything.
std::optional<ChainFailure> find_chain_failure(const CERT_CHAIN_CONTEXT& chain, const Config& config,
                                              const Purpose& purpose)
{
    DWORD errors = chain.TrustStatus.dwErrorStatus & ~kIgnoredTrustErrors;
    if (config.revocation_mode != SCHAN_REVOCATION_STRICT)
        errors &= ~kRevocationUnknownErrors;
    if (errors == 0)
        return std::nullopt;

    const std::string leaf = quoted_subject(leaf_of(chain));
    const std::string source = trust_source(config.verify_mode);
    auto element = [&](DWORD bits) {
        const PCCERT_CONTEXT found = find_element(chain, bits);
        return found != nullptr ? quoted_subject(found) : leaf;
    };

    // Ordered so that the most fundamental problem is reported: an untrusted
    // chain first, because its other properties mean nothing.
    if (errors & CERT_TRUST_IS_PARTIAL_CHAIN)
        return ChainFailure{SCHAN_E_CERT_UNTRUSTED, CERT_E_CHAINING,
                            "the chain for " + leaf + " is incomplete: the issuer of " + quoted_subject(last_of(chain)) +
                                " was neither sent by the server nor found in " + source};
    if (errors & CERT_TRUST_IS_UNTRUSTED_ROOT)
        return ChainFailure{SCHAN_E_CERT_UNTRUSTED, CERT_E_UNTRUSTEDROOT,
                            "the chain for " + leaf + " ends at an untrusted root " + quoted_subject(last_of(chain)) +
                                ", which is not in " + source};
    if (errors & CERT_TRUST_IS_EXPLICIT_DISTRUST)
        return ChainFailure{SCHAN_E_CERT_UNTRUSTED, TRUST_E_EXPLICIT_DISTRUST,
                            element(CERT_TRUST_IS_EXPLICIT_DISTRUST) + " is explicitly distrusted by the system"};
    if (errors & CERT_TRUST_IS_CYCLIC)
        return ChainFailure{SCHAN_E_CERT_UNTRUSTED, CERT_E_CHAINING,
                            "the chain for " + leaf + " loops back to " + element(CERT_TRUST_IS_CYCLIC)};
    if (errors & CERT_TRUST_IS_REVOKED)
        return ChainFailure{SCHAN_E_CERT_REVOKED, CRYPT_E_REVOKED, element(CERT_TRUST_IS_REVOKED) + " is revoked"};
    if (errors & CERT_TRUST_IS_NOT_TIME_VALID) {
        const PCCERT_CONTEXT found = find_element(chain, CERT_TRUST_IS_NOT_TIME_VALID);
        return ChainFailure{SCHAN_E_CERT_EXPIRED, CERT_E_EXPIRED,
                            describe_validity(found != nullptr ? found : leaf_of(chain))};
    }
    if (errors & CERT_TRUST_IS_NOT_SIGNATURE_VALID)
        return ChainFailure{SCHAN_E_CERT_INVALID, TRUST_E_CERT_SIGNATURE,
                            "the signature of " + element(CERT_TRUST_IS_NOT_SIGNATURE_VALID) + " is invalid"};
    if (errors & CERT_TRUST_IS_NOT_VALID_FOR_USAGE)
        return ChainFailure{SCHAN_E_CERT_INVALID, CERT_E_WRONG_USAGE,
                            element(CERT_TRUST_IS_NOT_VALID_FOR_USAGE) +
                                " is not valid for " + purpose.usage_name + " (its extended key usage excludes it)"};
    if (errors & CERT_TRUST_INVALID_BASIC_CONSTRAINTS)
        return ChainFailure{SCHAN_E_CERT_INVALID, TRUST_E_BASIC_CONSTRAINTS,
                            element(CERT_TRUST_INVALID_BASIC_CONSTRAINTS) +
                                " violates basic constraints: it issues certificates but is not a CA, or the path is "
                                "too long"};
    if (errors & kNameConstraintErrors)
        return ChainFailure{SCHAN_E_CERT_INVALID, CERT_E_INVALID_NAME,
                            element(kNameConstraintErrors) + " violates the name constraints of its issuers"};
    if (errors & CERT_TRUST_INVALID_POLICY_CONSTRAINTS)
        return ChainFailure{SCHAN_E_CERT_INVALID, CERT_E_INVALID_POLICY,
                            element(CERT_TRUST_INVALID_POLICY_CONSTRAINTS) + " violates policy constraints"};
    if (errors & (CERT_TRUST_INVALID_EXTENSION | CERT_TRUST_HAS_NOT_SUPPORTED_CRITICAL_EXT))
        return ChainFailure{SCHAN_E_CERT_INVALID, CERT_E_CRITICAL,
                            element(CERT_TRUST_INVALID_EXTENSION | CERT_TRUST_HAS_NOT_SUPPORTED_CRITICAL_EXT) +
                                " has an invalid or unsupported critical extension"};
    // Wine 8 sets CERT_TRUST_IS_OFFLINE_REVOCATION (with STATUS_UNKNOWN) also
    // for a certificate that names no CRL distribution point or OCSP
    // responder, as measured with the test PKI.
    if (errors & CERT_TRUST_IS_OFFLINE_REVOCATION)
        return ChainFailure{SCHAN_E_REVOCATION_UNKNOWN, CRYPT_E_REVOCATION_OFFLINE,
                            "the revocation status of " + element(CERT_TRUST_IS_OFFLINE_REVOCATION) +
                                " could not be determined (the revocation information is offline) and the "
                                "revocation mode is strict"};
    if (errors & CERT_TRUST_REVOCATION_STATUS_UNKNOWN)
        return ChainFailure{SCHAN_E_REVOCATION_UNKNOWN, CRYPT_E_NO_REVOCATION_CHECK,
                            "the revocation status of " + element(CERT_TRUST_REVOCATION_STATUS_UNKNOWN) +
                                " could not be determined and the revocation mode is strict"};
    return ChainFailure{SCHAN_E_CERT_INVALID, TRUST_E_FAIL,
                        "the chain for " + leaf + " has trust errors " + hex(errors) +
                            " (CERT_TRUST_* bits from CertGetCertificateChain)"};
}

// Maps an error of CertVerifyCertificateChainPolicy to a certificate status.
// map_sspi_status() falls back to SCHAN_E_HANDSHAKE_FAILED for codes it does
// not know, but every policy error is a problem of the certificate.
schan_status certificate_status(HRESULT code) noexcept
{
    const schan_status status = map_sspi_status(code);
    switch (status) {
    case SCHAN_E_CERT_UNTRUSTED:
    case SCHAN_E_CERT_EXPIRED:
    case SCHAN_E_CERT_NAME_MISMATCH:
    case SCHAN_E_CERT_REVOKED:
    case SCHAN_E_REVOCATION_UNKNOWN:
    case SCHAN_E_CERT_INVALID:
        return status;
    default:
        return SCHAN_E_CERT_INVALID;
    }
}

[[noreturn]] void fail_with(const ChainFailure& failure)
{
    fail(failure.status, kFailurePrefix + failure.reason + " (" + describe_status(failure.code) + ")",
         static_cast<std::uint32_t>(failure.code));
}

// Builds the chain with `engine` and returns it when its trust status is
// clean. Otherwise appends the reason to `failures` and returns nullptr.
ChainPtr build_clean_chain(HCERTCHAINENGINE engine, PCCERT_CONTEXT peer, const Config& config,
                           const Purpose& purpose, std::vector<ChainFailure>& failures)
{
    ChainPtr chain = build_chain(engine, peer, chain_flags(config.revocation_mode), purpose);
    if (auto failure = find_chain_failure(*chain, config, purpose)) {
        failures.push_back(std::move(*failure));
        return nullptr;
    }

    // Only best effort gets here with an unknown revocation status. Wine 8's
    // SSL policy ignores CERT_CHAIN_POLICY_IGNORE_ALL_REV_UNKNOWN_FLAGS and
    // fails such a chain with CERT_E_REVOCATION_FAILURE before it checks the
    // name, so the policy gets the same chain built without revocation checks.
    if ((chain->TrustStatus.dwErrorStatus & kRevocationUnknownErrors) != 0)
        chain = build_chain(engine, peer, 0, purpose);
    return chain;
}

// Returns a chain that find_chain_failure() accepts, built by the engine of
// each trust source the verify mode allows, or throws the most telling failure.
ChainPtr build_trusted_chain(PCCERT_CONTEXT peer, const Config& config, const Purpose& purpose)
{
    std::vector<ChainFailure> failures;

    if (config.verify_mode == SCHAN_VERIFY_CUSTOM_ONLY ||
        (config.verify_mode == SCHAN_VERIFY_CUSTOM_AND_SYSTEM && !config.ca_certificates.empty())) {
        const CustomTrust custom(config.ca_certificates);
        if (ChainPtr chain = build_clean_chain(custom.engine(), peer, config, purpose, failures))
            return chain;
    }

    if (config.verify_mode == SCHAN_VERIFY_SYSTEM || config.verify_mode == SCHAN_VERIFY_CUSTOM_AND_SYSTEM) {
        if (ChainPtr chain = build_clean_chain(nullptr, peer, config, purpose, failures))
            return chain;
    }

    // With two trust sources, a failure other than "untrusted" comes from the
    // engine that did trust the root (an expired leaf under the CA bundle),
    // so it is the one worth reporting.
    for (const ChainFailure& failure : failures)
        if (failure.status != SCHAN_E_CERT_UNTRUSTED)
            fail_with(failure);
    fail_with(failures.front());
}

// --- Name checks ----------------------------------------------------------

// Runs Windows' TLS server policy on a chain whose trust status is already
// clean. The policy checks the DNS name and whatever else the system adds.
void check_ssl_policy(const CERT_CHAIN_CONTEXT& chain, const Config& config, const std::string& server_name,
                      bool check_dns_name, const Purpose& purpose = kServerPurpose)
{
    std::wstring wide_name = check_dns_name ? to_wide(server_name) : std::wstring();

    SSL_EXTRA_CERT_CHAIN_POLICY_PARA ssl{};
    ssl.cbSize = sizeof(ssl);
    ssl.dwAuthType = purpose.auth_type;
    ssl.fdwChecks = check_dns_name ? 0 : kIgnoreCommonNameInvalid;
    ssl.pwszServerName = check_dns_name ? wide_name.data() : nullptr;

    CERT_CHAIN_POLICY_PARA para{};
    para.cbSize = sizeof(para);
    para.dwFlags = CERT_CHAIN_POLICY_IGNORE_NOT_TIME_NESTED_FLAG;
    if (config.revocation_mode != SCHAN_REVOCATION_STRICT)
        para.dwFlags |= CERT_CHAIN_POLICY_IGNORE_ALL_REV_UNKNOWN_FLAGS;
    para.pvExtraPolicyPara = &ssl;

    CERT_CHAIN_POLICY_STATUS status{};
    status.cbSize = sizeof(status);
    if (!CertVerifyCertificateChainPolicy(CERT_CHAIN_POLICY_SSL, &chain, &para, &status)) {
        const auto code = static_cast<std::int32_t>(GetLastError());
        fail(SCHAN_E_INTERNAL, kFailurePrefix + "CertVerifyCertificateChainPolicy failed (" + describe_status(code) + ")",
             static_cast<std::uint32_t>(code));
    }
    if (status.dwError == 0)
        return;

    const auto code = static_cast<HRESULT>(status.dwError);
    const PCCERT_CONTEXT leaf = leaf_of(chain);
    if (code == CERT_E_CN_NO_MATCH) {
        fail_with(ChainFailure{SCHAN_E_CERT_NAME_MISMATCH, code,
                               quoted_subject(leaf) + " does not match the server name '" + server_name + "': " +
                                   describe_names(alternative_names(leaf))});
    }

    // lChainIndex and lElementIndex are -1 when the error is not tied to one certificate.
    PCCERT_CONTEXT culprit = leaf;
    if (status.lChainIndex >= 0 && static_cast<DWORD>(status.lChainIndex) < chain.cChain) {
        const CERT_SIMPLE_CHAIN* simple = chain.rgpChain[status.lChainIndex];
        if (status.lElementIndex >= 0 && static_cast<DWORD>(status.lElementIndex) < simple->cElement)
            culprit = simple->rgpElement[status.lElementIndex]->pCertContext;
    }
    fail_with(ChainFailure{certificate_status(code), code,
                           "the TLS server policy rejected the chain at " + quoted_subject(culprit)});
}

// Matches an IP literal against the leaf's IP-address subject alternative
// names only: RFC 2818 section 3.1 requires an iPAddress entry that exactly
// matches, so no DNS name and no common name may stand in for an address.
// Wine 8's SSL policy does not match IP addresses at all, and Windows' policy
// is documented to compare the server name with DNS names and the common
// name, which would accept a DNS name that spells the address.
void check_ip_address(PCCERT_CONTEXT leaf, const std::vector<std::uint8_t>& address, const std::string& server_name)
{
    const AlternativeNames names = alternative_names(leaf);
    for (const auto& candidate : names.ip_addresses)
        if (candidate == address)
            return;

    fail_with(ChainFailure{SCHAN_E_CERT_NAME_MISMATCH, CERT_E_CN_NO_MATCH,
                           quoted_subject(leaf) + " has no IP-address subject alternative name " + server_name +
                               ": " + describe_names(names)});
}

// --- Chain export -----------------------------------------------------------

Der to_der(PCCERT_CONTEXT certificate)
{
    const auto* begin = reinterpret_cast<const std::byte*>(certificate->pbCertEncoded);
    return Der(begin, begin + certificate->cbCertEncoded);
}

std::vector<Der> chain_to_der(const CERT_CHAIN_CONTEXT& chain)
{
    std::vector<Der> result;
    for (DWORD i = 0; i < chain.cChain; ++i) {
        const CERT_SIMPLE_CHAIN* simple = chain.rgpChain[i];
        for (DWORD j = 0; j < simple->cElement; ++j)
            result.push_back(to_der(simple->rgpElement[j]->pCertContext));
    }
    return result;
}

// The leaf, then every other certificate the server sent, in store order.
std::vector<Der> sent_certificates(PCCERT_CONTEXT peer)
{
    std::vector<Der> result{to_der(peer)};
    if (peer->hCertStore == nullptr)
        return result;

    PCCERT_CONTEXT certificate = nullptr;
    while ((certificate = CertEnumCertificatesInStore(peer->hCertStore, certificate)) != nullptr) {
        if (!CertCompareCertificate(X509_ASN_ENCODING, certificate->pCertInfo, peer->pCertInfo))
            result.push_back(to_der(certificate));
    }
    return result;
}

} // namespace

void verify_server_certificate(PCCERT_CONTEXT peer, const Config& config, const std::string& server_name)
{
    if (config.verify_mode == SCHAN_VERIFY_NONE)
        return;
    if (peer == nullptr)
        fail(SCHAN_E_CERT_INVALID, kFailurePrefix + "the server sent no certificate");

    const ChainPtr chain = build_trusted_chain(peer, config, kServerPurpose);

    const auto address = parse_ip_address(server_name);
    const bool check_dns_name = !server_name.empty() && !address;
    check_ssl_policy(*chain, config, server_name, check_dns_name);

    if (address)
        check_ip_address(peer, *address, server_name);
}

void verify_client_certificate(PCCERT_CONTEXT peer, const Config& config)
{
    if (config.verify_mode == SCHAN_VERIFY_NONE)
        return;
    if (peer == nullptr)
        fail(SCHAN_E_CERT_INVALID, kFailurePrefix + "the client sent no certificate");

    // A client certificate names no host, so only the chain is checked.
    const ChainPtr chain = build_trusted_chain(peer, config, kClientPurpose);
    check_ssl_policy(*chain, config, {}, false, kClientPurpose);
}

std::vector<Der> peer_chain(PCCERT_CONTEXT peer, const Config& config)
{
    if (peer == nullptr)
        return {};

    // A chain that does not reach a trusted root may miss certificates the
    // server sent, so the server's own list is returned then. Revocation is
    // not checked: it changes only the status, never the certificates.
    try {
        std::optional<CustomTrust> custom;
        if (config.verify_mode == SCHAN_VERIFY_CUSTOM_ONLY ||
            (config.verify_mode == SCHAN_VERIFY_CUSTOM_AND_SYSTEM && !config.ca_certificates.empty()))
            custom.emplace(config.ca_certificates);

        std::vector<HCERTCHAINENGINE> engines;
        if (custom)
            engines.push_back(custom->engine());
        if (config.verify_mode != SCHAN_VERIFY_CUSTOM_ONLY)
            engines.push_back(nullptr);

        for (HCERTCHAINENGINE engine : engines) {
            const ChainPtr chain = build_chain(engine, peer, 0);
            const DWORD untrusted = CERT_TRUST_IS_PARTIAL_CHAIN | CERT_TRUST_IS_UNTRUSTED_ROOT;
            if ((chain->TrustStatus.dwErrorStatus & untrusted) == 0)
                return chain_to_der(*chain);
        }
    } catch (const Error&) {
        // No chain could be built (a malformed certificate, say, which
        // SCHAN_VERIFY_NONE lets through): the certificates as sent remain.
    }
    return sent_certificates(peer);
}

} // namespace schan::schannel
