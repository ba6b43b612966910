// Names and system text for SSPI and certificate status codes, so that every
// message carries the symbolic code and what Windows says about it.
#pragma once

#include <cstdint>
#include <string>

#include "schan/schan.h"

namespace schan::schannel {

// Returns the symbolic name of a SECURITY_STATUS or HRESULT
// ("SEC_E_ILLEGAL_MESSAGE", "CERT_E_EXPIRED"), or nullptr when unknown.
const char* status_symbol(std::int32_t code) noexcept;

// Formats "SEC_E_ILLEGAL_MESSAGE (0x80090326): <system text>" for a code.
std::string describe_status(std::int32_t code);

// Maps an SSPI status returned by the handshake or data functions to the
// schan status that best describes it.
schan_status map_sspi_status(std::int32_t code) noexcept;

// Throws schan::Error with `status`, the message "<step> failed: <describe_status(code)>"
// and the code as the backend code.
[[noreturn]] void fail_sspi(schan_status status, const std::string& step, std::int32_t code);

// The same with the status that map_sspi_status() chooses for `code`.
[[noreturn]] void fail_sspi(const std::string& step, std::int32_t code);

} // namespace schan::schannel
