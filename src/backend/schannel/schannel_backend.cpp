// Placeholder: the schannel backend is being written.
#include "core/backend.h"
#include "core/error.h"

namespace schan {

std::unique_ptr<Backend> make_client_backend(const Config&, const std::string&)
{
    fail(SCHAN_E_UNSUPPORTED, "the schannel backend is not implemented yet");
}

const char* backend_name() noexcept
{
    return "schannel";
}

} // namespace schan
