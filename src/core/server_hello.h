// Reads the negotiated version and cipher suite from the ServerHello that
// passes through the session in the clear, for providers that do not report
// them reliably (Wine's SChannel reports suite 0).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <gsl/gsl>

namespace schan {

struct ServerHelloSummary {
    std::uint16_t version = 0;       // from supported_versions when present
    std::uint16_t cipher_suite = 0;  // IANA number
};

class ServerHelloScanner {
public:
    // Scans whole records. Handshake records are collected until a complete
    // ServerHello is found; scanning stops at the first encrypted record.
    void scan(gsl::span<const std::byte> records);

    [[nodiscard]] const std::optional<ServerHelloSummary>& result() const noexcept { return result_; }

private:
    void parse_messages();

    std::vector<std::byte> handshake_bytes_;
    std::optional<ServerHelloSummary> result_;
    bool done_ = false;
};

// Returns the IANA name of a cipher suite, or nullptr when not in the table.
const char* cipher_suite_name(std::uint16_t suite) noexcept;

} // namespace schan
