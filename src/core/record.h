// TLS record framing (RFC 8446 section 5.1, RFC 5246 section 6.2), done by
// the core so that backends only ever see whole records.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include <gsl/gsl>

namespace schan {

inline constexpr std::size_t kRecordHeaderSize = 5;
inline constexpr std::size_t kMaxPlaintextFragment = 16384;
// TLS 1.2 allows 2048 bytes of expansion (RFC 5246 section 6.2.3); TLS 1.3
// allows 256, so the TLS 1.2 bound covers both.
inline constexpr std::size_t kMaxCiphertextLength = kMaxPlaintextFragment + 2048;
inline constexpr std::size_t kMaxRecordSize = kRecordHeaderSize + kMaxCiphertextLength;

enum class ContentType : std::uint8_t {
    change_cipher_spec = 20,
    alert = 21,
    handshake = 22,
    application_data = 23,
    heartbeat = 24,
};

struct RecordHeader {
    ContentType type;
    std::uint16_t version;
    std::uint16_t length;  // of the fragment that follows the header
};

// Parses the header at the start of `input`. Returns nullopt when fewer than
// five bytes are present; throws SCHAN_E_PROTOCOL for a header that no TLS
// peer sends (unknown content type, major version other than 3, length above
// the maximum).
std::optional<RecordHeader> parse_record_header(gsl::span<const std::byte> input);

// Returns the length of the longest prefix of `input` made of complete
// records, looking at no more than `max_records` records.
std::size_t complete_records_length(gsl::span<const std::byte> input,
                                    std::size_t max_records = SIZE_MAX);

} // namespace schan
