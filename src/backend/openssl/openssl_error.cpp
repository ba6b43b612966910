#include "backend/openssl/openssl_error.h"

#include <openssl/err.h>

#include "backend/openssl/verification.h"
#include "core/error.h"

namespace schan::openssl {

namespace {

bool is_ssl_reason(unsigned long code, int reason) noexcept
{
    return ERR_GET_LIB(code) == ERR_LIB_SSL && ERR_GET_REASON(code) == reason;
}

// OpenSSL reports a received fatal alert as SSL reason SSL_AD_REASON_OFFSET
// plus the alert's description value.
int received_alert_in(unsigned long code) noexcept
{
    const int reason = ERR_GET_REASON(code);
    if (ERR_GET_LIB(code) != ERR_LIB_SSL || reason < SSL_AD_REASON_OFFSET || reason > SSL_AD_REASON_OFFSET + 255)
        return -1;
    return reason - SSL_AD_REASON_OFFSET;
}

bool is_version_failure(unsigned long code) noexcept
{
    return is_ssl_reason(code, SSL_R_UNSUPPORTED_PROTOCOL) || is_ssl_reason(code, SSL_R_WRONG_VERSION_NUMBER) ||
           is_ssl_reason(code, SSL_R_NO_PROTOCOLS_AVAILABLE) || is_ssl_reason(code, SSL_R_VERSION_TOO_LOW) ||
           is_ssl_reason(code, SSL_R_VERSION_TOO_HIGH) || is_ssl_reason(code, SSL_R_UNKNOWN_PROTOCOL) ||
           is_ssl_reason(code, SSL_R_INAPPROPRIATE_FALLBACK);
}

// Returns the long name of an alert. OpenSSL 3.0's SSL_alert_desc_string_long()
// returns "unknown" for some TLS 1.3 alerts (RFC 8446 section 6), so those
// come from this table.
std::string alert_name(int description)
{
    switch (description) {
    case 109: return "missing extension";
    case 115: return "unknown PSK identity";
    case 116: return "certificate required";
    case 120: return "no application protocol";
    default: return SSL_alert_desc_string_long(description);
    }
}

// Formats "handshake failure (40)" for an alert description value.
std::string describe_alert(int description)
{
    return alert_name(description) + " (" + std::to_string(description) + ")";
}

// Appends what OpenSSL reported: the queue and any alert sent.
std::string details(const QueuedErrors& errors, const AlertLog& alerts)
{
    std::string text;
    if (!errors.text.empty())
        text += "; OpenSSL: " + errors.text;
    if (alerts.sent >= 0 && (alerts.sent & 0xFF) != SSL_AD_CLOSE_NOTIFY)
        text += "; sent alert " + describe_alert(alerts.sent & 0xFF);
    return text;
}

[[noreturn]] void fail_ssl_error(const SSL* ssl, const char* call, Phase phase, const AlertLog& alerts)
{
    const QueuedErrors errors = take_queued_errors();
    const std::string prefix = std::string(call) + " failed: ";

    if (is_ssl_reason(errors.first_code, SSL_R_CERTIFICATE_VERIFY_FAILED)) {
        const long result = SSL_get_verify_result(ssl);
        fail(status_for_verify_result(result),
             prefix + "certificate verification failed with " + describe_verify_result(result) +
                 details(errors, alerts),
             static_cast<std::uint64_t>(result));
    }

    const int alert = received_alert_in(errors.first_code);
    if (alert >= 0) {
        // A protocol_version alert means the peer accepts no version in our
        // range, which callers handle like a local version failure.
        const schan_status status =
            alert == SSL_AD_PROTOCOL_VERSION ? SCHAN_E_UNSUPPORTED_VERSION : SCHAN_E_ALERT_RECEIVED;
        fail(status, prefix + "the peer sent the fatal alert " + describe_alert(alert) + details(errors, alerts),
             errors.first_code);
    }

    if (is_ssl_reason(errors.first_code, SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE))
        fail(SCHAN_E_CERT_REQUIRED,
             prefix + "the client sent no certificate, and client authentication is required" + details(errors, alerts),
             errors.first_code);

    if (is_version_failure(errors.first_code))
        fail(SCHAN_E_UNSUPPORTED_VERSION,
             prefix + "no protocol version within the configured range" + details(errors, alerts), errors.first_code);

    const schan_status status = phase == Phase::handshake ? SCHAN_E_HANDSHAKE_FAILED : SCHAN_E_PROTOCOL;
    const char* summary = errors.text.empty() ? "the TLS provider reported an error without details" : "TLS error";
    fail(status, prefix + summary + details(errors, alerts), errors.first_code);
}

// ERR_clear_error() resets every slot of the queue and costs as much as a
// small record's encryption, so an empty queue, the usual case, is left alone.
void clear_error_queue() noexcept
{
    if (ERR_peek_error() != 0)
        ERR_clear_error();
}

} // namespace

ErrorQueueScope::ErrorQueueScope() noexcept
{
    clear_error_queue();
}

ErrorQueueScope::~ErrorQueueScope()
{
    clear_error_queue();
}

QueuedErrors take_queued_errors()
{
    QueuedErrors errors;
    char line[256];
    while (const unsigned long code = ERR_get_error()) {
        if (errors.first_code == 0)
            errors.first_code = code;
        else
            errors.text += "; ";
        ERR_error_string_n(code, line, sizeof line);
        errors.text += line;
    }
    return errors;
}

void fail_with_queue(schan_status status, const std::string& step)
{
    const QueuedErrors errors = take_queued_errors();
    fail(status, step + " failed" + (errors.text.empty() ? std::string() : ": " + errors.text), errors.first_code);
}

void fail_tls_call(const SSL* ssl, const char* call, int ssl_error, Phase phase, const AlertLog& alerts)
{
    switch (ssl_error) {
    case SSL_ERROR_SSL:
        fail_ssl_error(ssl, call, phase, alerts);
    case SSL_ERROR_ZERO_RETURN:
        fail(phase == Phase::handshake ? SCHAN_E_HANDSHAKE_FAILED : SCHAN_E_PROTOCOL,
             std::string(call) + " failed: the peer sent close_notify before the handshake was complete" +
                 details(take_queued_errors(), alerts));
    case SSL_ERROR_SYSCALL: {
        // Memory BIOs make no system calls, so this is a bug in schan or OpenSSL.
        const QueuedErrors errors = take_queued_errors();
        fail(SCHAN_E_INTERNAL, std::string(call) + " failed with SSL_ERROR_SYSCALL" + details(errors, alerts),
             errors.first_code);
    }
    default: {
        const QueuedErrors errors = take_queued_errors();
        fail(SCHAN_E_INTERNAL,
             std::string(call) + " returned the unexpected SSL_get_error value " + std::to_string(ssl_error) +
                 details(errors, alerts),
             errors.first_code);
    }
    }
}

} // namespace schan::openssl
