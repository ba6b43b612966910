#include "core/error.h"

#include <cstdio>

namespace schan {

const char* status_name(schan_status status) noexcept
{
    switch (status) {
    case SCHAN_OK: return "SCHAN_OK";
    case SCHAN_NEED_INPUT: return "SCHAN_NEED_INPUT";
    case SCHAN_HAVE_OUTPUT: return "SCHAN_HAVE_OUTPUT";
    case SCHAN_CLOSED: return "SCHAN_CLOSED";
    case SCHAN_E_INVALID_ARGUMENT: return "SCHAN_E_INVALID_ARGUMENT";
    case SCHAN_E_INVALID_STATE: return "SCHAN_E_INVALID_STATE";
    case SCHAN_E_OUT_OF_MEMORY: return "SCHAN_E_OUT_OF_MEMORY";
    case SCHAN_E_INTERNAL: return "SCHAN_E_INTERNAL";
    case SCHAN_E_TRUNCATED: return "SCHAN_E_TRUNCATED";
    case SCHAN_E_HANDSHAKE_FAILED: return "SCHAN_E_HANDSHAKE_FAILED";
    case SCHAN_E_ALERT_RECEIVED: return "SCHAN_E_ALERT_RECEIVED";
    case SCHAN_E_UNSUPPORTED_VERSION: return "SCHAN_E_UNSUPPORTED_VERSION";
    case SCHAN_E_CERT_UNTRUSTED: return "SCHAN_E_CERT_UNTRUSTED";
    case SCHAN_E_CERT_EXPIRED: return "SCHAN_E_CERT_EXPIRED";
    case SCHAN_E_CERT_NAME_MISMATCH: return "SCHAN_E_CERT_NAME_MISMATCH";
    case SCHAN_E_CERT_REVOKED: return "SCHAN_E_CERT_REVOKED";
    case SCHAN_E_REVOCATION_UNKNOWN: return "SCHAN_E_REVOCATION_UNKNOWN";
    case SCHAN_E_CERT_INVALID: return "SCHAN_E_CERT_INVALID";
    case SCHAN_E_PROTOCOL: return "SCHAN_E_PROTOCOL";
    case SCHAN_E_FILE_NOT_FOUND: return "SCHAN_E_FILE_NOT_FOUND";
    case SCHAN_E_BAD_FORMAT: return "SCHAN_E_BAD_FORMAT";
    case SCHAN_E_UNSUPPORTED: return "SCHAN_E_UNSUPPORTED";
    case SCHAN_E_BAD_PASSWORD: return "SCHAN_E_BAD_PASSWORD";
    case SCHAN_E_KEY_MISMATCH: return "SCHAN_E_KEY_MISMATCH";
    case SCHAN_E_CERT_REQUIRED: return "SCHAN_E_CERT_REQUIRED";
    case SCHAN_STATUS_FORCE_INT32: break;
    }
    return "SCHAN_E_UNKNOWN_STATUS";
}

std::string hex(std::uint64_t value, int digits)
{
    char text[32];
    std::snprintf(text, sizeof text, "0x%0*llX", digits, static_cast<unsigned long long>(value));
    return text;
}

} // namespace schan
