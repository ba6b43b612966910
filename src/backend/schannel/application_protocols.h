// The SEC_APPLICATION_PROTOCOLS input buffer that makes SChannel offer ALPN.
#pragma once

#include <string>
#include <vector>

namespace schan::schannel {

// Builds a SEC_APPLICATION_PROTOCOLS structure with one ALPN list in the wire
// format of RFC 7301 (each name prefixed by its one-byte length), for a
// SECBUFFER_APPLICATION_PROTOCOLS buffer. Returns an empty vector for no
// names. Throws SCHAN_E_INVALID_ARGUMENT when the list exceeds 65535 bytes.
std::vector<unsigned char> make_application_protocols(const std::vector<std::string>& protocols);

} // namespace schan::schannel
