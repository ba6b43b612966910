// Settings shared by the sessions created from one schan_config.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "schan/schan.h"

namespace schan {

using Der = std::vector<std::byte>;

class Credentials;  // core/credentials.h
class SessionCache; // core/session_cache.h

// A backend's provider objects prepared from one config's settings (an
// SSL_CTX with OpenSSL), which every session created from the config shares.
class BackendContext {
public:
    virtual ~BackendContext() = default;
};

// The prepared contexts of one version of a config's settings. A config call
// replaces the whole slot, so a context never outlives the settings it was
// built from. The mutex guards the members, because sessions may be created
// from one config in several threads at once.
struct BackendContextSlot {
    std::mutex mutex;
    std::shared_ptr<const BackendContext> client;
    std::shared_ptr<const BackendContext> server;
};

struct Config {
    std::uint16_t min_version = SCHAN_TLS_1_2;
    std::uint16_t max_version = SCHAN_TLS_DEFAULT;  // the newest the backend supports
    std::vector<std::string> alpn;                  // in order of preference
    schan_verify_mode verify_mode = SCHAN_VERIFY_SYSTEM;
    schan_revocation_mode revocation_mode = SCHAN_REVOCATION_BEST_EFFORT;
    std::vector<Der> ca_certificates;               // the custom CA bundle
    std::shared_ptr<const Credentials> credentials; // own certificate and key, or null
    schan_client_auth client_auth = SCHAN_CLIENT_AUTH_NONE;  // servers only
    std::shared_ptr<SessionCache> session_cache;    // client resumption, or null when disabled
    std::shared_ptr<BackendContextSlot> backend_contexts = std::make_shared<BackendContextSlot>();
};

// What a session reports once the handshake is complete.
struct ConnectionInfo {
    std::uint16_t protocol = 0;  // wire value: 0x0303 is TLS 1.2
    std::string cipher;          // IANA name
    std::string alpn;            // empty when none was negotiated
    std::vector<Der> peer_chain; // leaf first
    bool resumed = false;        // the handshake resumed an earlier session
};

} // namespace schan
