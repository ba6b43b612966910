#include "backend/openssl/openssl_backend.h"

#include <utility>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "backend/openssl/resumption.h"
#include "core/error.h"
#include "core/record.h"

namespace schan {

const char* backend_name() noexcept
{
    return "openssl";
}

} // namespace schan

namespace schan::openssl {

namespace {

Der to_der(X509* certificate)
{
    const int length = i2d_X509(certificate, nullptr);
    if (length <= 0)
        fail_with_queue(SCHAN_E_INTERNAL, "encoding a peer certificate as DER (i2d_X509)");
    Der der(static_cast<std::size_t>(length));
    auto* cursor = reinterpret_cast<unsigned char*>(der.data());
    i2d_X509(certificate, &cursor);
    return der;
}

// Returns the peer's chain, leaf first. A verified chain (it ends at the
// trust anchor) is preferred; without verification, the certificates as the
// peer sent them. SSL_get_peer_cert_chain() contains the leaf on a client but
// not on a server, so the leaf is added when it is missing.
std::vector<Der> peer_chain(const SSL* ssl)
{
    std::vector<Der> chain;
    X509* leaf = SSL_get0_peer_certificate(ssl);
    if (leaf == nullptr)
        return chain;

    STACK_OF(X509)* certificates = nullptr;
    if (SSL_get_verify_mode(ssl) != SSL_VERIFY_NONE && SSL_get_verify_result(ssl) == X509_V_OK)
        certificates = SSL_get0_verified_chain(ssl);
    if (certificates == nullptr)
        certificates = SSL_get_peer_cert_chain(ssl);

    const int count = certificates == nullptr ? 0 : sk_X509_num(certificates);
    if (count == 0 || X509_cmp(sk_X509_value(certificates, 0), leaf) != 0)
        chain.push_back(to_der(leaf));
    for (int i = 0; i < count; ++i)
        chain.push_back(to_der(sk_X509_value(certificates, i)));
    return chain;
}

void record_alerts(const SSL* ssl, int where, int value)
{
    if ((where & SSL_CB_ALERT) == 0)
        return;
    AlertLog& alerts = connection_state(ssl).alerts;
    if ((where & SSL_CB_READ) != 0)
        alerts.received = value;
    else
        alerts.sent = value;
}

} // namespace

ConnectionState& connection_state(const SSL* ssl)
{
    auto* state = static_cast<ConnectionState*>(SSL_get_app_data(ssl));
    Expects(state != nullptr);
    return *state;
}

OpensslBackend::OpensslBackend(SslPtr ssl, std::string alpn_preference) : ssl_(std::move(ssl))
{
    Expects(ssl_ != nullptr);

    // One BIO reads and writes, so SSL_set_bio() takes a single reference.
    BIO* bio = make_queue_bio(buffers_).release();
    SSL_set_bio(ssl_.get(), bio, bio);

    state_.alpn_preference = std::move(alpn_preference);
    SSL_set_app_data(ssl_.get(), &state_);
    SSL_set_info_callback(ssl_.get(), record_alerts);
}

void OpensslBackend::use_session_cache(std::shared_ptr<SessionCache> cache, std::string key)
{
    state_.session_cache = std::move(cache);
    state_.session_key = std::move(key);
}

HandshakeProgress OpensslBackend::handshake(gsl::span<std::byte> input, ByteQueue& output)
{
    const ErrorQueueScope error_scope;
    const LentBuffers lent(buffers_, input, output);
    if (established_) {
        const bool complete = continue_post_handshake();
        return {lent.consumed(input.size()), complete};
    }

    // The cache is read when the handshake starts, not when the session is
    // created, so a session created earlier still finds the tickets that
    // connections completed in between received.
    if (state_.session_cache && !session_offered_) {
        session_offered_ = true;
        offer_cached_session(ssl_.get(), *state_.session_cache, state_.session_key);
    }

    const int result = SSL_do_handshake(ssl_.get());
    const int ssl_error = result == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_.get(), result);

    // Records after the last handshake message, such as application data
    // that followed the peer's Finished, stay unread for decrypt().
    if (result == 1) {
        established_ = true;
        return {lent.consumed(input.size()), true};
    }
    if (ssl_error == SSL_ERROR_WANT_READ)
        return {lent.consumed(input.size()), false};
    fail_tls_call(ssl_.get(), "SSL_do_handshake", ssl_error, Phase::handshake, state_.alerts);
}

// Drives a renegotiation (TLS 1.2) or a post-handshake message split over
// several records (TLS 1.3) with SSL_read, because only SSL_read accepts the
// application data that the peer may send in between. That plaintext is held
// for the next decrypt().
bool OpensslBackend::continue_post_handshake()
{
    read_records(held_plaintext_);
    return close_received_ || SSL_in_init(ssl_.get()) == 0;
}

DecryptProgress OpensslBackend::decrypt(gsl::span<std::byte> input, ByteQueue& plaintext, ByteQueue& output)
{
    const ErrorQueueScope error_scope;
    const LentBuffers lent(buffers_, input, output);

    if (!held_plaintext_.empty()) {
        plaintext.append(held_plaintext_.data());
        held_plaintext_.clear();
    }
    const RecordEvent event = read_records(plaintext);
    return {lent.consumed(input.size()), event};
}

// Reads until OpenSSL needs more records, so the plaintext produced is bounded
// by the records lent to the BIO. Tickets and KeyUpdate messages (TLS 1.3) are
// processed inside SSL_read, and any response it writes, such as the KeyUpdate
// that update_requested calls for, goes to the output queue lent for the call.
RecordEvent OpensslBackend::read_records(ByteQueue& plaintext)
{
    while (!close_received_) {
        // A fatal error puts OpenSSL back in its init state, so whether a
        // failure belongs to a handshake is decided before the read.
        const bool was_in_handshake = SSL_in_init(ssl_.get()) != 0;
        auto buffer = plaintext.prepare(kMaxPlaintextFragment);
        const int result = SSL_read(ssl_.get(), buffer.data(), static_cast<int>(buffer.size()));
        const int ssl_error = result > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl_.get(), result);
        plaintext.commit(result > 0 ? static_cast<std::size_t>(result) : 0);

        if (result > 0)
            continue;
        if (ssl_error == SSL_ERROR_ZERO_RETURN) {
            close_received_ = true;
            break;
        }
        if (ssl_error == SSL_ERROR_WANT_READ)
            return SSL_in_init(ssl_.get()) != 0 ? RecordEvent::renegotiate : RecordEvent::none;
        fail_tls_call(ssl_.get(), "SSL_read", ssl_error, was_in_handshake ? Phase::handshake : Phase::data,
                      state_.alerts);
    }
    return RecordEvent::close_notify;
}

void OpensslBackend::encrypt(gsl::span<const std::byte> plaintext, ByteQueue& output)
{
    const ErrorQueueScope error_scope;
    if (plaintext.empty())
        return;
    const LentBuffers lent(buffers_, {}, output);

    const int result = SSL_write(ssl_.get(), plaintext.data(), static_cast<int>(plaintext.size()));
    const int ssl_error = result > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl_.get(), result);
    if (result <= 0)
        fail_tls_call(ssl_.get(), "SSL_write", ssl_error, Phase::data, state_.alerts);
}

std::size_t OpensslBackend::max_plaintext_chunk() const
{
    return kMaxPlaintextFragment;
}

void OpensslBackend::shutdown(ByteQueue& output)
{
    const ErrorQueueScope error_scope;
    const LentBuffers lent(buffers_, {}, output);

    // NOTE: OpenSSL refuses SSL_shutdown while a renegotiation runs
    // (SSL_R_SHUTDOWN_WHILE_IN_INIT), so schan_shutdown() then fails the session.
    const int result = SSL_shutdown(ssl_.get());
    const int ssl_error = result >= 0 ? SSL_ERROR_NONE : SSL_get_error(ssl_.get(), result);
    if (result < 0)
        fail_tls_call(ssl_.get(), "SSL_shutdown", ssl_error, Phase::data, state_.alerts);
}

ConnectionInfo OpensslBackend::connection_info() const
{
    const ErrorQueueScope error_scope;
    ConnectionInfo info;
    info.protocol = static_cast<std::uint16_t>(SSL_version(ssl_.get()));

    if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_.get())) {
        const char* name = SSL_CIPHER_standard_name(cipher);
        info.cipher = name != nullptr ? name : SSL_CIPHER_get_name(cipher);
    }

    const unsigned char* alpn = nullptr;
    unsigned int alpn_length = 0;
    SSL_get0_alpn_selected(ssl_.get(), &alpn, &alpn_length);
    if (alpn != nullptr)
        info.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_length);

    info.peer_chain = peer_chain(ssl_.get());
    info.resumed = SSL_session_reused(ssl_.get()) == 1;
    return info;
}

} // namespace schan::openssl
