// Client and server credentials for SChannel: which protocol versions a
// connection may use, the own certificate, and how the peer's is checked.
#pragma once

#include <windows.h>

#include <string>

#include "backend/schannel/handles.h"
#include "core/config.h"

namespace schan::schannel {

// Returns the SP_PROT_*_CLIENT bits of the versions in [config.min_version,
// config.max_version]; a max_version of SCHAN_TLS_DEFAULT means TLS 1.3.
DWORD enabled_client_protocols(const Config& config) noexcept;

// Returns "TLS 1.2 to TLS 1.3" or "TLS 1.3 only" for messages.
std::string describe_version_range(const Config& config);

// Acquires outbound credentials that enable only the configured versions,
// with manual certificate validation and the configured client certificate
// as paCred (never a default one).
// Tries SCH_CREDENTIALS first and falls back to SCHANNEL_CRED where the
// provider rejects or ignores it. Throws SCHAN_E_UNSUPPORTED_VERSION when the
// provider cannot serve any version in the range.
CredentialsHandle acquire_client_credentials(const Config& config);

// Acquires inbound credentials with the configured certificate for the
// versions in the configured range, the same way. Throws
// SCHAN_E_INVALID_ARGUMENT when the config has no certificate.
CredentialsHandle acquire_server_credentials(const Config& config);

} // namespace schan::schannel
