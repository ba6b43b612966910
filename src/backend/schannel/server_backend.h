// The TLS server on SChannel: drives AcceptSecurityContext for the handshake
// and post-handshake messages, and shares record protection with the client
// (stream_records.h). Every SSPI call goes through the table of sspi().
#pragma once

#include <windows.h>
#include <sspi.h>

#include <cstddef>
#include <string>
#include <vector>

#include "backend/schannel/handles.h"
#include "core/backend.h"

namespace schan::schannel {

class ServerBackend final : public Backend {
public:
    explicit ServerBackend(const Config& config);

    HandshakeProgress handshake(gsl::span<std::byte> input, ByteQueue& output) override;
    DecryptProgress decrypt(gsl::span<std::byte> input, ByteQueue& plaintext, ByteQueue& output) override;
    void encrypt(gsl::span<const std::byte> plaintext, ByteQueue& output) override;
    [[nodiscard]] std::size_t max_plaintext_chunk() const override;
    void shutdown(ByteQueue& output) override;
    [[nodiscard]] ConnectionInfo connection_info() const override;

private:
    enum class Phase {
        handshake,       // the first handshake runs (no context until SEC_I_CONTINUE_NEEDED)
        open,            // records flow
        post_handshake,  // DecryptMessage returned SEC_I_RENEGOTIATE
    };

    // The result of one AcceptSecurityContext call.
    struct ContextStep {
        SECURITY_STATUS status = SEC_E_OK;
        std::size_t extra = 0;    // input bytes at the end that SChannel did not use
        std::size_t missing = 0;  // SECBUFFER_MISSING: bytes still needed, 0 when unknown
    };

    ContextStep accept_token(gsl::span<std::byte> token, ByteQueue& output);
    SECURITY_STATUS accept(SecBufferDesc* input, SecBufferDesc* output);

    void complete_first_handshake(ByteQueue& output);
    void complete_post_handshake();
    void check_client_certificate(ByteQueue& output);

    [[noreturn]] void fail_handshake(SECURITY_STATUS status);
    void send_alert(unsigned long description, ByteQueue& output) noexcept;
    void generate_control_output(const char* step, ByteQueue& output);

    Config config_;
    std::vector<unsigned char> application_protocols_;

    Phase phase_ = Phase::handshake;
    CredentialsHandle credentials_;
    ContextHandle context_;
    bool post_handshake_started_ = false;

    // After SEC_E_INCOMPLETE_MESSAGE: the input size below which another
    // call cannot succeed (the size tried plus SECBUFFER_MISSING).
    std::size_t needed_ = 0;

    SecPkgContext_StreamSizes stream_sizes_{};
    ConnectionInfo info_;
};

} // namespace schan::schannel
