#include "backend/openssl/context.h"

#include <mutex>
#include <utility>

#include <gsl/gsl>

#include "backend/openssl/openssl_error.h"
#include "core/error.h"

namespace schan::openssl {

SslContextPtr make_context(const SSL_METHOD* method, const Config& config)
{
    SslContextPtr context(SSL_CTX_new(method));
    if (!context)
        fail_with_queue(SCHAN_E_OUT_OF_MEMORY, "creating the TLS context (SSL_CTX_new)");

    if (SSL_CTX_set_min_proto_version(context.get(), config.min_version) != 1 ||
        SSL_CTX_set_max_proto_version(context.get(), config.max_version) != 1)
        fail_with_queue(SCHAN_E_INVALID_ARGUMENT, "setting the protocol range " + hex(config.min_version, 4) +
                                                      " to " + hex(config.max_version, 4));

    // Idle connections free OpenSSL's record buffers, which OpenSSL
    // reallocates for the next record. The core's queues keep their storage.
    SSL_CTX_set_mode(context.get(), SSL_MODE_RELEASE_BUFFERS);
    return context;
}

std::string alpn_wire_format(const std::vector<std::string>& protocols)
{
    std::string wire;
    for (const auto& protocol : protocols) {
        Expects(!protocol.empty() && protocol.size() <= 255);
        wire += static_cast<char>(protocol.size());
        wire += protocol;
    }
    return wire;
}

namespace {

class SharedSslContext final : public BackendContext {
public:
    explicit SharedSslContext(SslContextPtr made) : context(std::move(made)) {}
    SslContextPtr context;
};

} // namespace

SSL_CTX* shared_context(const Config& config, bool server, const std::function<SslContextPtr()>& make)
{
    BackendContextSlot& slot = *config.backend_contexts;
    const std::lock_guard lock(slot.mutex);
    auto& cached = server ? slot.server : slot.client;
    if (!cached)
        cached = std::make_shared<SharedSslContext>(make());
    return static_cast<const SharedSslContext&>(*cached).context.get();
}

} // namespace schan::openssl
