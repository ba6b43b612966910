#include "backend/schannel/sspi_error.h"

#include <windows.h>
#include <sspi.h>
#include <wincrypt.h>
#include <winerror.h>

#include "core/error.h"

namespace schan::schannel {

namespace {

struct Symbol {
    std::int32_t code;
    const char* name;
};

#define SCHAN_SYMBOL(code) Symbol{static_cast<std::int32_t>(code), #code}

constexpr Symbol kSymbols[] = {
    SCHAN_SYMBOL(SEC_E_OK),
    SCHAN_SYMBOL(SEC_I_CONTINUE_NEEDED),
    SCHAN_SYMBOL(SEC_I_COMPLETE_NEEDED),
    SCHAN_SYMBOL(SEC_I_COMPLETE_AND_CONTINUE),
    SCHAN_SYMBOL(SEC_I_INCOMPLETE_CREDENTIALS),
    SCHAN_SYMBOL(SEC_I_RENEGOTIATE),
    SCHAN_SYMBOL(SEC_I_CONTEXT_EXPIRED),
    SCHAN_SYMBOL(SEC_I_NO_RENEGOTIATION),
    SCHAN_SYMBOL(SEC_I_MESSAGE_FRAGMENT),
    SCHAN_SYMBOL(SEC_E_INSUFFICIENT_MEMORY),
    SCHAN_SYMBOL(SEC_E_INVALID_HANDLE),
    SCHAN_SYMBOL(SEC_E_UNSUPPORTED_FUNCTION),
    SCHAN_SYMBOL(SEC_E_TARGET_UNKNOWN),
    SCHAN_SYMBOL(SEC_E_INTERNAL_ERROR),
    SCHAN_SYMBOL(SEC_E_SECPKG_NOT_FOUND),
    SCHAN_SYMBOL(SEC_E_NOT_OWNER),
    SCHAN_SYMBOL(SEC_E_INVALID_TOKEN),
    SCHAN_SYMBOL(SEC_E_LOGON_DENIED),
    SCHAN_SYMBOL(SEC_E_UNKNOWN_CREDENTIALS),
    SCHAN_SYMBOL(SEC_E_NO_CREDENTIALS),
    SCHAN_SYMBOL(SEC_E_MESSAGE_ALTERED),
    SCHAN_SYMBOL(SEC_E_OUT_OF_SEQUENCE),
    SCHAN_SYMBOL(SEC_E_NO_AUTHENTICATING_AUTHORITY),
    SCHAN_SYMBOL(SEC_E_CONTEXT_EXPIRED),
    SCHAN_SYMBOL(SEC_E_INCOMPLETE_MESSAGE),
    SCHAN_SYMBOL(SEC_E_INCOMPLETE_CREDENTIALS),
    SCHAN_SYMBOL(SEC_E_BUFFER_TOO_SMALL),
    SCHAN_SYMBOL(SEC_E_WRONG_PRINCIPAL),
    SCHAN_SYMBOL(SEC_E_TIME_SKEW),
    SCHAN_SYMBOL(SEC_E_UNTRUSTED_ROOT),
    SCHAN_SYMBOL(SEC_E_ILLEGAL_MESSAGE),
    SCHAN_SYMBOL(SEC_E_CERT_UNKNOWN),
    SCHAN_SYMBOL(SEC_E_CERT_EXPIRED),
    SCHAN_SYMBOL(SEC_E_ENCRYPT_FAILURE),
    SCHAN_SYMBOL(SEC_E_DECRYPT_FAILURE),
    SCHAN_SYMBOL(SEC_E_ALGORITHM_MISMATCH),
    SCHAN_SYMBOL(SEC_E_SECURITY_QOS_FAILED),
    SCHAN_SYMBOL(SEC_E_UNFINISHED_CONTEXT_DELETED),
    SCHAN_SYMBOL(SEC_E_NO_TGT_REPLY),
    SCHAN_SYMBOL(SEC_E_WRONG_CREDENTIAL_HANDLE),
    SCHAN_SYMBOL(SEC_E_CRYPTO_SYSTEM_INVALID),
    SCHAN_SYMBOL(SEC_E_INVALID_PARAMETER),
    SCHAN_SYMBOL(SEC_E_DELEGATION_POLICY),
    SCHAN_SYMBOL(SEC_E_POLICY_NLTM_ONLY),
    SCHAN_SYMBOL(SEC_E_NO_CONTEXT),
    SCHAN_SYMBOL(SEC_E_CERT_WRONG_USAGE),
    SCHAN_SYMBOL(SEC_E_APPLICATION_PROTOCOL_MISMATCH),
    SCHAN_SYMBOL(SEC_E_SHUTDOWN_IN_PROGRESS),
    SCHAN_SYMBOL(CERT_E_EXPIRED),
    SCHAN_SYMBOL(CERT_E_VALIDITYPERIODNESTING),
    SCHAN_SYMBOL(CERT_E_ROLE),
    SCHAN_SYMBOL(CERT_E_PATHLENCONST),
    SCHAN_SYMBOL(CERT_E_CRITICAL),
    SCHAN_SYMBOL(CERT_E_PURPOSE),
    SCHAN_SYMBOL(CERT_E_ISSUERCHAINING),
    SCHAN_SYMBOL(CERT_E_MALFORMED),
    SCHAN_SYMBOL(CERT_E_UNTRUSTEDROOT),
    SCHAN_SYMBOL(CERT_E_CHAINING),
    SCHAN_SYMBOL(CERT_E_REVOKED),
    SCHAN_SYMBOL(CERT_E_UNTRUSTEDTESTROOT),
    SCHAN_SYMBOL(CERT_E_REVOCATION_FAILURE),
    SCHAN_SYMBOL(CERT_E_CN_NO_MATCH),
    SCHAN_SYMBOL(CERT_E_WRONG_USAGE),
    SCHAN_SYMBOL(CERT_E_UNTRUSTEDCA),
    SCHAN_SYMBOL(CERT_E_INVALID_POLICY),
    SCHAN_SYMBOL(CERT_E_INVALID_NAME),
    SCHAN_SYMBOL(TRUST_E_CERT_SIGNATURE),
    SCHAN_SYMBOL(TRUST_E_BASIC_CONSTRAINTS),
    SCHAN_SYMBOL(TRUST_E_EXPLICIT_DISTRUST),
    SCHAN_SYMBOL(TRUST_E_FAIL),
    SCHAN_SYMBOL(CRYPT_E_REVOKED),
    SCHAN_SYMBOL(CRYPT_E_NO_REVOCATION_CHECK),
    SCHAN_SYMBOL(CRYPT_E_REVOCATION_OFFLINE),
    SCHAN_SYMBOL(CRYPT_E_NOT_FOUND),
    SCHAN_SYMBOL(CRYPT_E_ASN1_BADTAG),
    SCHAN_SYMBOL(CRYPT_E_BAD_ENCODE),
    SCHAN_SYMBOL(E_INVALIDARG),
    SCHAN_SYMBOL(E_OUTOFMEMORY),
    SCHAN_SYMBOL(NTE_BAD_KEYSET),
    SCHAN_SYMBOL(NTE_BAD_DATA),
};

#undef SCHAN_SYMBOL

std::string system_text(std::int32_t code)
{
    wchar_t* text = nullptr;
    const DWORD length = FormatMessageW(
        FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr,
        static_cast<DWORD>(code), 0, reinterpret_cast<wchar_t*>(&text), 0, nullptr);
    if (length == 0 || text == nullptr)
        return {};

    const int size = WideCharToMultiByte(CP_UTF8, 0, text, static_cast<int>(length), nullptr, 0, nullptr, nullptr);
    std::string utf8(static_cast<std::size_t>(size > 0 ? size : 0), '\0');
    if (size > 0)
        WideCharToMultiByte(CP_UTF8, 0, text, static_cast<int>(length), utf8.data(), size, nullptr, nullptr);
    LocalFree(text);

    while (!utf8.empty() && (utf8.back() == '\n' || utf8.back() == '\r' || utf8.back() == ' ' || utf8.back() == '.'))
        utf8.pop_back();
    return utf8;
}

} // namespace

const char* status_symbol(std::int32_t code) noexcept
{
    for (const auto& symbol : kSymbols)
        if (symbol.code == code)
            return symbol.name;
    return nullptr;
}

std::string describe_status(std::int32_t code)
{
    const char* symbol = status_symbol(code);
    std::string text = symbol != nullptr ? std::string(symbol) : std::string("status");
    text += " (" + hex(static_cast<std::uint32_t>(code)) + ")";
    const std::string system = system_text(code);
    if (!system.empty())
        text += ": " + system;
    return text;
}

schan_status map_sspi_status(std::int32_t code) noexcept
{
    switch (static_cast<HRESULT>(code)) {
    case SEC_E_INSUFFICIENT_MEMORY:
    case E_OUTOFMEMORY:
        return SCHAN_E_OUT_OF_MEMORY;
    case SEC_E_UNTRUSTED_ROOT:
    case CERT_E_UNTRUSTEDROOT:
    case CERT_E_CHAINING:
    case CERT_E_UNTRUSTEDCA:
        return SCHAN_E_CERT_UNTRUSTED;
    case SEC_E_CERT_EXPIRED:
    case CERT_E_EXPIRED:
        return SCHAN_E_CERT_EXPIRED;
    case SEC_E_WRONG_PRINCIPAL:
    case CERT_E_CN_NO_MATCH:
        return SCHAN_E_CERT_NAME_MISMATCH;
    case CERT_E_REVOKED:
    case CRYPT_E_REVOKED:
        return SCHAN_E_CERT_REVOKED;
    case CERT_E_REVOCATION_FAILURE:
    case CRYPT_E_NO_REVOCATION_CHECK:
    case CRYPT_E_REVOCATION_OFFLINE:
        return SCHAN_E_REVOCATION_UNKNOWN;
    case SEC_E_CERT_UNKNOWN:
    case SEC_E_CERT_WRONG_USAGE:
    case CERT_E_WRONG_USAGE:
    case CERT_E_PURPOSE:
    case CERT_E_MALFORMED:
    case CERT_E_CRITICAL:
        return SCHAN_E_CERT_INVALID;
    case SEC_E_ILLEGAL_MESSAGE:
    case SEC_E_DECRYPT_FAILURE:
    case SEC_E_MESSAGE_ALTERED:
    case SEC_E_OUT_OF_SEQUENCE:
        return SCHAN_E_PROTOCOL;
    case SEC_E_ALGORITHM_MISMATCH:
    case SEC_E_APPLICATION_PROTOCOL_MISMATCH:
        return SCHAN_E_HANDSHAKE_FAILED;
    case SEC_E_UNSUPPORTED_FUNCTION:
        return SCHAN_E_UNSUPPORTED;
    case SEC_E_INVALID_HANDLE:
    case SEC_E_INVALID_TOKEN:
    case SEC_E_INTERNAL_ERROR:
    case SEC_E_BUFFER_TOO_SMALL:
        return SCHAN_E_INTERNAL;
    default:
        return SCHAN_E_HANDSHAKE_FAILED;
    }
}

void fail_sspi(schan_status status, const std::string& step, std::int32_t code)
{
    fail(status, step + " failed: " + describe_status(code), static_cast<std::uint32_t>(code));
}

void fail_sspi(const std::string& step, std::int32_t code)
{
    fail_sspi(map_sspi_status(code), step, code);
}

} // namespace schan::schannel
