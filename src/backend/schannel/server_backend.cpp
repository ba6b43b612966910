#include "backend/schannel/server_backend.h"

#include <schannel.h>

#include "backend/schannel/application_protocols.h"
#include "backend/schannel/certificate_verification.h"
#include "backend/schannel/context_attributes.h"
#include "backend/schannel/credentials.h"
#include "backend/schannel/sspi_error.h"
#include "backend/schannel/sspi_table.h"
#include "backend/schannel/stream_records.h"
#include "core/error.h"
#include "core/server_hello.h"

namespace schan::schannel {

namespace {

constexpr ULONG kContextRequest = ASC_REQ_SEQUENCE_DETECT | ASC_REQ_REPLAY_DETECT | ASC_REQ_CONFIDENTIALITY |
                                  ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_STREAM | ASC_REQ_EXTENDED_ERROR;

// RFC 8446 section 6.2; TLS 1.2 has no such alert and uses handshake_failure.
constexpr unsigned long kCertificateRequiredAlert = 116;

ULONG context_request(const Config& config) noexcept
{
    // ASC_REQ_MUTUAL_AUTH makes SChannel send a CertificateRequest. Whether
    // a client without a certificate is accepted is decided here afterwards.
    // NOTE: whether Windows itself fails a client chain that the machine's
    // stores do not trust, before schan's check runs, has not been tried.
    return config.client_auth == SCHAN_CLIENT_AUTH_NONE ? kContextRequest : kContextRequest | ASC_REQ_MUTUAL_AUTH;
}

// Returns the client's certificate, or an empty owner when the client sent
// none: Windows then fails the query (SEC_E_NO_CREDENTIALS) or returns NULL.
CertificateContext query_client_certificate(CtxtHandle* context)
{
    CertificateContext certificate;
    const SECURITY_STATUS status =
        sspi().QueryContextAttributesW(context, SECPKG_ATTR_REMOTE_CERT_CONTEXT, certificate.receive());
    if (status != SEC_E_OK)
        certificate.reset();
    return certificate;
}

Der to_der(PCCERT_CONTEXT certificate)
{
    const auto* encoded = reinterpret_cast<const std::byte*>(certificate->pbCertEncoded);
    return Der(encoded, encoded + certificate->cbCertEncoded);
}

} // namespace

ServerBackend::ServerBackend(const Config& config)
    : config_(config), application_protocols_(make_application_protocols(config.alpn))
{
}

HandshakeProgress ServerBackend::handshake(gsl::span<std::byte> input, ByteQueue& output)
{
    if (phase_ == Phase::open)
        fail(SCHAN_E_INTERNAL, "the core asked for a handshake step while no handshake runs");

    // The first step after SEC_I_RENEGOTIATE calls AcceptSecurityContext even
    // without input, as the client does with InitializeSecurityContext.
    const bool first_post_handshake_step = phase_ == Phase::post_handshake && !post_handshake_started_;
    if (input.empty() && !first_post_handshake_step)
        return {};
    // After SEC_E_INCOMPLETE_MESSAGE with a SECBUFFER_MISSING count, a call
    // with less input would fail the same way.
    if (input.size() < needed_)
        return {};
    post_handshake_started_ = true;
    needed_ = 0;

    // Acquired here rather than in the constructor, so that provider errors
    // surface from schan_step() as schan.h promises.
    if (!credentials_.valid())
        credentials_ = acquire_server_credentials(config_);

    const ContextStep step = accept_token(input, output);
    const std::size_t consumed = input.size() - step.extra;

    switch (step.status) {
    case SEC_E_OK:
        // Bytes after the client's Finished (application data, a
        // close_notify) come back as EXTRA and stay in the core.
        if (phase_ == Phase::handshake)
            complete_first_handshake(output);
        else
            complete_post_handshake();
        return {consumed, true};

    case SEC_I_CONTINUE_NEEDED:
        return {consumed, false};

    case SEC_E_INCOMPLETE_MESSAGE:
        // A handshake message continues in records that have not arrived.
        // Nothing was used; the same input and more come back later, at
        // least one more record, or SECBUFFER_MISSING more bytes.
        needed_ = input.size() + step.missing;
        return {0, false, true};

    default:
        fail_handshake(step.status);
    }
}

ServerBackend::ContextStep ServerBackend::accept_token(gsl::span<std::byte> token, ByteQueue& output)
{
    // The SECBUFFER_TOKEN buffer comes first because Wine treats buffer 0 as
    // the token buffer. SChannel turns the EMPTY buffer into SECBUFFER_EXTRA
    // or SECBUFFER_MISSING. The server's ALPN list goes with the ClientHello,
    // that is until a context exists.
    std::byte no_input{};
    SecBuffer input_buffers[3] = {
        {buffer_size(token.size()), SECBUFFER_TOKEN, token.empty() ? &no_input : token.data()},
        {0, SECBUFFER_EMPTY, nullptr},
        {buffer_size(application_protocols_.size()), SECBUFFER_APPLICATION_PROTOCOLS,
         application_protocols_.data()},
    };
    const bool offer_protocols = !context_.valid() && !application_protocols_.empty();
    SecBufferDesc input{SECBUFFER_VERSION, offer_protocols ? 3UL : 2UL, input_buffers};

    // Alerts for a failed handshake come in the token or in the
    // SECBUFFER_ALERT buffer, depending on the Windows version.
    SecBuffer output_buffers[2] = {
        {0, SECBUFFER_TOKEN, nullptr},
        {0, SECBUFFER_ALERT, nullptr},
    };
    SecBufferDesc output_desc{SECBUFFER_VERSION, 2, output_buffers};

    const SECURITY_STATUS status = accept(&input, &output_desc);
    const ContextBuffer output_token(output_buffers[0].pvBuffer);
    const ContextBuffer alert(output_buffers[1].pvBuffer);

    // Every output is for the client, also on failure, so that the caller
    // can still send the alert before the error ends the session.
    append_buffer(output, output_buffers[0]);
    append_buffer(output, output_buffers[1]);

    ContextStep step{status, extra_size(input, token.size()), 0};
    if (status == SEC_E_INCOMPLETE_MESSAGE) {
        // No EXTRA buffer applies then. SECBUFFER_MISSING, when present,
        // contains how many more bytes SChannel needs.
        step.extra = 0;
        if (const SecBuffer* missing = find_buffer(input, SECBUFFER_MISSING))
            step.missing = missing->cbBuffer;
    }
    return step;
}

SECURITY_STATUS ServerBackend::accept(SecBufferDesc* input, SecBufferDesc* output)
{
    // The first call passes no context. The handle SChannel creates is kept
    // once a call has succeeded; a call that waits for more of the
    // ClientHello leaves none behind on Windows.
    CtxtHandle fresh;
    SecInvalidateHandle(&fresh);
    CtxtHandle* current = context_.get();
    CtxtHandle* next = current != nullptr ? current : &fresh;

    ULONG attributes = 0;
    TimeStamp expiry{};
    const SECURITY_STATUS status = sspi().AcceptSecurityContext(credentials_.get(), current, input,
                                                                context_request(config_), SECURITY_NATIVE_DREP,
                                                                next, output, &attributes, &expiry);

    if (current == nullptr && SecIsValidHandle(&fresh) && status != SEC_E_INCOMPLETE_MESSAGE)
        *context_.receive() = fresh;
    return status;
}

void ServerBackend::complete_first_handshake(ByteQueue& output)
{
    CtxtHandle* context = context_.get();
    if (context == nullptr)
        fail(SCHAN_E_INTERNAL, "AcceptSecurityContext returned SEC_E_OK without a context");
    stream_sizes_ = query_stream_sizes(context);

    info_.protocol = query_protocol_version(context);
    const std::uint16_t max_version = config_.max_version == SCHAN_TLS_DEFAULT ? 0xFFFF : config_.max_version;
    if (info_.protocol < config_.min_version || info_.protocol > max_version) {
        send_alert(TLS1_ALERT_PROTOCOL_VERSION, output);
        fail(SCHAN_E_UNSUPPORTED_VERSION, "the client negotiated " + protocol_label(info_.protocol) +
                                              ", outside the configured range " + describe_version_range(config_));
    }

    // NOTE: a provider that reports suite 0 (as Wine 8 does) leaves the
    // cipher empty, because no ClientHello scanner replaces the query here.
    if (const auto suite = query_cipher_suite(context)) {
        const char* name = cipher_suite_name(suite->number);
        info_.cipher = name != nullptr ? std::string(name) : suite->name.empty() ? hex(suite->number, 4) : suite->name;
    }
    info_.alpn = query_application_protocol(context, !config_.alpn.empty());
    info_.resumed = query_session_resumed(context);

    if (config_.client_auth != SCHAN_CLIENT_AUTH_NONE)
        check_client_certificate(output);
    phase_ = Phase::open;
}

void ServerBackend::check_client_certificate(ByteQueue& output)
{
    const CertificateContext peer = query_client_certificate(context_.get());
    if (peer.get() == nullptr) {
        if (config_.client_auth != SCHAN_CLIENT_AUTH_REQUIRED)
            return;
        send_alert(info_.protocol >= SCHAN_TLS_1_3 ? kCertificateRequiredAlert : TLS1_ALERT_HANDSHAKE_FAILURE,
                   output);
        fail(SCHAN_E_CERT_REQUIRED, "the client sent no certificate, and the server requires one");
    }

    try {
        verify_client_certificate(peer.get(), config_);
    } catch (const Error& error) {
        send_alert(alert_for_certificate_error(error.status()), output);
        throw;
    }
    info_.peer_chain = peer_chain(peer.get(), config_);
    if (info_.peer_chain.empty())
        info_.peer_chain.push_back(to_der(peer.get()));
}

void ServerBackend::complete_post_handshake()
{
    phase_ = Phase::open;
    post_handshake_started_ = false;
    stream_sizes_ = query_stream_sizes(context_.get());
}

void ServerBackend::fail_handshake(SECURITY_STATUS status)
{
    if (status == SEC_E_UNSUPPORTED_FUNCTION && phase_ == Phase::handshake)
        fail(SCHAN_E_UNSUPPORTED,
             "this SChannel cannot act as a TLS server: AcceptSecurityContext returned " + describe_status(status) +
                 ". Wine 8 does not implement the server role; Windows does.",
             static_cast<std::uint32_t>(status));

    const std::string step = phase_ == Phase::post_handshake ? "AcceptSecurityContext for a post-handshake message"
                                                             : "AcceptSecurityContext";
    // Wine returns SEC_E_INTERNAL_ERROR for every GnuTLS handshake error,
    // which is a failed handshake rather than a bug in schan.
    const schan_status mapped = status == SEC_E_INTERNAL_ERROR ? SCHAN_E_HANDSHAKE_FAILED : map_sspi_status(status);
    fail_sspi(mapped, step, status);
}

DecryptProgress ServerBackend::decrypt(gsl::span<std::byte> input, ByteQueue& plaintext, ByteQueue&)
{
    const DecryptProgress progress = decrypt_records(context_.get(), input, plaintext, "client");
    if (progress.event == RecordEvent::renegotiate) {
        // AcceptSecurityContext takes the rest of the input next.
        phase_ = Phase::post_handshake;
        post_handshake_started_ = false;
        needed_ = 0;
    }
    return progress;
}

void ServerBackend::encrypt(gsl::span<const std::byte> plaintext, ByteQueue& output)
{
    Expects(phase_ == Phase::open);
    encrypt_record(context_.get(), stream_sizes_, plaintext, output);
}

std::size_t ServerBackend::max_plaintext_chunk() const
{
    return stream_sizes_.cbMaximumMessage;
}

void ServerBackend::shutdown(ByteQueue& output)
{
    DWORD token = SCHANNEL_SHUTDOWN;
    apply_control_token(context_.get(), &token, sizeof token, "ApplyControlToken(SCHANNEL_SHUTDOWN)");
    generate_control_output("AcceptSecurityContext for close_notify", output);
}

ConnectionInfo ServerBackend::connection_info() const
{
    return info_;
}

void ServerBackend::send_alert(unsigned long description, ByteQueue& output) noexcept
{
    // Best effort: the error that ends the handshake matters more than the
    // alert, and a provider without SCHANNEL_ALERT support sends none.
    try {
        SCHANNEL_ALERT_TOKEN token{SCHANNEL_ALERT, TLS1_ALERT_FATAL, description};
        apply_control_token(context_.get(), &token, sizeof token, "ApplyControlToken(SCHANNEL_ALERT)");
        generate_control_output("AcceptSecurityContext for an alert", output);
    } catch (...) {
    }
}

void ServerBackend::generate_control_output(const char* step, ByteQueue& output)
{
    SecBuffer buffer{0, SECBUFFER_TOKEN, nullptr};
    SecBufferDesc output_desc{SECBUFFER_VERSION, 1, &buffer};
    const SECURITY_STATUS status = accept(nullptr, &output_desc);
    const ContextBuffer token(buffer.pvBuffer);

    // Windows returns SEC_E_OK with the alert record; SEC_I_CONTEXT_EXPIRED
    // and SEC_I_CONTINUE_NEEDED are accepted as for the client.
    if (status != SEC_E_OK && status != SEC_I_CONTINUE_NEEDED && status != SEC_I_CONTEXT_EXPIRED)
        fail_sspi(step, status);
    append_buffer(output, buffer);
}

} // namespace schan::schannel
