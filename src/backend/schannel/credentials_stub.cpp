// Stand-ins for the server role and certificate loading until the SChannel
// backend implements them, so the Windows build links.
#include "core/backend.h"
#include "core/credentials.h"
#include "core/error.h"

namespace schan {

// TODO: load PEM and PKCS#12 credentials into a CERT_CONTEXT with its key
// (PFXImportCertStore, CryptStringToBinary and NCrypt key import).
CredentialsPtr load_pem_credentials(std::string_view, std::string_view, const char*)
{
    fail(SCHAN_E_UNSUPPORTED, "loading PEM certificates is not implemented in the schannel backend yet");
}

CredentialsPtr load_pkcs12_credentials(gsl::span<const std::byte>, const char*)
{
    fail(SCHAN_E_UNSUPPORTED, "loading PKCS#12 files is not implemented in the schannel backend yet");
}

// TODO: a server backend over AcceptSecurityContext.
std::unique_ptr<Backend> make_server_backend(const Config&)
{
    fail(SCHAN_E_UNSUPPORTED, "the server role is not implemented in the schannel backend yet");
}

} // namespace schan
