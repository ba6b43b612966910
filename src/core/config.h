// Settings shared by the sessions created from one schan_config.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "schan/schan.h"

namespace schan {

using Der = std::vector<std::byte>;

class Credentials;  // core/credentials.h
class SessionCache; // core/session_cache.h

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
