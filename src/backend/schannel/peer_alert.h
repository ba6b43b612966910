// Alerts the server sends during a handshake. SChannel reports a received
// alert only as a generic failure status, so the backend reads alert records
// itself to name the alert in the error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <gsl/gsl>

namespace schan::schannel {

struct PeerAlert {
    bool encrypted = false;       // the level and description are unknown
    std::uint8_t level = 0;       // 1 warning, 2 fatal
    std::uint8_t description = 0; // RFC 8446 section 6 AlertDescription
};

// Returns the first fatal or encrypted alert record in `records` (complete
// TLS records). A plaintext alert record is exactly two bytes long; a longer
// one is protected by the record layer.
std::optional<PeerAlert> find_alert(gsl::span<const std::byte> records);

// Returns the name of an AlertDescription ("handshake_failure"), or nullptr.
const char* alert_name(std::uint8_t description) noexcept;

// Formats "the server sent the fatal alert handshake_failure (40)".
std::string describe_alert(const PeerAlert& alert);

} // namespace schan::schannel
