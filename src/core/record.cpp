#include "core/record.h"

#include "core/error.h"

namespace schan {

std::optional<RecordHeader> parse_record_header(gsl::span<const std::byte> input)
{
    if (input.size() < kRecordHeaderSize)
        return std::nullopt;

    const auto type = std::to_integer<std::uint8_t>(input[0]);
    const auto major = std::to_integer<std::uint8_t>(input[1]);
    const auto minor = std::to_integer<std::uint8_t>(input[2]);
    const auto length = static_cast<std::uint16_t>(std::to_integer<unsigned>(input[3]) << 8 |
                                                   std::to_integer<unsigned>(input[4]));

    if (type < static_cast<std::uint8_t>(ContentType::change_cipher_spec) ||
        type > static_cast<std::uint8_t>(ContentType::heartbeat))
        fail(SCHAN_E_PROTOCOL, "received a record with unknown content type " + std::to_string(type) +
                                   "; the peer does not speak TLS");
    if (major != 3)
        fail(SCHAN_E_PROTOCOL, "received a record with protocol version " + std::to_string(major) + "." +
                                   std::to_string(minor) + "; the peer does not speak TLS");
    if (length > kMaxCiphertextLength)
        fail(SCHAN_E_PROTOCOL, "received a record of " + std::to_string(length) +
                                   " bytes, above the TLS maximum of " +
                                   std::to_string(kMaxCiphertextLength) + " (record_overflow)");

    return RecordHeader{static_cast<ContentType>(type), static_cast<std::uint16_t>(major << 8 | minor),
                        length};
}

std::size_t complete_records_length(gsl::span<const std::byte> input, std::size_t max_records)
{
    std::size_t offset = 0;
    for (std::size_t count = 0; count < max_records; ++count) {
        const auto header = parse_record_header(input.subspan(offset));
        if (!header)
            break;
        const std::size_t record_size = kRecordHeaderSize + header->length;
        if (input.size() - offset < record_size)
            break;
        offset += record_size;
    }
    return offset;
}

} // namespace schan
