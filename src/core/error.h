// The exception that carries a schan_status inside the core and backends.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "schan/schan.h"

namespace schan {

// Thrown by the core and the backends; the C ABI layer turns it into the
// returned status and the session's last error message.
class Error : public std::runtime_error {
public:
    Error(schan_status status, const std::string& message, std::uint64_t backend_code = 0)
        : std::runtime_error(message), status_(status), backend_code_(backend_code)
    {
    }

    [[nodiscard]] schan_status status() const noexcept { return status_; }
    [[nodiscard]] std::uint64_t backend_code() const noexcept { return backend_code_; }

private:
    schan_status status_;
    std::uint64_t backend_code_;
};

[[noreturn]] inline void fail(schan_status status, const std::string& message,
                              std::uint64_t backend_code = 0)
{
    throw Error(status, message, backend_code);
}

// Returns the symbolic name of a status ("SCHAN_E_CERT_EXPIRED").
const char* status_name(schan_status status) noexcept;

// Formats a value as 0x-prefixed hexadecimal with at least `digits` digits.
std::string hex(std::uint64_t value, int digits = 8);

} // namespace schan
