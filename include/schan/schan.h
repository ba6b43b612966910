/*
 * schan: TLS through the operating system's TLS stack (SChannel on Windows,
 * OpenSSL 3 elsewhere) behind one small C ABI.
 *
 * The API is sans-IO. schan never reads or writes a socket: the caller feeds
 * the bytes it received from the peer with schan_feed(), drains the bytes that
 * must be sent with schan_take_output(), and moves plaintext with
 * schan_encrypt() and schan_decrypt(). schan_step() drives the handshake.
 *
 * Every function returns a schan_status or a plain value. Negative statuses are
 * errors; non-negative ones tell the caller what to do next:
 *
 *   SCHAN_OK            the call finished its work
 *   SCHAN_NEED_INPUT    feed more bytes received from the peer, then call again
 *   SCHAN_HAVE_OUTPUT   send the bytes from schan_take_output(), then call again
 *   SCHAN_CLOSED        the peer sent close_notify: a clean end of stream
 *
 * Misuse: a NULL pointer where an object is needed, or a length or capacity
 * above PTRDIFF_MAX, gives SCHAN_E_INVALID_ARGUMENT; a buffer may be NULL
 * only when its length is 0. A call that the session's state does not allow
 * gives SCHAN_E_INVALID_STATE. Neither changes the session, which stays
 * usable. schan_last_status() and schan_last_error() describe the rejection,
 * except after the queries (schan_get_*, schan_session_resumed), which take a
 * const session and record nothing.
 * Once a session has failed (SCHAN_STATE_FAILED), schan_feed(),
 * schan_feed_eof(), schan_step(), schan_encrypt(), schan_decrypt() and
 * schan_shutdown() do nothing and return the status of the failure, which
 * schan_last_status() and schan_last_error() keep describing.
 * schan_take_output() still returns an alert queued for the peer.
 *
 * A minimal blocking client:
 *
 *   schan_config *cfg; schan_session *s;
 *   schan_config_new(&cfg);
 *   schan_client_new(cfg, "example.com", &s);
 *   for (;;) {
 *     schan_status st = schan_step(s);
 *     if (st == SCHAN_HAVE_OUTPUT) { send_all_output(s); continue; }
 *     if (st == SCHAN_NEED_INPUT)  { feed_from_socket(s); continue; }
 *     if (st == SCHAN_OK) break;               // handshake complete
 *     fprintf(stderr, "%s\n", schan_last_error(s));  // any negative status
 *     return 1;
 *   }
 *
 * Memory: schan never returns memory that the caller must free. Strings and
 * certificate bytes returned by queries belong to the session and stay valid
 * until the session is freed or the next call that changes the session.
 *
 * Threads: a session is used by one thread at a time; its calls must not
 * overlap, but it may move between threads. Sessions are independent of each
 * other, also when they were created from the same config. Once a config is
 * set up, any number of threads may call schan_client_new() and
 * schan_server_new() on it at once, and its session cache is shared safely
 * by all the sessions created from it. The calls that change a config
 * (schan_config_set_*, schan_config_add_alpn, schan_config_clear_alpn,
 * schan_config_load_*, schan_config_enable_resumption) must not overlap any
 * other call on the same config, because they change the settings and its
 * last error message.
 *
 * The header is C99 and C++ compatible.
 */
#ifndef SCHAN_SCHAN_H
#define SCHAN_SCHAN_H

#include <stddef.h>
#include <stdint.h>

/** ABI version of this header. schan_abi_version() returns the library's. */
#define SCHAN_ABI_VERSION 1

/** Library version as a string (semantic versioning). */
#define SCHAN_VERSION_STRING "0.1.0"

#if defined(SCHAN_STATIC)
#  define SCHAN_API
#elif defined(_WIN32)
#  if defined(SCHAN_BUILDING_LIBRARY)
#    define SCHAN_API __declspec(dllexport)
#  else
#    define SCHAN_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__)
#  define SCHAN_API __attribute__((visibility("default")))
#else
#  define SCHAN_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque configuration shared by any number of sessions. */
typedef struct schan_config schan_config;

/** Opaque TLS session: one connection, client or server role. */
typedef struct schan_session schan_session;

/*
 * Every enum ends with a *_FORCE_INT32 value, which is never used. It makes
 * the enum 32 bits wide on every compiler and lets C++ receive any int value
 * from an FFI caller without undefined behaviour, so that bad values can be
 * rejected with SCHAN_E_INVALID_ARGUMENT.
 */

/**
 * Result of every schan call that can fail. Non-negative values report
 * progress; negative values are errors. The values are part of the ABI.
 */
typedef enum schan_status {
    /** The call finished; for schan_step(), the handshake is complete. */
    SCHAN_OK = 0,
    /** More bytes from the peer are needed: call schan_feed(), then retry. */
    SCHAN_NEED_INPUT = 1,
    /** Bytes are queued for the peer: drain schan_take_output(), then retry. */
    SCHAN_HAVE_OUTPUT = 2,
    /** The peer sent close_notify and every plaintext byte was delivered. */
    SCHAN_CLOSED = 3,

    /** A pointer was NULL, a length was out of range or a value unknown. */
    SCHAN_E_INVALID_ARGUMENT = -1,
    /** The call is not allowed in the session's current state. */
    SCHAN_E_INVALID_STATE = -2,
    /** Memory allocation failed. */
    SCHAN_E_OUT_OF_MEMORY = -3,
    /** A bug in schan or an unexpected result from the TLS provider. */
    SCHAN_E_INTERNAL = -4,
    /** The transport ended without the peer's close_notify. */
    SCHAN_E_TRUNCATED = -5,
    /** The handshake failed for a reason not covered by a narrower status. */
    SCHAN_E_HANDSHAKE_FAILED = -6,
    /** The peer sent a fatal TLS alert; the message names it when known. */
    SCHAN_E_ALERT_RECEIVED = -7,
    /** No protocol version within the configured range can be used. */
    SCHAN_E_UNSUPPORTED_VERSION = -8,
    /** The peer's certificate chain does not end at a trusted root. */
    SCHAN_E_CERT_UNTRUSTED = -9,
    /** A certificate in the peer's chain is expired or not yet valid. */
    SCHAN_E_CERT_EXPIRED = -10,
    /** The peer's certificate does not match the expected name or address. */
    SCHAN_E_CERT_NAME_MISMATCH = -11,
    /** A certificate in the peer's chain is revoked. */
    SCHAN_E_CERT_REVOKED = -12,
    /** Revocation status could not be checked and the mode is strict. */
    SCHAN_E_REVOCATION_UNKNOWN = -13,
    /** The peer's certificate is invalid for another reason (usage, signature, format). */
    SCHAN_E_CERT_INVALID = -14,
    /** The peer sent bytes that are not valid TLS (bad record, failed decryption). */
    SCHAN_E_PROTOCOL = -15,
    /** A file named in the configuration could not be opened. */
    SCHAN_E_FILE_NOT_FOUND = -16,
    /** Certificate, key or bundle data could not be parsed. */
    SCHAN_E_BAD_FORMAT = -17,
    /** The feature is not available with this backend or platform. */
    SCHAN_E_UNSUPPORTED = -18,
    /** A private key or PKCS#12 file is encrypted and the password is missing or wrong. */
    SCHAN_E_BAD_PASSWORD = -19,
    /** The private key does not belong to the certificate. */
    SCHAN_E_KEY_MISMATCH = -20,
    /** A server that requires a client certificate received none. */
    SCHAN_E_CERT_REQUIRED = -21,

    SCHAN_STATUS_FORCE_INT32 = 0x7FFFFFFF
} schan_status;

/** Protocol versions, by their wire value. 0 means "backend default". */
typedef enum schan_tls_version {
    SCHAN_TLS_DEFAULT = 0,
    SCHAN_TLS_1_2 = 0x0303,
    SCHAN_TLS_1_3 = 0x0304,

    SCHAN_TLS_VERSION_FORCE_INT32 = 0x7FFFFFFF
} schan_tls_version;

/** How the peer's certificate chain is checked. */
typedef enum schan_verify_mode {
    /** Trust the operating system's root store (the default). */
    SCHAN_VERIFY_SYSTEM = 0,
    /** Trust only the CA certificates loaded into the config. */
    SCHAN_VERIFY_CUSTOM_ONLY = 1,
    /** Trust the loaded CA certificates and the system roots. */
    SCHAN_VERIFY_CUSTOM_AND_SYSTEM = 2,
    /** Check nothing: no chain, no name, no expiry. Insecure; only on request. */
    SCHAN_VERIFY_NONE = 3,

    SCHAN_VERIFY_MODE_FORCE_INT32 = 0x7FFFFFFF
} schan_verify_mode;

/** Certificate revocation checking. */
typedef enum schan_revocation_mode {
    /** Check where revocation information is available; ignore it when not (the default). */
    SCHAN_REVOCATION_BEST_EFFORT = 0,
    /** Fail with SCHAN_E_REVOCATION_UNKNOWN when the status cannot be determined. */
    SCHAN_REVOCATION_STRICT = 1,
    /** Do not check revocation. */
    SCHAN_REVOCATION_OFF = 2,

    SCHAN_REVOCATION_MODE_FORCE_INT32 = 0x7FFFFFFF
} schan_revocation_mode;

/** Whether a server requests a certificate from clients. */
typedef enum schan_client_auth {
    /** Do not request a client certificate (the default). */
    SCHAN_CLIENT_AUTH_NONE = 0,
    /** Request one. A client without a certificate is accepted, one with an invalid certificate is not. */
    SCHAN_CLIENT_AUTH_OPTIONAL = 1,
    /** Require one; the handshake fails with SCHAN_E_CERT_REQUIRED when the client sends none. */
    SCHAN_CLIENT_AUTH_REQUIRED = 2,

    SCHAN_CLIENT_AUTH_FORCE_INT32 = 0x7FFFFFFF
} schan_client_auth;

/** Session state, as returned by schan_get_state(). */
typedef enum schan_state {
    /** The handshake has not completed. */
    SCHAN_STATE_HANDSHAKE = 0,
    /** Application data flows both ways. */
    SCHAN_STATE_OPEN = 1,
    /** A post-handshake message (renegotiation, ticket, KeyUpdate) is being processed. */
    SCHAN_STATE_RENEGOTIATING = 2,
    /** One side has sent close_notify; the other direction may still carry data. */
    SCHAN_STATE_CLOSING = 3,
    /** close_notify was both sent and received, or the peer's was received and ours queued. */
    SCHAN_STATE_CLOSED = 4,
    /** A fatal error occurred; schan_last_error() describes it. */
    SCHAN_STATE_FAILED = 5,

    SCHAN_STATE_FORCE_INT32 = 0x7FFFFFFF
} schan_state;

/* ------------------------------------------------------------------------- */
/* Library                                                                   */
/* ------------------------------------------------------------------------- */

/** Returns the ABI version the library was built with (compare with SCHAN_ABI_VERSION). */
SCHAN_API uint32_t schan_abi_version(void);

/** Returns the library version string, for example "0.1.0". Never NULL. */
SCHAN_API const char *schan_version(void);

/**
 * Returns the library version followed by its ABI version, for example
 * "0.1.0 (ABI 1)", for logs and bug reports. Never NULL. The string is static.
 */
SCHAN_API const char *schan_version_string_full(void);

/** Returns the backend name: "schannel" or "openssl". Never NULL. */
SCHAN_API const char *schan_backend_name(void);

/**
 * Returns the symbolic name of a status, for example "SCHAN_E_CERT_EXPIRED".
 * Unknown values give "SCHAN_E_UNKNOWN_STATUS". The string is static.
 */
SCHAN_API const char *schan_status_name(schan_status status);

/* ------------------------------------------------------------------------- */
/* Configuration                                                             */
/* ------------------------------------------------------------------------- */

/**
 * Creates a configuration with secure defaults: TLS 1.2 and newer, system
 * roots, host name checked, revocation best effort, no ALPN.
 * @param out receives the new config; set to NULL on failure.
 * @return SCHAN_OK, SCHAN_E_INVALID_ARGUMENT or SCHAN_E_OUT_OF_MEMORY.
 */
SCHAN_API schan_status schan_config_new(schan_config **out);

/** Frees a config. Sessions created from it stay valid. NULL is ignored. */
SCHAN_API void schan_config_free(schan_config *config);

/**
 * Sets the range of protocol versions. SCHAN_TLS_DEFAULT leaves a bound at
 * the default (minimum TLS 1.2, maximum the newest the backend supports).
 * A handshake that would negotiate a version outside the range fails with
 * SCHAN_E_UNSUPPORTED_VERSION; schan never downgrades silently.
 * @return SCHAN_E_INVALID_ARGUMENT for an unknown version or min > max.
 */
SCHAN_API schan_status schan_config_set_versions(schan_config *config,
                                                 schan_tls_version min_version,
                                                 schan_tls_version max_version);

/**
 * Appends one protocol name to the ALPN list offered by clients (in order of
 * preference). Names are 1 to 255 bytes.
 * @return SCHAN_E_INVALID_ARGUMENT for NULL, an empty or a too long name.
 */
SCHAN_API schan_status schan_config_add_alpn(schan_config *config, const char *protocol);

/** Removes every ALPN protocol name from the config. */
SCHAN_API schan_status schan_config_clear_alpn(schan_config *config);

/**
 * Chooses how the peer's certificate is verified. SCHAN_VERIFY_NONE disables
 * every check and must be asked for explicitly.
 */
SCHAN_API schan_status schan_config_set_verify_mode(schan_config *config, schan_verify_mode mode);

/** Chooses how revocation is checked (see schan_revocation_mode). */
SCHAN_API schan_status schan_config_set_revocation_mode(schan_config *config,
                                                        schan_revocation_mode mode);

/**
 * Adds the CA certificates of a PEM file to the config's custom CA bundle.
 * @return SCHAN_E_FILE_NOT_FOUND if the file cannot be read,
 *         SCHAN_E_BAD_FORMAT if it holds no PEM certificate or a broken one.
 *         schan_config_last_error() names the file and the problem.
 */
SCHAN_API schan_status schan_config_load_ca_file(schan_config *config, const char *path);

/**
 * Adds the CA certificates of a PEM buffer (not necessarily NUL-terminated)
 * to the config's custom CA bundle.
 * @return SCHAN_E_BAD_FORMAT if it holds no PEM certificate or a broken one.
 */
SCHAN_API schan_status schan_config_load_ca_pem(schan_config *config, const char *pem,
                                                size_t length);

/**
 * Loads a certificate, its chain and its private key from PEM files. For a
 * server session it is the server's certificate; for a client session it is
 * the client certificate sent when the server requests one. Loading again
 * replaces the previous certificate.
 * @param cert_pem_path the certificate followed by the intermediate CA
 *        certificates to send (not the root).
 * @param key_pem_path the private key, PKCS#8 or traditional, optionally
 *        encrypted; NULL when the certificate file also contains the key.
 * @param password the key's password, or NULL for an unencrypted key.
 * @return SCHAN_E_FILE_NOT_FOUND if a file cannot be read,
 *         SCHAN_E_BAD_FORMAT if it contains no certificate or no key,
 *         SCHAN_E_BAD_PASSWORD if the key is encrypted and the password is
 *         missing or wrong, SCHAN_E_KEY_MISMATCH if the key does not belong
 *         to the certificate, SCHAN_E_CERT_INVALID if the TLS provider
 *         rejects the certificate or key (with OpenSSL, a key size or
 *         signature algorithm below its security level).
 *         schan_config_last_error() names the file.
 */
SCHAN_API schan_status schan_config_load_cert_chain_file(schan_config *config, const char *cert_pem_path,
                                                         const char *key_pem_path, const char *password);

/**
 * Loads a certificate, its chain and its private key from PEM buffers (not
 * necessarily NUL-terminated), like schan_config_load_cert_chain_file().
 * key_pem may be NULL (with key_length 0) when cert_pem also contains the key.
 */
SCHAN_API schan_status schan_config_load_cert_chain_pem(schan_config *config, const char *cert_pem,
                                                        size_t cert_length, const char *key_pem,
                                                        size_t key_length, const char *password);

/**
 * Loads a certificate, its chain and its private key from a PKCS#12 (PFX)
 * file, for the same uses as schan_config_load_cert_chain_file().
 * @param password the file's password, or NULL when it has none.
 * @return SCHAN_E_FILE_NOT_FOUND, SCHAN_E_BAD_FORMAT, SCHAN_E_BAD_PASSWORD,
 *         SCHAN_E_KEY_MISMATCH or SCHAN_E_CERT_INVALID, as for
 *         schan_config_load_cert_chain_file().
 */
SCHAN_API schan_status schan_config_load_pkcs12_file(schan_config *config, const char *path,
                                                     const char *password);

/** Loads a PKCS#12 (PFX) buffer, like schan_config_load_pkcs12_file(). */
SCHAN_API schan_status schan_config_load_pkcs12(schan_config *config, const uint8_t *data, size_t length,
                                                const char *password);

/**
 * Loads a certificate and its private key from the Windows certificate
 * store, for the same uses as schan_config_load_cert_chain_file().
 *
 * @param path "<location>\\<store>\\<thumbprint>": location CurrentUser or
 *        LocalMachine, a system store name such as MY, and the certificate's
 *        SHA-1 thumbprint as 40 hexadecimal digits (spaces and colons allowed),
 *        for example "CurrentUser\\MY\\3f2a...". "/" also separates the parts.
 * @return SCHAN_E_INVALID_ARGUMENT for a malformed path,
 *         SCHAN_E_FILE_NOT_FOUND when the store does not exist or contains no
 *         certificate with that thumbprint, SCHAN_E_BAD_FORMAT when the
 *         certificate has no private key, and SCHAN_E_UNSUPPORTED with the
 *         OpenSSL backend.
 */
SCHAN_API schan_status schan_config_load_cert_store(schan_config *config, const char *path);

/**
 * Chooses whether servers created from the config request a client
 * certificate. Client certificates are verified like server certificates:
 * against the roots that schan_config_set_verify_mode() selects, with the
 * revocation mode. Client sessions ignore this setting.
 */
SCHAN_API schan_status schan_config_set_client_auth(schan_config *config, schan_client_auth mode);

/**
 * Enables (nonzero) or disables (0, the default) client session resumption.
 * When enabled, the config owns a session cache that every client session
 * created from it shares, including copies made before a later
 * schan_config_free(). Sessions are looked up by server name together with
 * the config's versions, ALPN list, verification settings and credentials.
 * A TLS 1.3 ticket is used at most once. Disabling drops the config's cache;
 * sessions already created keep theirs. The cache is thread-safe. With
 * SChannel, the provider caches sessions itself per credentials and target
 * name, and this setting has no effect. Server sessions ignore it.
 */
SCHAN_API schan_status schan_config_enable_resumption(schan_config *config, int enabled);

/**
 * Returns a message describing the config's last failed call, or "" if none.
 * The string belongs to the config and changes with the next call on it.
 */
SCHAN_API const char *schan_config_last_error(const schan_config *config);

/* ------------------------------------------------------------------------- */
/* Sessions                                                                  */
/* ------------------------------------------------------------------------- */

/**
 * Creates a client session. The config is copied: later changes to it do not
 * affect the session, and it may be freed at once.
 *
 * @param server_name host name or IP address literal of the server. A host
 *        name is sent as SNI and checked against the certificate's DNS names;
 *        an IPv4 or IPv6 literal is not sent as SNI and is matched only
 *        against IP-address subject alternative names. NULL skips the name
 *        check (the chain is still verified unless the mode is
 *        SCHAN_VERIFY_NONE) and sends no SNI.
 * @param out receives the new session; set to NULL on failure.
 * @return SCHAN_OK, SCHAN_E_INVALID_ARGUMENT or SCHAN_E_OUT_OF_MEMORY. The
 *         TLS provider is first called by schan_step(), so provider errors
 *         surface there.
 */
SCHAN_API schan_status schan_client_new(const schan_config *config, const char *server_name,
                                        schan_session **out);

/**
 * Creates a server session. The config is copied as for schan_client_new()
 * and must contain a certificate loaded with schan_config_load_cert_chain_file(),
 * schan_config_load_pkcs12_file() or their buffer forms. The session waits
 * for the client's first flight: schan_step() returns SCHAN_NEED_INPUT until
 * it has been fed. The server picks the first protocol of its own ALPN list
 * that the client offers. When there is no overlap, the handshake fails with
 * the alert no_application_protocol.
 * @param out receives the new session; set to NULL on failure.
 * @return SCHAN_OK, SCHAN_E_INVALID_ARGUMENT (also when the config contains
 *         no certificate) or SCHAN_E_OUT_OF_MEMORY.
 */
SCHAN_API schan_status schan_server_new(const schan_config *config, schan_session **out);

/** Frees a session and everything it owns. NULL is ignored. */
SCHAN_API void schan_session_free(schan_session *session);

/**
 * Copies bytes received from the peer into the session's input queue.
 * The queue takes at most two maximum-size TLS records (36874 bytes) of
 * unprocessed input, so *consumed may be less than length. Process the input
 * with schan_step() or schan_decrypt(), then feed the rest.
 * @param data may be NULL when length is 0.
 * @param consumed receives how many bytes were taken (may be 0).
 * @return SCHAN_OK; SCHAN_E_INVALID_STATE after schan_feed_eof(); the
 *         failure's status on a failed session.
 */
SCHAN_API schan_status schan_feed(schan_session *session, const uint8_t *data, size_t length,
                                  size_t *consumed);

/**
 * Tells the session that the transport reached end of stream. Queued input
 * is still processed. If no close_notify arrives before the input runs out,
 * schan_decrypt() returns SCHAN_E_TRUNCATED and schan_step() returns
 * SCHAN_E_HANDSHAKE_FAILED.
 */
SCHAN_API schan_status schan_feed_eof(schan_session *session);

/**
 * Drives the handshake as far as the queued input allows.
 * @return SCHAN_OK once the handshake is complete (also on later calls),
 *         SCHAN_HAVE_OUTPUT when bytes must be sent first,
 *         SCHAN_NEED_INPUT when the peer's next bytes are needed,
 *         or an error; the session is then in SCHAN_STATE_FAILED.
 */
SCHAN_API schan_status schan_step(schan_session *session);

/** Returns how many bytes are queued for the peer (0 for NULL). */
SCHAN_API size_t schan_output_size(const schan_session *session);

/**
 * Moves up to capacity queued bytes into buffer. Bytes are removed from the
 * queue as they are copied, so each byte is returned exactly once. buffer
 * may be NULL when capacity is 0.
 * @param written receives the number of bytes copied.
 * @return SCHAN_HAVE_OUTPUT if bytes remain queued, otherwise SCHAN_OK.
 */
SCHAN_API schan_status schan_take_output(schan_session *session, uint8_t *buffer,
                                         size_t capacity, size_t *written);

/**
 * Encrypts plaintext into TLS records and queues them as output. Records are
 * split at the provider's maximum plaintext size. The output queue is bounded:
 * encryption stops once it contains 64 KiB, so schan_encrypt() leaves at most
 * 64 KiB plus one record (83973 bytes) queued, and *consumed may be less
 * than length.
 * Drain the output and call again with the rest.
 * @return SCHAN_HAVE_OUTPUT when records were queued, SCHAN_OK for length 0,
 *         SCHAN_E_INVALID_STATE before the handshake or after schan_shutdown().
 */
SCHAN_API schan_status schan_encrypt(schan_session *session, const uint8_t *plaintext,
                                     size_t length, size_t *consumed);

/**
 * Decrypts queued input and copies up to capacity plaintext bytes into buffer.
 * Plaintext that does not fit stays in the session for the next call: at
 * most the plaintext of the records in the input queue (36874 bytes).
 * A capacity of 0 gives SCHAN_E_INVALID_ARGUMENT.
 *
 * Post-handshake messages are handled here, by this policy:
 * - TLS 1.3 NewSessionTicket and KeyUpdate are processed as they arrive. A
 *   KeyUpdate that requests an update queues the response as output.
 * - A TLS 1.2 renegotiation requested by the server runs to completion inside
 *   schan_decrypt() calls (state SCHAN_STATE_RENEGOTIATING; schan_encrypt()
 *   takes nothing and returns SCHAN_NEED_INPUT until it is done). Application
 *   data that arrives around it is delivered in order. A provider that cannot
 *   renegotiate (Wine 8's SChannel) fails the session with an error status.
 * - With SChannel on Windows, tickets and KeyUpdate also pass through
 *   SCHAN_STATE_RENEGOTIATING, because SSPI reports them as SEC_I_RENEGOTIATE.
 * No post-handshake message is dropped silently or makes a call wait forever.
 *
 * @param written receives the number of plaintext bytes copied.
 * @return SCHAN_OK when *written > 0;
 *         SCHAN_NEED_INPUT when no complete record is queued;
 *         SCHAN_HAVE_OUTPUT when a post-handshake message produced bytes to
 *           send and no plaintext is available yet;
 *         SCHAN_CLOSED after the peer's close_notify once all plaintext was read;
 *         SCHAN_E_TRUNCATED when the transport ended without close_notify;
 *         or another error, which fails the session.
 */
SCHAN_API schan_status schan_decrypt(schan_session *session, uint8_t *buffer, size_t capacity,
                                     size_t *written);

/**
 * Queues close_notify. Later schan_encrypt() calls fail with
 * SCHAN_E_INVALID_STATE; schan_decrypt() still returns data until the peer's
 * close_notify. Calling it again queues nothing more: it returns
 * SCHAN_HAVE_OUTPUT while output is still queued, then SCHAN_OK.
 * @return SCHAN_HAVE_OUTPUT (send the alert), SCHAN_E_INVALID_STATE before
 *         the handshake completed, or the failure's status.
 */
SCHAN_API schan_status schan_shutdown(schan_session *session);

/** Returns the session state; SCHAN_STATE_FAILED for NULL. */
SCHAN_API schan_state schan_get_state(const schan_session *session);

/* Queries. They fail with SCHAN_E_INVALID_STATE before the handshake completed. */

/** Stores the negotiated protocol version (SCHAN_TLS_1_2 or SCHAN_TLS_1_3). */
SCHAN_API schan_status schan_get_protocol(const schan_session *session, schan_tls_version *version);

/**
 * Stores the negotiated cipher suite's IANA name, for example
 * "TLS_AES_128_GCM_SHA256" or "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384".
 */
SCHAN_API schan_status schan_get_cipher(const schan_session *session, const char **name);

/** Stores the negotiated ALPN protocol, or "" when none was negotiated. */
SCHAN_API schan_status schan_get_alpn(const schan_session *session, const char **protocol);

/**
 * Stores how many certificates the peer's chain has (0 when the peer sent
 * none). Index 0 is the peer's own certificate; the rest follow toward the root.
 */
SCHAN_API schan_status schan_get_peer_cert_count(const schan_session *session, size_t *count);

/** Stores a pointer to certificate index of the peer's chain in DER form. */
SCHAN_API schan_status schan_get_peer_cert(const schan_session *session, size_t index,
                                           const uint8_t **der, size_t *length);

/**
 * Stores 1 when the handshake resumed an earlier session, else 0. With
 * SChannel it stores 0 when the provider does not report
 * SECPKG_ATTR_SESSION_INFO (Wine 8 does not).
 */
SCHAN_API schan_status schan_session_resumed(const schan_session *session, int *resumed);

/**
 * Returns a message for the session's last error, or "" if none. It names the
 * failing step, the provider's symbolic status (for example
 * SEC_E_ILLEGAL_MESSAGE), the system's text and any TLS alert. Never NULL.
 */
SCHAN_API const char *schan_last_error(const schan_session *session);

/** Returns the status of the session's last error, or SCHAN_OK if none. */
SCHAN_API schan_status schan_last_status(const schan_session *session);

/**
 * Returns the provider's raw code for the last error: a SECURITY_STATUS or
 * certificate error (HRESULT) with SChannel, an ERR_get_error() code or X509
 * verification result with OpenSSL; 0 if none. For logs only.
 */
SCHAN_API uint64_t schan_last_backend_error(const schan_session *session);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SCHAN_SCHAN_H */
