// Turns OpenSSL's thread-local error queue, SSL_get_error() results, alerts
// and X509 verification results into schan::Error.
#pragma once

#include <cstdint>
#include <string>

#include <openssl/ssl.h>

#include "schan/schan.h"

namespace schan::openssl {

// Empties the thread's OpenSSL error queue on construction and destruction,
// so that errors left by one call never show up in the next call or in
// another session on the same thread.
class ErrorQueueScope {
public:
    ErrorQueueScope() noexcept;
    ~ErrorQueueScope();
    ErrorQueueScope(const ErrorQueueScope&) = delete;
    ErrorQueueScope& operator=(const ErrorQueueScope&) = delete;
};

// The entries of the error queue, removed from it by take_queued_errors().
struct QueuedErrors {
    unsigned long first_code = 0;  // the earliest entry, 0 when the queue was empty
    std::string text;              // every entry as "error:0A000086:SSL routines::certificate verify failed"
};

QueuedErrors take_queued_errors();

// Throws `status` for a failed OpenSSL call outside the TLS exchange
// (creating objects, loading keys). The message is "<step> failed: <queue>".
[[noreturn]] void fail_with_queue(schan_status status, const std::string& step);

// The last alerts seen on one connection, as the info callback reports them:
// (level << 8) | description, or -1 when none.
struct AlertLog {
    int received = -1;
    int sent = -1;
};

enum class Phase { handshake, data };

// Throws the schan::Error for a TLS call (SSL_do_handshake, SSL_read,
// SSL_write, SSL_shutdown) that returned `result` with SSL_get_error() value
// `ssl_error`. Call SSL_get_error() before any other OpenSSL call, because it
// looks at the error queue.
[[noreturn]] void fail_tls_call(const SSL* ssl, const char* call, int ssl_error, Phase phase,
                                const AlertLog& alerts);

} // namespace schan::openssl
