// A server session fed arbitrary bytes as the client's side of the
// connection. The first input byte selects the server's versions: an even
// byte allows TLS 1.2 and 1.3, an odd one TLS 1.2 only. The server's random stream restarts for every input, so a
// recorded client transcript (the seed corpus) completes the handshake,
// client certificate included, and mutations of it reach every later state.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz_support.h"

namespace {

schan_config* server_config = nullptr;
schan_config* tls12_server_config = nullptr;

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    schan::fuzz::install_deterministic_random();
    server_config = schan::fuzz::make_server_config();
    tls12_server_config = schan::fuzz::make_server_config();
    if (schan_config_set_versions(tls12_server_config, SCHAN_TLS_1_2, SCHAN_TLS_1_2) != SCHAN_OK)
        std::abort();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    schan::fuzz::reset_random();
    schan::fuzz::use_random_stream(schan::fuzz::RandomStream::server);

    schan_session* session = nullptr;
    const schan_config* config = data[0] % 2 == 0 ? server_config : tls12_server_config;
    if (schan_server_new(config, &session) != SCHAN_OK)
        std::abort();
    schan::fuzz::drive_session(session, std::string(reinterpret_cast<const char*>(data + 1), size - 1));
    schan_session_free(session);
    return 0;
}
