// The Windows certificate store exists only for the SChannel backend.
#include "core/credentials.h"
#include "core/error.h"

namespace schan {

CredentialsPtr load_store_credentials(std::string_view)
{
    fail(SCHAN_E_UNSUPPORTED, "the Windows certificate store is available only with the schannel backend");
}

} // namespace schan
