#include "backend/schannel/peer_alert.h"

#include "core/record.h"

namespace schan::schannel {

namespace {

constexpr std::uint8_t kFatal = 2;

} // namespace

std::optional<PeerAlert> find_alert(gsl::span<const std::byte> records)
{
    while (const auto header = parse_record_header(records)) {
        const std::size_t record_size = kRecordHeaderSize + header->length;
        if (records.size() < record_size)
            break;

        if (header->type == ContentType::alert) {
            if (header->length != 2)
                return PeerAlert{true, 0, 0};
            const auto level = std::to_integer<std::uint8_t>(records[kRecordHeaderSize]);
            const auto description = std::to_integer<std::uint8_t>(records[kRecordHeaderSize + 1]);
            if (level == kFatal)
                return PeerAlert{false, level, description};
        }
        records = records.subspan(record_size);
    }
    return std::nullopt;
}

const char* alert_name(std::uint8_t description) noexcept
{
    switch (description) {
    case 0: return "close_notify";
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 22: return "record_overflow";
    case 40: return "handshake_failure";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 49: return "access_denied";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 86: return "inappropriate_fallback";
    case 90: return "user_canceled";
    case 100: return "no_renegotiation";
    case 109: return "missing_extension";
    case 110: return "unsupported_extension";
    case 112: return "unrecognized_name";
    case 113: return "bad_certificate_status_response";
    case 115: return "unknown_psk_identity";
    case 116: return "certificate_required";
    case 120: return "no_application_protocol";
    default: return nullptr;
    }
}

std::string describe_alert(const PeerAlert& alert)
{
    if (alert.encrypted)
        return "the server sent an encrypted alert";

    const char* name = alert_name(alert.description);
    std::string text = "the server sent the fatal alert ";
    text += name != nullptr ? name : "with description";
    text += " (" + std::to_string(alert.description) + ")";
    return text;
}

} // namespace schan::schannel
