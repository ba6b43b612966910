// The entry points of the SChannel backend that the core calls.
#include <memory>

#include "backend/schannel/client_backend.h"
#include "backend/schannel/server_backend.h"
#include "core/backend.h"

namespace schan {

std::unique_ptr<Backend> make_client_backend(const Config& config, const std::string& server_name)
{
    return std::make_unique<schannel::ClientBackend>(config, server_name);
}

std::unique_ptr<Backend> make_server_backend(const Config& config)
{
    Expects(config.credentials != nullptr);
    return std::make_unique<schannel::ServerBackend>(config);
}

const char* backend_name() noexcept
{
    return "schannel";
}

} // namespace schan
