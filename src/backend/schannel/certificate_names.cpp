#include "backend/schannel/certificate_names.h"

#include <array>
#include <cstdio>
#include <memory>

#include "backend/schannel/sspi_error.h"
#include "core/error.h"

namespace schan::schannel {

namespace {

// Memory that CryptDecodeObjectEx allocated with CRYPT_DECODE_ALLOC_FLAG.
struct LocalDeleter {
    void operator()(void* memory) const noexcept { LocalFree(memory); }
};

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

} // namespace

std::string quoted_subject(PCCERT_CONTEXT certificate)
{
    return "'" + subject_name(certificate) + "'";
}

namespace {

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
             "certificate verification failed: the subject alternative name extension of " + quoted_subject(certificate) +
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

} // namespace schan::schannel
