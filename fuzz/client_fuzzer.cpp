// A client session fed arbitrary bytes as the server's side of the
// connection. With the deterministic random streams, the client's
// ClientHello is the same in every run, so a recorded server flight (the
// seed corpus) is valid input and mutations of it reach the states after
// ServerHello, certificate verification and the data phase.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz_support.h"

namespace {

schan_config* client_config = nullptr;

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    schan::fuzz::install_deterministic_random();
    client_config = schan::fuzz::make_client_config();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    schan::fuzz::reset_random();
    schan::fuzz::use_random_stream(schan::fuzz::RandomStream::client);

    schan_session* session = nullptr;
    if (schan_client_new(client_config, "localhost", &session) != SCHAN_OK)
        std::abort();
    schan::fuzz::drive_session(session, std::string(reinterpret_cast<const char*>(data), size));
    schan_session_free(session);
    return 0;
}
