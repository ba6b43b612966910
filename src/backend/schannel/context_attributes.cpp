#include "backend/schannel/context_attributes.h"

#include <schannel.h>

#include <algorithm>
#include <cwchar>

#include "backend/schannel/sspi_error.h"
#include "backend/schannel/sspi_table.h"
#include "core/error.h"

namespace schan::schannel {

namespace {

struct ProtocolBits {
    DWORD bits;
    std::uint16_t version;
};

// Client and server bits both, since a provider may report either.
constexpr ProtocolBits kProtocols[] = {
    {SP_PROT_TLS1_3, 0x0304}, {SP_PROT_TLS1_2, 0x0303}, {SP_PROT_TLS1_1, 0x0302},
    {SP_PROT_TLS1_0, 0x0301}, {SP_PROT_SSL3, 0x0300},
};

// SECPKG_ATTR_SESSION_INFO and its structure from the Windows SDK's
// schannel.h, which mingw-w64 does not declare.
constexpr unsigned long kSessionInfoAttribute = 0x5d;
constexpr DWORD kSessionReconnect = 1;  // SSL_SESSION_RECONNECT

struct SessionInfo {
    DWORD dwFlags;
    DWORD cbSessionId;
    BYTE rgbSessionId[32];
};

} // namespace

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

SecPkgContext_StreamSizes query_stream_sizes(CtxtHandle* context)
{
    SecPkgContext_StreamSizes sizes{};
    const SECURITY_STATUS status = sspi().QueryContextAttributesW(context, SECPKG_ATTR_STREAM_SIZES, &sizes);
    if (status != SEC_E_OK)
        fail_sspi(SCHAN_E_INTERNAL, "QueryContextAttributes(SECPKG_ATTR_STREAM_SIZES)", status);
    if (sizes.cbMaximumMessage == 0)
        fail(SCHAN_E_INTERNAL, "QueryContextAttributes(SECPKG_ATTR_STREAM_SIZES) reported a maximum message size of 0");
    return sizes;
}

bool query_session_resumed(CtxtHandle* context)
{
    SessionInfo info{};
    const SECURITY_STATUS status = sspi().QueryContextAttributesW(context, kSessionInfoAttribute, &info);
    // NOTE: a failed query reports a full handshake, which is wrong after a
    // resumption on providers without the attribute (Wine 8).
    return status == SEC_E_OK && (info.dwFlags & kSessionReconnect) != 0;
}

std::uint16_t query_protocol_version(CtxtHandle* context)
{
    SecPkgContext_ConnectionInfo info{};
    const SECURITY_STATUS status = sspi().QueryContextAttributesW(context, SECPKG_ATTR_CONNECTION_INFO, &info);
    if (status != SEC_E_OK)
        fail_sspi(SCHAN_E_INTERNAL, "QueryContextAttributes(SECPKG_ATTR_CONNECTION_INFO)", status);

    for (const auto& protocol : kProtocols)
        if ((info.dwProtocol & protocol.bits) != 0)
            return protocol.version;
    fail(SCHAN_E_UNSUPPORTED_VERSION,
         "SChannel negotiated an unknown protocol (SP_PROT bits " + hex(info.dwProtocol) + ")", info.dwProtocol);
}

std::optional<CipherSuite> query_cipher_suite(CtxtHandle* context)
{
    SecPkgContext_CipherInfo info{};
    info.dwVersion = SECPKGCONTEXT_CIPHERINFO_V1;
    const SECURITY_STATUS status = sspi().QueryContextAttributesW(context, SECPKG_ATTR_CIPHER_INFO, &info);
    if (status != SEC_E_OK || info.dwCipherSuite == 0 || info.dwCipherSuite > 0xFFFF)
        return std::nullopt;

    CipherSuite suite;
    suite.number = static_cast<std::uint16_t>(info.dwCipherSuite);
    suite.name = to_utf8(info.szCipherSuite, wcsnlen(info.szCipherSuite, SZ_ALG_MAX_SIZE));
    return suite;
}

std::string query_application_protocol(CtxtHandle* context, bool offered)
{
    SecPkgContext_ApplicationProtocol protocol{};
    const SECURITY_STATUS status = sspi().QueryContextAttributesW(context, SECPKG_ATTR_APPLICATION_PROTOCOL, &protocol);
    if (status != SEC_E_OK) {
        if (!offered)
            return {};
        fail_sspi(SCHAN_E_INTERNAL, "QueryContextAttributes(SECPKG_ATTR_APPLICATION_PROTOCOL)", status);
    }

    if (protocol.ProtoNegoStatus != SecApplicationProtocolNegotiationStatus_Success ||
        protocol.ProtoNegoExt != SecApplicationProtocolNegotiationExt_ALPN)
        return {};
    const std::size_t size = std::min<std::size_t>(protocol.ProtocolIdSize, sizeof protocol.ProtocolId);
    return std::string(reinterpret_cast<const char*>(protocol.ProtocolId), size);
}

CertificateContext query_remote_certificate(CtxtHandle* context)
{
    CertificateContext certificate;
    const SECURITY_STATUS status =
        sspi().QueryContextAttributesW(context, SECPKG_ATTR_REMOTE_CERT_CONTEXT, certificate.receive());
    if (status != SEC_E_OK)
        fail_sspi(SCHAN_E_INTERNAL, "QueryContextAttributes(SECPKG_ATTR_REMOTE_CERT_CONTEXT)", status);
    return certificate;
}

} // namespace schan::schannel
