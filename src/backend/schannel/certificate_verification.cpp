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

// Memory that CryptDecodeObjectEx allocated with CRYPT_DECODE_ALLOC_FLAG.
struct LocalDeleter {
    void operator()(void* memory) const noexcept { LocalFree(memory); }
};

// --- Limits and constants -------------------------------------------------

// Upper bound for all URL retrievals of one chain build together (CRLs, OCSP,
// missing issuers), so that an unreachable revocation server delays the
// handshake by at most this long. 15 seconds is the Windows default for a
// single retrieval.
constexpr DWORD kUrlRetrievalTimeoutMs = 15000;

// Wine 8 accepts CERT_CHAIN_ENGINE_CONFIG only when cbSize is its own struct
// size, which ends after hExclusiveTrustedPeople (the Windows 7 layout);
// mingw-w64's struct also has the Windows 8 field dwExclusiveFlags and is
// rejected with E_INVALIDARG. Windows accepts the Windows 7 size as well.
constexpr DWORD kEngineConfigSize = offsetof(CERT_CHAIN_ENGINE_CONFIG, dwExclusiveFlags);

// Windows' SECURITY_FLAG_IGNORE_CERT_CN_INVALID from <winhttp.h>, which this
// file does not otherwise need.
constexpr DWORD kIgnoreCommonNameInvalid = 0x00001000;

// Trust status bits that this code does not treat as errors. Validity period
// nesting is not required by RFC 5280, and neither OpenSSL nor the Windows
// chain engine since Vista reject it.
constexpr DWORD kIgnoredTrustErrors = CERT_TRUST_IS_NOT_TIME_NESTED;

constexpr DWORD kRevocationUnknownErrors = CERT_TRUST_REVOCATION_STATUS_UNKNOWN | CERT_TRUST_IS_OFFLINE_REVOCATION;

constexpr DWORD kNameConstraintErrors = CERT_TRUST_INVALID_NAME_CONSTRAINTS |
                                        CERT_TRUST_HAS_NOT_SUPPORTED_NAME_CONSTRAINT |
                                        CERT_TRUST_HAS_NOT_DEFINED_NAME_CONSTRAINT |
                                        CERT_TRUST_HAS_NOT_PERMITTED_NAME_CONSTRAINT |
                                        CERT_TRUST_HAS_EXCLUDED_NAME_CONSTRAINT;

const std::string kFailurePrefix = "certificate verification failed: ";

// --- Text helpers -----------------------------------------------------------

std::string to_utf8(const wchar_t* text, std::size_t length)
{
    if (length == 0)
        return {};
    const int size = WideCharToMultiByte(CP_UTF8, 0, text, static_cast<int>(length), nullptr, 0, nullptr, nullptr);
    if (size <= 0)
        return {};
    std::string utf8(static_cast<std::size_t>(size), '\0');
    WideCharToMultiByte(CP_UTF8, 0, text, static_cast<int>(length), utf8.data(), size, nullptr, nullptr);
    return utf8;
}

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

// Returns the subject as an RFC 4514 style string, most specific part first ("CN=localhost, O=Example").
std::string subject_name(PCCERT_CONTEXT certificate)
{
    const DWORD type = CERT_X500_NAME_STR | CERT_NAME_STR_REVERSE_FLAG;
    auto* subject = &certificate->pCertInfo->Subject;
    const DWORD size = CertNameToStrW(X509_ASN_ENCODING, subject, type, nullptr, 0);
    if (size <= 1)
        return "(empty subject)";

    std::wstring text(size, L'\0');
    CertNameToStrW(X509_ASN_ENCODING, subject, type, text.data(), size);
    return to_utf8(text.c_str(), size - 1);
}

std::string quoted_subject(PCCERT_CONTEXT certificate)
{
    return "'" + subject_name(certificate) + "'";
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

// --- IP addresses ---------------------------------------------------------

bool parse_decimal_octet(std::string_view text, std::uint8_t& octet)
{
    // Like inet_pton: one to three digits, no leading zero (it would be octal for inet_aton).
    if (text.empty() || text.size() > 3 || (text.size() > 1 && text[0] == '0'))
        return false;

    unsigned value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9')
            return false;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > 255)
        return false;

    octet = static_cast<std::uint8_t>(value);
    return true;
}

bool parse_ipv4(std::string_view text, std::vector<std::uint8_t>& out)
{
    std::vector<std::uint8_t> bytes;
    std::size_t start = 0;
    for (;;) {
        const std::size_t dot = text.find('.', start);
        const std::string_view part = text.substr(start, dot == std::string_view::npos ? dot : dot - start);
        std::uint8_t octet = 0;
        if (!parse_decimal_octet(part, octet))
            return false;
        bytes.push_back(octet);
        if (dot == std::string_view::npos)
            break;
        start = dot + 1;
    }
    if (bytes.size() != 4)
        return false;

    out.insert(out.end(), bytes.begin(), bytes.end());
    return true;
}

bool parse_hex_group(std::string_view text, std::vector<std::uint8_t>& out)
{
    if (text.empty() || text.size() > 4)
        return false;

    unsigned value = 0;
    for (const char c : text) {
        unsigned digit = 0;
        if (c >= '0' && c <= '9')
            digit = static_cast<unsigned>(c - '0');
        else if (c >= 'a' && c <= 'f')
            digit = static_cast<unsigned>(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            digit = static_cast<unsigned>(c - 'A' + 10);
        else
            return false;
        value = value * 16 + digit;
    }

    out.push_back(static_cast<std::uint8_t>(value >> 8));
    out.push_back(static_cast<std::uint8_t>(value & 0xff));
    return true;
}

// Parses colon-separated 16-bit groups. An empty text has no groups. When
// ipv4_tail is set, the last group may be a dotted IPv4 address (two groups).
bool parse_hex_groups(std::string_view text, bool ipv4_tail, std::vector<std::uint8_t>& out)
{
    if (text.empty())
        return true;

    std::size_t start = 0;
    for (;;) {
        const std::size_t colon = text.find(':', start);
        const bool last = colon == std::string_view::npos;
        const std::string_view group = text.substr(start, last ? colon : colon - start);
        const bool parsed = last && ipv4_tail && group.find('.') != std::string_view::npos
                                ? parse_ipv4(group, out)
                                : parse_hex_group(group, out);
        if (!parsed)
            return false;
        if (last)
            return true;
        start = colon + 1;
    }
}

std::optional<std::vector<std::uint8_t>> parse_ipv6(std::string_view text)
{
    std::vector<std::uint8_t> head;
    std::vector<std::uint8_t> tail;

    const std::size_t gap = text.find("::");
    if (gap == std::string_view::npos) {
        if (!parse_hex_groups(text, true, head) || head.size() != 16)
            return std::nullopt;
        return head;
    }

    // "::" stands for one or more zero groups and may appear only once.
    if (text.find("::", gap + 1) != std::string_view::npos)
        return std::nullopt;
    if (!parse_hex_groups(text.substr(0, gap), false, head) || !parse_hex_groups(text.substr(gap + 2), true, tail))
        return std::nullopt;
    if (head.size() + tail.size() > 14)
        return std::nullopt;

    std::vector<std::uint8_t> address = head;
    address.resize(16 - tail.size(), 0);
    address.insert(address.end(), tail.begin(), tail.end());
    return address;
}

std::string format_ip_address(const std::uint8_t* bytes, std::size_t length)
{
    char text[8];
    std::string result;
    if (length == 4) {
        for (std::size_t i = 0; i < 4; ++i) {
            std::snprintf(text, sizeof(text), i == 0 ? "%u" : ".%u", bytes[i]);
            result += text;
        }
        return result;
    }
    if (length != 16)
        return "(IP address of " + std::to_string(length) + " bytes)";

    std::array<unsigned, 8> groups{};
    for (std::size_t i = 0; i < 8; ++i)
        groups[i] = static_cast<unsigned>(bytes[2 * i] << 8 | bytes[2 * i + 1]);

    // RFC 5952: the longest run of two or more zero groups becomes "::".
    std::size_t best_start = 8;
    std::size_t best_length = 1;
    for (std::size_t i = 0; i < 8;) {
        std::size_t run = 0;
        while (i + run < 8 && groups[i + run] == 0)
            ++run;
        if (run > best_length) {
            best_start = i;
            best_length = run;
        }
        i += run > 0 ? run : 1;
    }

    for (std::size_t i = 0; i < 8; ++i) {
        if (i == best_start) {
            result += "::";
            i += best_length - 1;
            continue;
        }
        if (!result.empty() && result.back() != ':')
            result += ':';
        std::snprintf(text, sizeof(text), "%x", groups[i]);
        result += text;
    }
    return result;
}

// --- Subject alternative names --------------------------------------------

struct AlternativeNames {
    std::vector<std::vector<std::uint8_t>> ip_addresses;
    std::vector<std::string> descriptions;  // "DNS:localhost", "IP:127.0.0.1", in certificate order
};

AlternativeNames alternative_names(PCCERT_CONTEXT certificate)
{
    AlternativeNames names;
    const CERT_INFO* info = certificate->pCertInfo;
    const CERT_EXTENSION* extension = CertFindExtension(szOID_SUBJECT_ALT_NAME2, info->cExtension, info->rgExtension);
    if (extension == nullptr)
        return names;

    void* decoded = nullptr;
    DWORD size = 0;
    if (!CryptDecodeObjectEx(X509_ASN_ENCODING, X509_ALTERNATE_NAME, extension->Value.pbData,
                             extension->Value.cbData, CRYPT_DECODE_ALLOC_FLAG, nullptr, &decoded, &size)) {
        const auto code = static_cast<std::int32_t>(GetLastError());
        fail(SCHAN_E_CERT_INVALID,
             kFailurePrefix + "the subject alternative name extension of " + quoted_subject(certificate) +
                 " could not be decoded (" + describe_status(code) + ")",
             static_cast<std::uint32_t>(code));
    }
    const std::unique_ptr<void, LocalDeleter> owner(decoded);

    const auto* list = static_cast<const CERT_ALT_NAME_INFO*>(decoded);
    for (DWORD i = 0; i < list->cAltEntry; ++i) {
        const CERT_ALT_NAME_ENTRY& entry = list->rgAltEntry[i];
        if (entry.dwAltNameChoice == CERT_ALT_NAME_DNS_NAME && entry.pwszDNSName != nullptr) {
            names.descriptions.push_back("DNS:" + to_utf8(entry.pwszDNSName, wcslen(entry.pwszDNSName)));
        } else if (entry.dwAltNameChoice == CERT_ALT_NAME_IP_ADDRESS) {
            const std::uint8_t* bytes = entry.IPAddress.pbData;
            names.ip_addresses.emplace_back(bytes, bytes + entry.IPAddress.cbData);
            names.descriptions.push_back("IP:" + format_ip_address(bytes, entry.IPAddress.cbData));
        }
    }
    return names;
}

std::string describe_names(const AlternativeNames& names)
{
    if (names.descriptions.empty())
        return "it has no DNS or IP-address subject alternative name";

    std::string text = "its names are ";
    for (std::size_t i = 0; i < names.descriptions.size(); ++i)
        text += (i == 0 ? "" : ", ") + names.descriptions[i];
    return text;
}

// --- Trust anchors and chain building --------------------------------------

// Where the trusted roots of a verify mode come from, for messages.
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
// server that omits an intermediate still verifies when the bundle holds it.
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

    // The engine keeps its own references to the stores; the members still
    // outlive it (members are destroyed in reverse order).
    StorePtr roots_;
    StorePtr intermediates_;
    EnginePtr engine_;
};

DWORD chain_flags(schan_revocation_mode mode) noexcept
{
    if (mode == SCHAN_REVOCATION_OFF)
        return 0;
    // Roots are trusted by being installed, so their revocation is not
    // checked; the timeout covers all retrievals of the build together.
    return CERT_CHAIN_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT | CERT_CHAIN_REVOCATION_ACCUMULATIVE_TIMEOUT;
}

// Builds the peer's chain with `engine` (nullptr is the default engine with
// the system roots), using the certificates the server sent as intermediates.
ChainPtr build_chain(HCERTCHAINENGINE engine, PCCERT_CONTEXT peer, DWORD flags)
{
    char server_auth[] = szOID_PKIX_KP_SERVER_AUTH;
    LPSTR usages[] = {server_auth};

    CERT_CHAIN_PARA para{};
    para.cbSize = sizeof(para);
    para.RequestedUsage.dwType = USAGE_MATCH_TYPE_AND;
    para.RequestedUsage.Usage.cUsageIdentifier = 1;
    para.RequestedUsage.Usage.rgpszUsageIdentifier = usages;
    para.dwUrlRetrievalTimeout = kUrlRetrievalTimeoutMs;

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

// Why a chain is not acceptable: the schan status, the HRESULT that Windows'
// policy functions report for the same problem, and a sentence naming the certificate.
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
std::optional<ChainFailure> find_chain_failure(const CERT_CHAIN_CONTEXT& chain, const Config& config)
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
                                " is not valid for TLS server authentication (its extended key usage excludes it)"};
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
    if (errors & CERT_TRUST_IS_OFFLINE_REVOCATION)
        return ChainFailure{SCHAN_E_REVOCATION_UNKNOWN, CRYPT_E_REVOCATION_OFFLINE,
                            "the revocation server for " + element(CERT_TRUST_IS_OFFLINE_REVOCATION) +
                                " could not be reached and the revocation mode is strict"};
    if (errors & CERT_TRUST_REVOCATION_STATUS_UNKNOWN)
        return ChainFailure{SCHAN_E_REVOCATION_UNKNOWN, CRYPT_E_NO_REVOCATION_CHECK,
                            "the revocation status of " + element(CERT_TRUST_REVOCATION_STATUS_UNKNOWN) +
                                " could not be determined and the revocation mode is strict"};
    return ChainFailure{SCHAN_E_CERT_INVALID, TRUST_E_FAIL,
                        "the chain for " + leaf + " has trust errors " + hex(errors) +
                            " (CERT_TRUST_* bits from CertGetCertificateChain)"};
}

[[noreturn]] void fail_with(const ChainFailure& failure)
{
    fail(failure.status, kFailurePrefix + failure.reason + " (" + describe_status(failure.code) + ")",
         static_cast<std::uint32_t>(failure.code));
}

// Returns a chain that find_chain_failure() accepts, built by the engine of
// each trust source the verify mode allows, or throws the most telling failure.
ChainPtr build_trusted_chain(PCCERT_CONTEXT peer, const Config& config)
{
    const DWORD flags = chain_flags(config.revocation_mode);
    std::vector<ChainFailure> failures;

    if (config.verify_mode == SCHAN_VERIFY_CUSTOM_ONLY ||
        (config.verify_mode == SCHAN_VERIFY_CUSTOM_AND_SYSTEM && !config.ca_certificates.empty())) {
        const CustomTrust custom(config.ca_certificates);
        ChainPtr chain = build_chain(custom.engine(), peer, flags);
        auto failure = find_chain_failure(*chain, config);
        if (!failure)
            return chain;
        failures.push_back(std::move(*failure));
    }

    if (config.verify_mode == SCHAN_VERIFY_SYSTEM || config.verify_mode == SCHAN_VERIFY_CUSTOM_AND_SYSTEM) {
        ChainPtr chain = build_chain(nullptr, peer, flags);
        auto failure = find_chain_failure(*chain, config);
        if (!failure)
            return chain;
        failures.push_back(std::move(*failure));
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
// clean; it checks the DNS name and whatever else the system's policy adds.
void check_ssl_policy(const CERT_CHAIN_CONTEXT& chain, const Config& config, const std::string& server_name,
                      bool check_dns_name)
{
    std::wstring wide_name = check_dns_name ? to_wide(server_name) : std::wstring();

    SSL_EXTRA_CERT_CHAIN_POLICY_PARA ssl{};
    ssl.cbSize = sizeof(ssl);
    ssl.dwAuthType = AUTHTYPE_SERVER;
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
    fail_with(ChainFailure{map_sspi_status(code), code,
                           "the TLS server policy rejected the chain at " + quoted_subject(culprit)});
}

// Matches an IP literal against the leaf's IP-address subject alternative
// names only, as RFC 9110 and RFC 6125 require: no DNS name and no common
// name may stand in for an address. Wine 8's SSL policy does not match IP
// addresses at all, and Windows' policy also accepts a DNS name or common name
// that spells the address.
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

std::optional<std::vector<std::uint8_t>> parse_ip_address(std::string_view text)
{
    std::vector<std::uint8_t> address;
    if (parse_ipv4(text, address))
        return address;
    if (text.find(':') != std::string_view::npos)
        return parse_ipv6(text);
    return std::nullopt;
}

void verify_server_certificate(PCCERT_CONTEXT peer, const Config& config, const std::string& server_name)
{
    if (config.verify_mode == SCHAN_VERIFY_NONE)
        return;
    if (peer == nullptr)
        fail(SCHAN_E_CERT_INVALID, kFailurePrefix + "the server sent no certificate");

    const ChainPtr chain = build_trusted_chain(peer, config);

    const auto address = parse_ip_address(server_name);
    const bool check_dns_name = !server_name.empty() && !address;
    check_ssl_policy(*chain, config, server_name, check_dns_name);

    if (address)
        check_ip_address(peer, *address, server_name);
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
