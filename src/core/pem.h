// PEM certificate parsing (RFC 7468) shared by the backends.
#pragma once

#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/secure_memory.h"

namespace schan {

// Returns the DER bytes of every "CERTIFICATE" block in `pem`, in order.
// Throws SCHAN_E_BAD_FORMAT when there is none, a block is not closed, its
// base64 is invalid or its content is not a DER SEQUENCE.
std::vector<Der> parse_pem_certificates(std::string_view pem);

// Reads a whole file; throws SCHAN_E_FILE_NOT_FOUND naming the path.
std::string read_file(const std::string& path);

// Reads a whole file that may contain a private key into memory that is
// wiped when released; throws like read_file().
SecretBytes read_secret_file(const std::string& path);

} // namespace schan
