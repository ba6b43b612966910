// Application data echoed by tests/peers/echo_server.py: record-boundary
// sizes and 1 MiB with a GCM and two CBC suites, and 1 MiB fed in random
// pieces.
#include <gtest/gtest.h>

#include <string>

#include "contract/contract_support.h"

using schan::contract::connect;
using schan::contract::python_server;
using schan::contract::same_bytes;
using schan::contract::test_config;
using schan::contract::test_data;
using schan::test::FeedPlan;
using schan::test::Peer;

namespace {

// Writes `data`, reads the echo, then closes both directions cleanly.
void expect_echo(schan::test::TlsConnection& client, const std::string& data)
{
    ASSERT_EQ(client.write(data), SCHAN_OK) << client.error();
    schan_status status = SCHAN_OK;
    const std::string echoed = client.read(data.size(), status);
    ASSERT_EQ(status, SCHAN_OK) << client.error();
    std::string difference;
    EXPECT_TRUE(same_bytes(echoed, data, difference)) << difference;

    ASSERT_EQ(client.shutdown(), SCHAN_OK) << client.error();
    const std::string rest = client.read_to_end(status);
    EXPECT_EQ(status, SCHAN_CLOSED) << client.error();
    EXPECT_EQ(rest.size(), 0u);
    EXPECT_EQ(schan_get_state(client.session()), SCHAN_STATE_CLOSED);
}

struct EchoCase {
    const char* openssl_cipher;
    const char* iana_cipher;
    std::size_t size;
};

class EchoTls12 : public ::testing::TestWithParam<EchoCase> {};

constexpr const char* kGcm = "ECDHE-RSA-AES128-GCM-SHA256";
constexpr const char* kGcmIana = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
constexpr const char* kCbcSha384 = "ECDHE-RSA-AES256-SHA384";
constexpr const char* kCbcSha384Iana = "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384";
constexpr const char* kCbcSha = "ECDHE-RSA-AES256-SHA";
constexpr const char* kCbcShaIana = "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA";

std::string echo_case_name(const ::testing::TestParamInfo<EchoCase>& case_info)
{
    const std::string suite = case_info.param.openssl_cipher == kGcm          ? "Gcm"
                              : case_info.param.openssl_cipher == kCbcSha384 ? "CbcSha384"
                                                                              : "CbcSha";
    return suite + "_" + std::to_string(case_info.param.size);
}

} // namespace

TEST_P(EchoTls12, ReturnsEveryByte)
{
    const EchoCase& echo = GetParam();
    if (echo.openssl_cipher == kCbcSha384 && schan::contract::is_wine())
        GTEST_SKIP() << "Wine 8's SChannel (GnuTLS) offers CBC suites only with HMAC-SHA1, not "
                     << echo.iana_cipher;
    Peer server = Peer::start(python_server("echo_server.py", "leaf.pem", "inter.pem",
                                            {"--tls12", "--ciphers", echo.openssl_cipher}));
    auto config = test_config();
    auto client = connect(server.port(), "localhost", config.get());
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();

    const char* cipher = nullptr;
    ASSERT_EQ(schan_get_cipher(client->session(), &cipher), SCHAN_OK);
    EXPECT_STREQ(cipher, echo.iana_cipher);
    expect_echo(*client, test_data(echo.size, static_cast<std::uint32_t>(echo.size)));
}

INSTANTIATE_TEST_SUITE_P(
    Contract, EchoTls12,
    ::testing::Values(EchoCase{kGcm, kGcmIana, 16383}, EchoCase{kGcm, kGcmIana, 16384},
                      EchoCase{kGcm, kGcmIana, 16385}, EchoCase{kGcm, kGcmIana, 1 << 20},
                      EchoCase{kCbcSha384, kCbcSha384Iana, 16383}, EchoCase{kCbcSha384, kCbcSha384Iana, 16384},
                      EchoCase{kCbcSha384, kCbcSha384Iana, 16385}, EchoCase{kCbcSha384, kCbcSha384Iana, 1 << 20},
                      EchoCase{kCbcSha, kCbcShaIana, 16385}, EchoCase{kCbcSha, kCbcShaIana, 1 << 20}),
    echo_case_name);

class RandomSplits : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(RandomSplits, OneMebibyteArrivesIntact)
{
    const std::uint32_t seed = GetParam();
    Peer server = Peer::start(python_server("echo_server.py", "leaf.pem", "inter.pem"));
    auto config = test_config();
    // Pieces of 1 to 3000 bytes: a full 16 KiB record arrives in about ten
    // feeds, so the input queue contains a partial record after almost every feed.
    auto client = connect(server.port(), "localhost", config.get(), FeedPlan{3000, seed});
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();

    expect_echo(*client, test_data(1 << 20, seed));
}

INSTANTIATE_TEST_SUITE_P(Contract, RandomSplits, ::testing::Values(1u, 2u, 3u, 4u),
                         [](const auto& case_info) { return "Seed" + std::to_string(case_info.param); });

TEST(RandomSplits, SmallPiecesThroughHandshakeAndData)
{
    Peer server = Peer::start(python_server("echo_server.py", "leaf.pem", "inter.pem"));
    auto config = test_config();
    auto client = connect(server.port(), "localhost", config.get(), FeedPlan{9, 77});
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();

    expect_echo(*client, test_data(40000, 77));
}
