// The extern "C" functions of schan.h. Each one validates its arguments,
// forwards to the core and turns every exception into a status.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>

#include "capi_handles.h"
#include "core/backend.h"
#include "core/config.h"
#include "core/credentials.h"
#include "core/error.h"
#include "core/pem.h"
#include "core/secure_memory.h"
#include "core/session.h"
#include "core/session_cache.h"
#include "schan/schan.h"

namespace {

// Runs a config call, storing the message of any failure in the config.
template <typename Body>
schan_status config_call(schan_config* config, const char* operation, Body&& body) noexcept
{
    if (config == nullptr)
        return SCHAN_E_INVALID_ARGUMENT;
    try {
        config->last_error.clear();
        // Sessions created later must see the new settings, so the contexts
        // prepared from the old ones are dropped (sessions using them keep theirs).
        config->settings.backend_contexts = std::make_shared<schan::BackendContextSlot>();
        return body();
    } catch (const schan::Error& error) {
        try {
            config->last_error = std::string(operation) + ": " + error.what();
        } catch (...) {
        }
        return error.status();
    } catch (const std::bad_alloc&) {
        return SCHAN_E_OUT_OF_MEMORY;
    } catch (...) {
        return SCHAN_E_INTERNAL;
    }
}

// Runs a session call. The core catches errors itself; this catches what
// escapes it (allocation failures while recording an error).
template <typename Body>
schan_status session_call(Body&& body) noexcept
{
    try {
        return body();
    } catch (const std::bad_alloc&) {
        return SCHAN_E_OUT_OF_MEMORY;
    } catch (...) {
        return SCHAN_E_INTERNAL;
    }
}

// Returns an enum argument's value as the int the caller passed. An FFI
// caller may pass any int, and reading a value outside the enumerators'
// range through the enum type is undefined (UBSan reports it), so the
// bytes are copied instead.
template <typename Enum>
int raw_value(const Enum& value)
{
    static_assert(sizeof(Enum) == sizeof(int));
    int raw = 0;
    std::memcpy(&raw, &value, sizeof raw);
    return raw;
}

bool is_known_version(int version)
{
    return version == SCHAN_TLS_DEFAULT || version == SCHAN_TLS_1_2 || version == SCHAN_TLS_1_3;
}

// No object is larger than PTRDIFF_MAX bytes, so a longer length is a
// caller's bug (often -1 converted to size_t). Rejecting it keeps it away
// from gsl::span, which terminates the process for a length of SIZE_MAX.
bool is_valid_length(size_t length)
{
    return length <= static_cast<size_t>(PTRDIFF_MAX);
}

gsl::span<const std::byte> as_input(const uint8_t* data, size_t length)
{
    return gsl::span<const std::byte>(reinterpret_cast<const std::byte*>(data), length);
}

gsl::span<std::byte> as_output(uint8_t* data, size_t length)
{
    return gsl::span<std::byte>(reinterpret_cast<std::byte*>(data), length);
}

// Rethrows a loader's error with `origin` (the file names) in front of the
// message. File errors already name their path and pass unchanged.
template <typename Load>
schan::CredentialsPtr load_with_origin(const std::string& origin, Load&& load)
{
    try {
        return load();
    } catch (const schan::Error& error) {
        if (error.status() == SCHAN_E_FILE_NOT_FOUND)
            throw;
        schan::fail(error.status(), origin + ": " + error.what(), error.backend_code());
    }
}

gsl::span<const std::byte> as_bytes(std::string_view text)
{
    return gsl::span<const std::byte>(reinterpret_cast<const std::byte*>(text.data()), text.size());
}

std::string_view as_text(const schan::SecretBytes& bytes)
{
    return std::string_view(bytes.data(), bytes.size());
}

template <typename Make>
schan_status new_session(schan::Role role, const schan_config* config, schan_session** out, Make&& make_backend)
{
    if (out == nullptr)
        return SCHAN_E_INVALID_ARGUMENT;
    *out = nullptr;
    if (config == nullptr)
        return SCHAN_E_INVALID_ARGUMENT;
    try {
        auto backend = make_backend();
        if (!backend)
            return SCHAN_E_INVALID_ARGUMENT;
        *out = new schan_session(role, std::move(backend), config->settings.min_version);
        return SCHAN_OK;
    } catch (const schan::Error& error) {
        return error.status();
    } catch (const std::bad_alloc&) {
        return SCHAN_E_OUT_OF_MEMORY;
    } catch (...) {
        return SCHAN_E_INTERNAL;
    }
}

const schan::ConnectionInfo* info_or_null(const schan_session* session)
{
    return session == nullptr ? nullptr : session->core.connection_info();
}

} // namespace

extern "C" {

uint32_t schan_abi_version(void)
{
    return SCHAN_ABI_VERSION;
}

const char* schan_version(void)
{
    return SCHAN_VERSION_STRING;
}

#define SCHAN_TO_STRING_(value) #value
#define SCHAN_TO_STRING(value) SCHAN_TO_STRING_(value)

const char* schan_version_string_full(void)
{
    return SCHAN_VERSION_STRING " (ABI " SCHAN_TO_STRING(SCHAN_ABI_VERSION) ")";
}

const char* schan_backend_name(void)
{
    return schan::backend_name();
}

const char* schan_status_name(schan_status status)
{
    return schan::status_name(status);
}

schan_status schan_config_new(schan_config** out)
{
    if (out == nullptr)
        return SCHAN_E_INVALID_ARGUMENT;
    *out = new (std::nothrow) schan_config();
    return *out == nullptr ? SCHAN_E_OUT_OF_MEMORY : SCHAN_OK;
}

void schan_config_free(schan_config* config)
{
    delete config;
}

schan_status schan_config_set_versions(schan_config* config, schan_tls_version min_version,
                                       schan_tls_version max_version)
{
    return config_call(config, "set_versions", [&] {
        if (!is_known_version(raw_value(min_version)) || !is_known_version(raw_value(max_version)))
            schan::fail(SCHAN_E_INVALID_ARGUMENT, "unknown protocol version; use SCHAN_TLS_1_2 or SCHAN_TLS_1_3");
        const std::uint16_t min = min_version == SCHAN_TLS_DEFAULT ? SCHAN_TLS_1_2 : min_version;
        if (max_version != SCHAN_TLS_DEFAULT && min > max_version)
            schan::fail(SCHAN_E_INVALID_ARGUMENT, "the minimum version is above the maximum version");
        config->settings.min_version = min;
        config->settings.max_version = static_cast<std::uint16_t>(max_version);
        return SCHAN_OK;
    });
}

schan_status schan_config_add_alpn(schan_config* config, const char* protocol)
{
    return config_call(config, "add_alpn", [&] {
        if (protocol == nullptr)
            schan::fail(SCHAN_E_INVALID_ARGUMENT, "the ALPN protocol name is NULL");
        const std::size_t length = std::strlen(protocol);
        if (length == 0 || length > 255)
            schan::fail(SCHAN_E_INVALID_ARGUMENT, "an ALPN protocol name must be 1 to 255 bytes long");
        config->settings.alpn.emplace_back(protocol, length);
        return SCHAN_OK;
    });
}

schan_status schan_config_clear_alpn(schan_config* config)
{
    return config_call(config, "clear_alpn", [&] {
        config->settings.alpn.clear();
        return SCHAN_OK;
    });
}

schan_status schan_config_set_verify_mode(schan_config* config, schan_verify_mode mode)
{
    return config_call(config, "set_verify_mode", [&] {
        if (raw_value(mode) < SCHAN_VERIFY_SYSTEM || raw_value(mode) > SCHAN_VERIFY_NONE)
            schan::fail(SCHAN_E_INVALID_ARGUMENT, "unknown verification mode");
        config->settings.verify_mode = mode;
        return SCHAN_OK;
    });
}

schan_status schan_config_set_revocation_mode(schan_config* config, schan_revocation_mode mode)
{
    return config_call(config, "set_revocation_mode", [&] {
        if (raw_value(mode) < SCHAN_REVOCATION_BEST_EFFORT || raw_value(mode) > SCHAN_REVOCATION_OFF)
            schan::fail(SCHAN_E_INVALID_ARGUMENT, "unknown revocation mode");
        config->settings.revocation_mode = mode;
        return SCHAN_OK;
    });
}

schan_status schan_config_load_ca_file(schan_config* config, const char* path)
{
    return config_call(config, "load_ca_file", [&] {
        if (path == nullptr)
            schan::fail(SCHAN_E_INVALID_ARGUMENT, "the CA file path is NULL");
        try {
            auto certificates = schan::parse_pem_certificates(schan::read_file(path));
            for (auto& certificate : certificates)
                config->settings.ca_certificates.push_back(std::move(certificate));
        } catch (const schan::Error& error) {
            // Name the file in the message; read_file already does.
            if (error.status() == SCHAN_E_BAD_FORMAT)
                schan::fail(error.status(), std::string("'") + path + "': " + error.what());
            throw;
        }
        return SCHAN_OK;
    });
}

schan_status schan_config_load_ca_pem(schan_config* config, const char* pem, size_t length)
{
    return config_call(config, "load_ca_pem", [&] {
        if (pem == nullptr)
            schan::fail(SCHAN_E_INVALID_ARGUMENT, "the PEM buffer is NULL");
        if (!is_valid_length(length))
            schan::fail(SCHAN_E_INVALID_ARGUMENT, "the PEM buffer's length is above PTRDIFF_MAX");
        auto certificates = schan::parse_pem_certificates(std::string_view(pem, length));
        for (auto& certificate : certificates)
            config->settings.ca_certificates.push_back(std::move(certificate));
        return SCHAN_OK;
    });
}

schan_status schan_config_load_cert_chain_file(schan_config* config, const char* cert_pem_path,
                                               const char* key_pem_path, const char* password)
{
    return config_call(config, "load_cert_chain_file", [&] {
        if (cert_pem_path == nullptr)
            schan::fail(SCHAN_E_INVALID_ARGUMENT, "the certificate file path is NULL");
        const schan::SecretBytes certificates = schan::read_secret_file(cert_pem_path);
        const schan::SecretBytes key = key_pem_path == nullptr ? certificates : schan::read_secret_file(key_pem_path);
        std::string origin = std::string("'") + cert_pem_path + "'";
        if (key_pem_path != nullptr)
            origin += std::string(" with key '") + key_pem_path + "'";

        config->settings.credentials = load_with_origin(
            origin, [&] { return schan::load_pem_credentials(as_text(certificates), as_text(key), password); });
        return SCHAN_OK;
    });
}

schan_status schan_config_load_cert_chain_pem(schan_config* config, const char* cert_pem, size_t cert_length,
                                              const char* key_pem, size_t key_length, const char* password)
{
    return config_call(config, "load_cert_chain_pem", [&] {
        if (cert_pem == nullptr)
            schan::fail(SCHAN_E_INVALID_ARGUMENT, "the certificate PEM buffer is NULL");
        if (key_pem == nullptr && key_length > 0)
            schan::fail(SCHAN_E_INVALID_ARGUMENT, "the key PEM buffer is NULL but its length is not 0");
        if (!is_valid_length(cert_length) || !is_valid_length(key_length))
            schan::fail(SCHAN_E_INVALID_ARGUMENT, "a PEM buffer's length is above PTRDIFF_MAX");
        const std::string_view certificates(cert_pem, cert_length);
        const std::string_view key = key_pem == nullptr ? certificates : std::string_view(key_pem, key_length);

        config->settings.credentials = schan::load_pem_credentials(certificates, key, password);
        return SCHAN_OK;
    });
}

schan_status schan_config_load_pkcs12_file(schan_config* config, const char* path, const char* password)
{
    return config_call(config, "load_pkcs12_file", [&] {
        if (path == nullptr)
            schan::fail(SCHAN_E_INVALID_ARGUMENT, "the PKCS#12 file path is NULL");
        const schan::SecretBytes data = schan::read_secret_file(path);

        config->settings.credentials = load_with_origin(std::string("'") + path + "'", [&] {
            return schan::load_pkcs12_credentials(as_bytes(as_text(data)), password);
        });
        return SCHAN_OK;
    });
}

schan_status schan_config_load_pkcs12(schan_config* config, const uint8_t* data, size_t length,
                                      const char* password)
{
    return config_call(config, "load_pkcs12", [&] {
        if (data == nullptr)
            schan::fail(SCHAN_E_INVALID_ARGUMENT, "the PKCS#12 buffer is NULL");
        if (!is_valid_length(length))
            schan::fail(SCHAN_E_INVALID_ARGUMENT, "the PKCS#12 buffer's length is above PTRDIFF_MAX");

        config->settings.credentials = schan::load_pkcs12_credentials(as_input(data, length), password);
        return SCHAN_OK;
    });
}

schan_status schan_config_load_cert_store(schan_config* config, const char* path)
{
    return config_call(config, "load_cert_store", [&] {
        if (path == nullptr)
            schan::fail(SCHAN_E_INVALID_ARGUMENT, "the certificate store path is NULL");

        config->settings.credentials = schan::load_store_credentials(path);
        return SCHAN_OK;
    });
}

schan_status schan_config_set_client_auth(schan_config* config, schan_client_auth mode)
{
    return config_call(config, "set_client_auth", [&] {
        if (raw_value(mode) < SCHAN_CLIENT_AUTH_NONE || raw_value(mode) > SCHAN_CLIENT_AUTH_REQUIRED)
            schan::fail(SCHAN_E_INVALID_ARGUMENT, "unknown client authentication mode");
        config->settings.client_auth = mode;
        return SCHAN_OK;
    });
}

schan_status schan_config_enable_resumption(schan_config* config, int enabled)
{
    return config_call(config, "enable_resumption", [&] {
        if (enabled == 0)
            config->settings.session_cache.reset();
        else if (!config->settings.session_cache)
            config->settings.session_cache = std::make_shared<schan::SessionCache>();
        return SCHAN_OK;
    });
}

const char* schan_config_last_error(const schan_config* config)
{
    return config == nullptr ? "" : config->last_error.c_str();
}

schan_status schan_client_new(const schan_config* config, const char* server_name, schan_session** out)
{
    return new_session(schan::Role::client, config, out, [&]() -> std::unique_ptr<schan::Backend> {
        const std::string name = server_name == nullptr ? std::string() : std::string(server_name);
        if (server_name != nullptr && name.empty())
            return nullptr;
        return schan::make_client_backend(config->settings, name);
    });
}

schan_status schan_server_new(const schan_config* config, schan_session** out)
{
    return new_session(schan::Role::server, config, out, [&]() -> std::unique_ptr<schan::Backend> {
        if (!config->settings.credentials)
            return nullptr;
        return schan::make_server_backend(config->settings);
    });
}

void schan_session_free(schan_session* session)
{
    delete session;
}

schan_status schan_feed(schan_session* session, const uint8_t* data, size_t length, size_t* consumed)
{
    if (session == nullptr)
        return SCHAN_E_INVALID_ARGUMENT;
    if (consumed == nullptr)
        return session_call([&] { return session->core.reject(SCHAN_E_INVALID_ARGUMENT, "feed: consumed is NULL"); });
    *consumed = 0;
    if (data == nullptr && length > 0)
        return session_call([&] { return session->core.reject(SCHAN_E_INVALID_ARGUMENT, "feed: data is NULL"); });
    if (!is_valid_length(length))
        return session_call([&] { return session->core.reject(SCHAN_E_INVALID_ARGUMENT, "feed: length is above PTRDIFF_MAX"); });
    return session_call([&] { return session->core.feed(as_input(data, length), *consumed); });
}

schan_status schan_feed_eof(schan_session* session)
{
    if (session == nullptr)
        return SCHAN_E_INVALID_ARGUMENT;
    return session_call([&] { return session->core.feed_eof(); });
}

schan_status schan_step(schan_session* session)
{
    if (session == nullptr)
        return SCHAN_E_INVALID_ARGUMENT;
    return session_call([&] { return session->core.step(); });
}

size_t schan_output_size(const schan_session* session)
{
    return session == nullptr ? 0 : session->core.output_size();
}

schan_status schan_take_output(schan_session* session, uint8_t* buffer, size_t capacity, size_t* written)
{
    if (session == nullptr)
        return SCHAN_E_INVALID_ARGUMENT;
    if (written == nullptr)
        return session_call([&] { return session->core.reject(SCHAN_E_INVALID_ARGUMENT, "take_output: written is NULL"); });
    *written = 0;
    if (buffer == nullptr && capacity > 0)
        return session_call([&] { return session->core.reject(SCHAN_E_INVALID_ARGUMENT, "take_output: buffer is NULL"); });
    if (!is_valid_length(capacity))
        return session_call([&] { return session->core.reject(SCHAN_E_INVALID_ARGUMENT, "take_output: capacity is above PTRDIFF_MAX"); });
    return session_call([&] { return session->core.take_output(as_output(buffer, capacity), *written); });
}

schan_status schan_encrypt(schan_session* session, const uint8_t* plaintext, size_t length, size_t* consumed)
{
    if (session == nullptr)
        return SCHAN_E_INVALID_ARGUMENT;
    if (consumed == nullptr)
        return session_call([&] { return session->core.reject(SCHAN_E_INVALID_ARGUMENT, "encrypt: consumed is NULL"); });
    *consumed = 0;
    if (plaintext == nullptr && length > 0)
        return session_call([&] { return session->core.reject(SCHAN_E_INVALID_ARGUMENT, "encrypt: plaintext is NULL"); });
    if (!is_valid_length(length))
        return session_call([&] { return session->core.reject(SCHAN_E_INVALID_ARGUMENT, "encrypt: length is above PTRDIFF_MAX"); });
    return session_call([&] { return session->core.encrypt(as_input(plaintext, length), *consumed); });
}

schan_status schan_decrypt(schan_session* session, uint8_t* buffer, size_t capacity, size_t* written)
{
    if (session == nullptr)
        return SCHAN_E_INVALID_ARGUMENT;
    if (written == nullptr)
        return session_call([&] { return session->core.reject(SCHAN_E_INVALID_ARGUMENT, "decrypt: written is NULL"); });
    *written = 0;
    if (buffer == nullptr || capacity == 0)
        return session_call([&] { return session->core.reject(SCHAN_E_INVALID_ARGUMENT, "decrypt: buffer is NULL or its capacity is 0"); });
    if (!is_valid_length(capacity))
        return session_call([&] { return session->core.reject(SCHAN_E_INVALID_ARGUMENT, "decrypt: capacity is above PTRDIFF_MAX"); });
    return session_call([&] { return session->core.decrypt(as_output(buffer, capacity), *written); });
}

schan_status schan_shutdown(schan_session* session)
{
    if (session == nullptr)
        return SCHAN_E_INVALID_ARGUMENT;
    return session_call([&] { return session->core.shutdown(); });
}

schan_state schan_get_state(const schan_session* session)
{
    return session == nullptr ? SCHAN_STATE_FAILED : session->core.state();
}

schan_status schan_get_protocol(const schan_session* session, schan_tls_version* version)
{
    if (version == nullptr)
        return SCHAN_E_INVALID_ARGUMENT;
    const auto* info = info_or_null(session);
    if (info == nullptr)
        return session == nullptr ? SCHAN_E_INVALID_ARGUMENT : SCHAN_E_INVALID_STATE;
    *version = static_cast<schan_tls_version>(info->protocol);
    return SCHAN_OK;
}

schan_status schan_get_cipher(const schan_session* session, const char** name)
{
    if (name == nullptr)
        return SCHAN_E_INVALID_ARGUMENT;
    const auto* info = info_or_null(session);
    if (info == nullptr)
        return session == nullptr ? SCHAN_E_INVALID_ARGUMENT : SCHAN_E_INVALID_STATE;
    *name = info->cipher.c_str();
    return SCHAN_OK;
}

schan_status schan_get_alpn(const schan_session* session, const char** protocol)
{
    if (protocol == nullptr)
        return SCHAN_E_INVALID_ARGUMENT;
    const auto* info = info_or_null(session);
    if (info == nullptr)
        return session == nullptr ? SCHAN_E_INVALID_ARGUMENT : SCHAN_E_INVALID_STATE;
    *protocol = info->alpn.c_str();
    return SCHAN_OK;
}

schan_status schan_get_peer_cert_count(const schan_session* session, size_t* count)
{
    if (count == nullptr)
        return SCHAN_E_INVALID_ARGUMENT;
    const auto* info = info_or_null(session);
    if (info == nullptr)
        return session == nullptr ? SCHAN_E_INVALID_ARGUMENT : SCHAN_E_INVALID_STATE;
    *count = info->peer_chain.size();
    return SCHAN_OK;
}

schan_status schan_get_peer_cert(const schan_session* session, size_t index, const uint8_t** der, size_t* length)
{
    if (der == nullptr || length == nullptr)
        return SCHAN_E_INVALID_ARGUMENT;
    const auto* info = info_or_null(session);
    if (info == nullptr)
        return session == nullptr ? SCHAN_E_INVALID_ARGUMENT : SCHAN_E_INVALID_STATE;
    if (index >= info->peer_chain.size())
        return SCHAN_E_INVALID_ARGUMENT;
    *der = reinterpret_cast<const uint8_t*>(info->peer_chain[index].data());
    *length = info->peer_chain[index].size();
    return SCHAN_OK;
}

schan_status schan_session_resumed(const schan_session* session, int* resumed)
{
    if (resumed == nullptr)
        return SCHAN_E_INVALID_ARGUMENT;
    const auto* info = info_or_null(session);
    if (info == nullptr)
        return session == nullptr ? SCHAN_E_INVALID_ARGUMENT : SCHAN_E_INVALID_STATE;
    *resumed = info->resumed ? 1 : 0;
    return SCHAN_OK;
}

const char* schan_last_error(const schan_session* session)
{
    return session == nullptr ? "" : session->core.last_error().c_str();
}

schan_status schan_last_status(const schan_session* session)
{
    return session == nullptr ? SCHAN_E_INVALID_ARGUMENT : session->core.last_status();
}

uint64_t schan_last_backend_error(const schan_session* session)
{
    return session == nullptr ? 0 : session->core.last_backend_error();
}

} // extern "C"
