// Stand-in for the server role until the SChannel backend implements it, so
// the Windows build links.
#include "core/backend.h"
#include "core/error.h"

namespace schan {

// TODO: a server backend over AcceptSecurityContext. Wine 8 returns
// SEC_E_UNSUPPORTED_FUNCTION from AcceptSecurityContext, so it can only be
// tested by replaying token sequences captured on Windows through the SSPI
// table hook. The "Server role" section of docs/windows-notes.md lists what
// it must handle.
std::unique_ptr<Backend> make_server_backend(const Config&)
{
    fail(SCHAN_E_UNSUPPORTED, "the server role is not implemented in the schannel backend yet");
}

} // namespace schan
