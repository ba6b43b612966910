#include "backend/schannel/client_backend.h"

#include <schannel.h>

#include <algorithm>

#include "backend/schannel/application_protocols.h"
#include "backend/schannel/certificate_verification.h"
#include "backend/schannel/context_attributes.h"
#include "backend/schannel/credentials.h"
#include "backend/schannel/sspi_error.h"
#include "backend/schannel/sspi_table.h"
#include "backend/schannel/stream_records.h"
#include "core/error.h"
#include "core/record.h"

namespace schan::schannel {

namespace {

constexpr ULONG kContextRequest = ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | ISC_REQ_CONFIDENTIALITY |
                                  ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM | ISC_REQ_EXTENDED_ERROR |
                                  ISC_REQ_USE_SUPPLIED_CREDS | ISC_REQ_MANUAL_CRED_VALIDATION;

constexpr std::uint8_t kProtocolVersionAlert = 70;
constexpr std::uint8_t kHandshakeFailureAlert = 40;
constexpr std::uint8_t kCertificateRequiredAlert = 116;

std::wstring to_wide(const std::string& text)
{
    const int size = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, text.data(), static_cast<int>(text.size()),
                                         nullptr, 0);
    if (size <= 0)
        fail(SCHAN_E_INVALID_ARGUMENT, "the server name is not valid UTF-8");
    std::wstring wide(static_cast<std::size_t>(size), L'\0');
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, text.data(), static_cast<int>(text.size()), wide.data(), size);
    return wide;
}

// Returns the name SChannel gets as pszTargetName, which it sends as SNI.
// An IP literal gets none: RFC 6066 section 3 allows only host names in SNI,
// and Wine 8 would send the literal.
std::wstring target_name_for(const std::string& server_name)
{
    if (server_name.empty() || parse_ip_address(server_name))
        return {};
    return to_wide(server_name);
}

} // namespace

ClientBackend::ClientBackend(const Config& config, const std::string& server_name)
    : config_(config), server_name_(server_name), target_name_(target_name_for(server_name)),
      application_protocols_(make_application_protocols(config.alpn))
{
}

HandshakeProgress ClientBackend::handshake(gsl::span<std::byte> input, ByteQueue& output)
{
    switch (phase_) {
    case Phase::start:
        return start_handshake(output);
    case Phase::handshake:
    case Phase::post_handshake:
        return continue_handshake(input, output);
    case Phase::open:
        break;
    }
    fail(SCHAN_E_INTERNAL, "the core asked for a handshake step while no handshake runs");
}

HandshakeProgress ClientBackend::start_handshake(ByteQueue& output)
{
    // Acquired here rather than in the constructor, so that provider errors
    // surface from schan_step() as schan.h promises.
    credentials_ = acquire_client_credentials(config_);

    SecBuffer protocols{buffer_size(application_protocols_.size()), SECBUFFER_APPLICATION_PROTOCOLS,
                        application_protocols_.data()};
    SecBufferDesc input{SECBUFFER_VERSION, 1, &protocols};
    const ContextStep step = initialize_context(application_protocols_.empty() ? nullptr : &input, output);

    if (step.status != SEC_I_CONTINUE_NEEDED)
        fail_handshake(step.status);
    if (!context_.valid())
        fail(SCHAN_E_INTERNAL, "InitializeSecurityContext returned SEC_I_CONTINUE_NEEDED without a context");

    phase_ = Phase::handshake;
    return {};
}

HandshakeProgress ClientBackend::continue_handshake(gsl::span<std::byte> input, ByteQueue& output)
{
    // The first step after SEC_I_RENEGOTIATE calls InitializeSecurityContext
    // even without input: a TLS 1.2 renegotiation starts with our ClientHello.
    const bool first_post_handshake_step = phase_ == Phase::post_handshake && !post_handshake_started_;
    if (input.empty() && !first_post_handshake_step)
        return {};
    post_handshake_started_ = true;
    scan_new_records(input);

    bool credentials_retried = false;
    for (;;) {
        const ContextStep step = initialize_with_token(input, output);
        const std::size_t consumed = input.size() - step.extra;

        switch (step.status) {
        case SEC_E_OK:
            // Bytes after the server's last handshake record (application
            // data, a close_notify) come back as EXTRA and stay in the core.
            scanned_ = step.extra;
            if (phase_ == Phase::handshake)
                complete_first_handshake(output);
            else
                complete_post_handshake(output);
            return {consumed, true};

        case SEC_I_CONTINUE_NEEDED:
            scanned_ = step.extra;
            return {consumed, false};

        case SEC_E_INCOMPLETE_MESSAGE:
            // Wine 8 returns this for every post-handshake step of a TLS 1.2
            // renegotiation, even the first one without input. Windows
            // returns SEC_I_CONTINUE_NEEDED and a ClientHello there.
            if (phase_ == Phase::post_handshake && input.empty() && info_.protocol == SCHAN_TLS_1_2)
                fail(SCHAN_E_UNSUPPORTED,
                     "the server requested a TLS 1.2 renegotiation, which this SChannel cannot perform: "
                     "InitializeSecurityContext returned " + describe_status(step.status) +
                         ". Configure the server not to renegotiate.",
                     static_cast<std::uint32_t>(step.status));
            // SChannel needs more records, with or without a SECBUFFER_MISSING
            // count (Windows may leave it 0), so the count is not used.
            scanned_ = input.size();
            return {0, false, true};

        case SEC_I_INCOMPLETE_CREDENTIALS:
            // The server asked for a client certificate and SChannel wants
            // one. Calling again with the same input continues without one.
            // ISC_REQ_USE_SUPPLIED_CREDS should prevent this, but Windows may
            // still return it; Wine 8 never does.
            if (credentials_retried)
                fail_handshake(step.status);
            credentials_retried = true;
            continue;

        default:
            fail_handshake(step.status);
        }
    }
}

ClientBackend::ContextStep ClientBackend::initialize_with_token(gsl::span<std::byte> token, ByteQueue& output)
{
    // A zero-length token still needs a valid address.
    std::byte no_input{};
    SecBuffer buffers[2] = {
        {buffer_size(token.size()), SECBUFFER_TOKEN, token.empty() ? &no_input : token.data()},
        {0, SECBUFFER_EMPTY, nullptr},
    };
    SecBufferDesc input{SECBUFFER_VERSION, 2, buffers};

    ContextStep step = initialize_context(&input, output);
    step.extra = extra_size(input, token.size());
    return step;
}

ClientBackend::ContextStep ClientBackend::initialize_context(SecBufferDesc* input, ByteQueue& output)
{
    // The SECBUFFER_TOKEN buffer comes first because Wine treats buffer 0 as
    // the token buffer. Alerts for a failed handshake come in the token or
    // in the SECBUFFER_ALERT buffer, depending on the Windows version.
    SecBuffer buffers[2] = {
        {0, SECBUFFER_TOKEN, nullptr},
        {0, SECBUFFER_ALERT, nullptr},
    };
    SecBufferDesc output_desc{SECBUFFER_VERSION, 2, buffers};

    CtxtHandle* current = context_.get();
    CtxtHandle* next = current != nullptr ? current : context_.receive();
    ULONG attributes = 0;
    TimeStamp expiry{};
    const SECURITY_STATUS status = sspi().InitializeSecurityContextW(
        credentials_.get(), current, target_name_.empty() ? nullptr : target_name_.data(), kContextRequest, 0, 0,
        input, 0, next, &output_desc, &attributes, &expiry);

    const ContextBuffer token(buffers[0].pvBuffer);
    const ContextBuffer alert(buffers[1].pvBuffer);

    // With SEC_I_INCOMPLETE_CREDENTIALS the same input is offered again, so
    // its output is not sent. Every other result's output is for the server,
    // also on failure, so that the caller can still send the alert.
    if (status != SEC_I_INCOMPLETE_CREDENTIALS) {
        append_buffer(output, buffers[0]);
        append_buffer(output, buffers[1]);
    }
    return {status, 0};
}

void ClientBackend::complete_first_handshake(ByteQueue& output)
{
    CtxtHandle* context = context_.get();
    stream_sizes_ = query_stream_sizes(context);

    info_.protocol = query_protocol_version(context);
    const std::uint16_t max_version = config_.max_version == SCHAN_TLS_DEFAULT ? 0xFFFF : config_.max_version;
    if (info_.protocol < config_.min_version || info_.protocol > max_version) {
        send_alert(kProtocolVersionAlert, output);
        fail(SCHAN_E_UNSUPPORTED_VERSION, "the server negotiated " + protocol_label(info_.protocol) +
                                              ", outside the configured range " + describe_version_range(config_));
    }

    info_.cipher = negotiated_cipher_name();
    info_.alpn = query_application_protocol(context, !config_.alpn.empty());

    const CertificateContext peer = query_remote_certificate(context);
    if (peer.get() == nullptr)
        fail(SCHAN_E_CERT_INVALID, "SChannel reports no certificate from the server");
    if (config_.verify_mode != SCHAN_VERIFY_NONE)
        verify_peer(peer.get(), output);
    info_.peer_chain = peer_chain(peer.get(), config_);
    info_.resumed = query_session_resumed(context);

    const auto* encoded = reinterpret_cast<const std::byte*>(peer.get()->pbCertEncoded);
    peer_certificate_.assign(encoded, encoded + peer.get()->cbCertEncoded);
    phase_ = Phase::open;
}

void ClientBackend::complete_post_handshake(ByteQueue& output)
{
    phase_ = Phase::open;
    post_handshake_started_ = false;
    peer_alert_.reset();

    // A TLS 1.2 renegotiation may change the cipher suite and the server's
    // certificate. A new certificate must pass the same checks as the first.
    stream_sizes_ = query_stream_sizes(context_.get());
    if (config_.verify_mode == SCHAN_VERIFY_NONE)
        return;

    const CertificateContext peer = query_remote_certificate(context_.get());
    if (peer.get() == nullptr)
        fail(SCHAN_E_CERT_INVALID, "SChannel reports no certificate from the server after a renegotiation");
    const auto* encoded = reinterpret_cast<const std::byte*>(peer.get()->pbCertEncoded);
    if (!std::equal(encoded, encoded + peer.get()->cbCertEncoded, peer_certificate_.begin(), peer_certificate_.end()))
        verify_peer(peer.get(), output);
}

void ClientBackend::verify_peer(PCCERT_CONTEXT peer, ByteQueue& output)
{
    try {
        verify_server_certificate(peer, config_, server_name_);
    } catch (const Error& error) {
        send_alert(alert_for_certificate_error(error.status()), output);
        throw;
    }
}

std::string ClientBackend::negotiated_cipher_name()
{
    if (const auto suite = query_cipher_suite(context_.get())) {
        if (const char* name = cipher_suite_name(suite->number))
            return name;
        return suite->name.empty() ? hex(suite->number, 4) : suite->name;
    }

    // Wine 8 reports suite 0, so take the suite from the ServerHello.
    const auto& hello = server_hello_.result();
    if (hello && hello->cipher_suite != 0) {
        const char* name = cipher_suite_name(hello->cipher_suite);
        return name != nullptr ? std::string(name) : hex(hello->cipher_suite, 4);
    }
    // NOTE: reached only when SChannel reports no suite and no ServerHello
    // was seen, which no provider measured so far does.
    return {};
}

void ClientBackend::scan_new_records(gsl::span<const std::byte> input)
{
    const auto fresh = input.subspan(std::min(scanned_, input.size()));
    if (phase_ == Phase::handshake) {
        server_hello_.scan(fresh);
        certificate_request_.scan(fresh);
    }
    if (!peer_alert_)
        peer_alert_ = find_alert(fresh);
}

void ClientBackend::fail_handshake(SECURITY_STATUS status)
{
    const std::string step = phase_ == Phase::post_handshake
                                 ? "InitializeSecurityContext for a post-handshake message"
                                 : "InitializeSecurityContext";
    if (!peer_alert_) {
        // Wine 8 returns SEC_E_INTERNAL_ERROR for every GnuTLS handshake
        // error, which is a failed handshake rather than a bug in schan.
        const schan_status mapped = status == SEC_E_INTERNAL_ERROR ? SCHAN_E_HANDSHAKE_FAILED : map_sspi_status(status);
        fail_sspi(mapped, step, status);
    }

    // A received alert explains the failure better than SChannel's status.
    schan_status mapped = SCHAN_E_ALERT_RECEIVED;
    if (!peer_alert_->encrypted && peer_alert_->description == kProtocolVersionAlert)
        mapped = SCHAN_E_UNSUPPORTED_VERSION;
    // TLS 1.3 servers send certificate_required. TLS 1.2 has no such alert,
    // so handshake_failure after a CertificateRequest while no client
    // certificate is configured means the same.
    // TODO: a TLS 1.3 alert is encrypted, so certificate_required is only
    // recognized in the clear; no TLS 1.3 server has been tested (Wine 8 has none).
    if (!peer_alert_->encrypted &&
        (peer_alert_->description == kCertificateRequiredAlert ||
         (peer_alert_->description == kHandshakeFailureAlert && certificate_request_.requested() &&
          !config_.credentials)))
        mapped = SCHAN_E_CERT_REQUIRED;

    std::string message = describe_alert(*peer_alert_) + "; " + step + " failed: " + describe_status(status);
    // Wine 8 sends no certificate when the server's certificate_authorities
    // list does not name the certificate's issuer, for example only the root.
    if (!peer_alert_->encrypted && peer_alert_->description == kHandshakeFailureAlert &&
        certificate_request_.requested() && config_.credentials)
        message += ". The server requested a client certificate and one is configured, so the server rejected it "
                   "or did not receive it: check that the server trusts its issuer";
    fail(mapped, message, static_cast<std::uint32_t>(status));
}

DecryptProgress ClientBackend::decrypt(gsl::span<std::byte> input, ByteQueue& plaintext, ByteQueue&)
{
    const DecryptProgress progress = decrypt_records(context_.get(), input, plaintext, "server");
    if (progress.event == RecordEvent::renegotiate) {
        // InitializeSecurityContext takes the rest of the input next.
        phase_ = Phase::post_handshake;
        post_handshake_started_ = false;
        scanned_ = 0;
        peer_alert_.reset();
    }
    return progress;
}

void ClientBackend::encrypt(gsl::span<const std::byte> plaintext, ByteQueue& output)
{
    Expects(phase_ == Phase::open);
    encrypt_record(context_.get(), stream_sizes_, plaintext, output);
}

std::size_t ClientBackend::max_plaintext_chunk() const
{
    return stream_sizes_.cbMaximumMessage;
}

void ClientBackend::shutdown(ByteQueue& output)
{
    DWORD token = SCHANNEL_SHUTDOWN;
    apply_control_token(context_.get(), &token, sizeof token, "ApplyControlToken(SCHANNEL_SHUTDOWN)");
    generate_control_output("InitializeSecurityContext for close_notify", output);
}

ConnectionInfo ClientBackend::connection_info() const
{
    return info_;
}

void ClientBackend::send_alert(unsigned long description, ByteQueue& output) noexcept
{
    // Best effort: the error that ends the handshake matters more than the
    // alert, and a provider without SCHANNEL_ALERT support sends none.
    try {
        SCHANNEL_ALERT_TOKEN token{SCHANNEL_ALERT, TLS1_ALERT_FATAL, description};
        apply_control_token(context_.get(), &token, sizeof token, "ApplyControlToken(SCHANNEL_ALERT)");
        generate_control_output("InitializeSecurityContext for an alert", output);
    } catch (...) {
    }
}

void ClientBackend::generate_control_output(const char* step, ByteQueue& output)
{
    SecBuffer buffer{0, SECBUFFER_TOKEN, nullptr};
    SecBufferDesc output_desc{SECBUFFER_VERSION, 1, &buffer};
    ULONG attributes = 0;
    TimeStamp expiry{};
    const SECURITY_STATUS status = sspi().InitializeSecurityContextW(
        credentials_.get(), context_.get(), target_name_.empty() ? nullptr : target_name_.data(), kContextRequest,
        0, 0, nullptr, 0, context_.get(), &output_desc, &attributes, &expiry);
    const ContextBuffer token(buffer.pvBuffer);

    // Windows returns SEC_E_OK with the close_notify token. SEC_I_CONTEXT_EXPIRED
    // is accepted too, as other SChannel clients do after a shutdown.
    if (status != SEC_E_OK && status != SEC_I_CONTINUE_NEEDED && status != SEC_I_CONTEXT_EXPIRED)
        fail_sspi(step, status);
    append_buffer(output, buffer);
}

} // namespace schan::schannel
