// The TLS client on SChannel: drives InitializeSecurityContextW for the
// handshake and post-handshake messages, and EncryptMessage/DecryptMessage
// for records. Every SSPI call goes through the table of sspi().
#pragma once

#include <windows.h>
#include <sspi.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "backend/schannel/certificate_request.h"
#include "backend/schannel/handles.h"
#include "backend/schannel/peer_alert.h"
#include "core/backend.h"
#include "core/server_hello.h"

namespace schan::schannel {

class ClientBackend final : public Backend {
public:
    ClientBackend(const Config& config, const std::string& server_name);

    HandshakeProgress handshake(gsl::span<std::byte> input, ByteQueue& output) override;
    DecryptProgress decrypt(gsl::span<std::byte> input, ByteQueue& plaintext, ByteQueue& output) override;
    void encrypt(gsl::span<const std::byte> plaintext, ByteQueue& output) override;
    [[nodiscard]] std::size_t max_plaintext_chunk() const override;
    void shutdown(ByteQueue& output) override;
    [[nodiscard]] ConnectionInfo connection_info() const override;

private:
    enum class Phase {
        start,           // no context yet
        handshake,       // the first handshake runs
        open,            // records flow
        post_handshake,  // DecryptMessage returned SEC_I_RENEGOTIATE
    };

    // The result of one InitializeSecurityContextW call.
    struct ContextStep {
        SECURITY_STATUS status = SEC_E_OK;
        std::size_t extra = 0;  // input bytes at the end that SChannel did not use
    };

    HandshakeProgress start_handshake(ByteQueue& output);
    HandshakeProgress continue_handshake(gsl::span<std::byte> input, ByteQueue& output);
    ContextStep initialize_with_token(gsl::span<std::byte> token, ByteQueue& output);
    ContextStep initialize_context(SecBufferDesc* input, ByteQueue& output);

    void complete_first_handshake(ByteQueue& output);
    void complete_post_handshake(ByteQueue& output);
    void verify_peer(PCCERT_CONTEXT peer, ByteQueue& output);
    [[nodiscard]] std::string negotiated_cipher_name();
    void scan_new_records(gsl::span<const std::byte> input);

    [[noreturn]] void fail_handshake(SECURITY_STATUS status);
    void send_alert(unsigned long description, ByteQueue& output) noexcept;
    void generate_control_output(const char* step, ByteQueue& output);

    Config config_;
    std::string server_name_;
    std::wstring target_name_;  // empty: no SNI (no name, or an IP literal)
    std::vector<unsigned char> application_protocols_;

    Phase phase_ = Phase::start;
    CredentialsHandle credentials_;
    ContextHandle context_;
    bool post_handshake_started_ = false;

    // Input bytes at the front of the next handshake() input that were
    // already scanned: the unused tail of the previous input.
    std::size_t scanned_ = 0;
    ServerHelloScanner server_hello_;
    CertificateRequestScanner certificate_request_;
    std::optional<PeerAlert> peer_alert_;

    SecPkgContext_StreamSizes stream_sizes_{};
    ConnectionInfo info_;
    std::vector<std::byte> peer_certificate_;  // DER of the leaf the first handshake verified
};

} // namespace schan::schannel
