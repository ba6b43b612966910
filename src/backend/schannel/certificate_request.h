// Detects a server's CertificateRequest in the TLS 1.2 handshake records
// that pass through the client in the clear. SChannel does not report
// whether the server asked for a client certificate, and a server that
// requires one and gets none fails the handshake with handshake_failure,
// which alone does not say why.
#pragma once

#include <vector>

#include <gsl/gsl>

namespace schan::schannel {

class CertificateRequestScanner {
public:
    // Scans whole records. Stops at the first record that is not a
    // handshake record (ChangeCipherSpec, alert or encrypted data).
    void scan(gsl::span<const std::byte> records);

    // True once a CertificateRequest message was seen.
    [[nodiscard]] bool requested() const noexcept { return requested_; }

private:
    void parse_messages();

    std::vector<std::byte> handshake_bytes_;
    bool requested_ = false;
    bool done_ = false;
};

} // namespace schan::schannel
