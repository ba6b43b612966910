#include "backend/schannel/certificate_request.h"

#include <cstddef>
#include <cstdint>

namespace schan::schannel {

namespace {

constexpr std::uint8_t kHandshakeRecord = 22;
constexpr std::uint8_t kCertificateRequest = 13;
constexpr std::uint8_t kServerHelloDone = 14;
constexpr std::size_t kRecordHeaderSize = 5;
constexpr std::size_t kMessageHeaderSize = 4;

std::size_t read_u16(gsl::span<const std::byte> bytes, std::size_t at)
{
    return (std::to_integer<std::size_t>(bytes[at]) << 8) | std::to_integer<std::size_t>(bytes[at + 1]);
}

std::size_t read_u24(gsl::span<const std::byte> bytes, std::size_t at)
{
    return (std::to_integer<std::size_t>(bytes[at]) << 16) | read_u16(bytes, at + 1);
}

} // namespace

void CertificateRequestScanner::scan(gsl::span<const std::byte> records)
{
    std::size_t offset = 0;
    while (!done_ && records.size() - offset >= kRecordHeaderSize) {
        const auto type = std::to_integer<std::uint8_t>(records[offset]);
        const std::size_t length = read_u16(records, offset + 3);
        if (type != kHandshakeRecord || records.size() - offset - kRecordHeaderSize < length) {
            done_ = true;
            break;
        }
        const auto payload = records.subspan(offset + kRecordHeaderSize, length);
        handshake_bytes_.insert(handshake_bytes_.end(), payload.begin(), payload.end());
        offset += kRecordHeaderSize + length;
    }
    parse_messages();
}

void CertificateRequestScanner::parse_messages()
{
    const gsl::span<const std::byte> bytes(handshake_bytes_);
    std::size_t offset = 0;
    while (bytes.size() - offset >= kMessageHeaderSize) {
        const auto type = std::to_integer<std::uint8_t>(bytes[offset]);
        const std::size_t length = read_u24(bytes, offset + 1);
        if (bytes.size() - offset - kMessageHeaderSize < length)
            return;  // the rest arrives in a later record
        if (type == kCertificateRequest)
            requested_ = true;
        if (type == kServerHelloDone) {
            done_ = true;
            return;
        }
        offset += kMessageHeaderSize + length;
    }
}

} // namespace schan::schannel
