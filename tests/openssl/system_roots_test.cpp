// SCHAN_VERIFY_SYSTEM with OpenSSL's default certificate file pointed at the
// test root through SSL_CERT_FILE. A separate executable, because the
// backend loads the default file once per process, at the first session
// that needs it.
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "memory_link.h"
#include "schan/schan.h"
#include "support/peers.h"

namespace schan::test {
namespace {

class SystemRoots : public ::testing::Test {
protected:
    static void SetUpTestSuite() { setenv("SSL_CERT_FILE", Pki::path("root.pem").c_str(), 1); }
};

void expect_handshake(schan_verify_mode mode, std::uint32_t seed)
{
    ConfigHandle client_config;
    ConfigHandle server_config;
    configure_test_server(server_config.get());
    ASSERT_EQ(schan_config_set_verify_mode(client_config.get(), mode), SCHAN_OK);

    schan_session* client = nullptr;
    schan_session* server = nullptr;
    ASSERT_EQ(schan_client_new(client_config.get(), "localhost", &client), SCHAN_OK);
    ASSERT_EQ(schan_server_new(server_config.get(), &server), SCHAN_OK);
    MemoryLink link(client, server, seed);
    EXPECT_TRUE(link.handshake()) << schan_last_error(link.client());
}

TEST_F(SystemRoots, DefaultFileTrusted)
{
    // Several sessions share the store that the first one loaded.
    for (std::uint32_t seed = 1; seed <= 3; ++seed)
        expect_handshake(SCHAN_VERIFY_SYSTEM, seed);
}

TEST_F(SystemRoots, CopiedIntoCustomAndSystem)
{
    expect_handshake(SCHAN_VERIFY_CUSTOM_AND_SYSTEM, 4);
}

} // namespace
} // namespace schan::test
