// Certificate verification: each kind of bad server certificate gives its
// own status and a message, and SCHAN_VERIFY_NONE accepts all of them.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "contract/contract_support.h"

using schan::contract::connect;
using schan::contract::s_server;
using schan::contract::test_config;
using schan::test::Peer;

namespace {

struct BadCertificate {
    const char* name;
    const char* cert;
    const char* chain;  // "" sends the certificate alone
    const char* target;
    schan_status expected;
};

const BadCertificate kBadCertificates[] = {
    {"WrongName", "wrong-name.pem", "inter.pem", "localhost", SCHAN_E_CERT_NAME_MISMATCH},
    {"DnsNameForIpTarget", "leaf-dns-ip.pem", "inter.pem", "127.0.0.1", SCHAN_E_CERT_NAME_MISMATCH},
    {"ForeignRoot", "foreign-leaf.pem", "foreign-root.pem", "localhost", SCHAN_E_CERT_UNTRUSTED},
    {"SelfSigned", "self-signed.pem", "", "localhost", SCHAN_E_CERT_UNTRUSTED},
    {"Expired", "expired.pem", "inter.pem", "localhost", SCHAN_E_CERT_EXPIRED},
};

class Verification : public ::testing::TestWithParam<BadCertificate> {};

std::string case_name(const ::testing::TestParamInfo<BadCertificate>& case_info)
{
    return case_info.param.name;
}

} // namespace

TEST_P(Verification, RejectsWithOwnStatus)
{
    const BadCertificate& bad = GetParam();
    Peer server = Peer::start(s_server(bad.cert, bad.chain, {"-www"}));
    auto config = test_config();
    auto client = connect(server.port(), bad.target, config.get());

    const schan_status status = client->handshake();

    EXPECT_EQ(status, bad.expected) << client->error();
    EXPECT_EQ(schan_last_status(client->session()), bad.expected);
    EXPECT_EQ(schan_get_state(client->session()), SCHAN_STATE_FAILED);
    EXPECT_FALSE(client->error().empty());
    std::printf("%s: %s\n", bad.name, client->error().c_str());
}

TEST_P(Verification, VerifyNoneAccepts)
{
    const BadCertificate& bad = GetParam();
    Peer server = Peer::start(s_server(bad.cert, bad.chain, {"-www"}));
    auto config = test_config();
    ASSERT_EQ(schan_config_set_verify_mode(config.get(), SCHAN_VERIFY_NONE), SCHAN_OK);
    auto client = connect(server.port(), bad.target, config.get());

    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
    ASSERT_EQ(client->write("GET / HTTP/1.0\r\n\r\n"), SCHAN_OK) << client->error();
    schan_status status = SCHAN_OK;
    const std::string answer = client->read_to_end(status);
    EXPECT_EQ(status, SCHAN_CLOSED) << client->error();
    EXPECT_EQ(answer.rfind("HTTP/1.0 200 ok", 0), 0u) << answer.substr(0, 200);
}

INSTANTIATE_TEST_SUITE_P(Contract, Verification, ::testing::ValuesIn(kBadCertificates), case_name);

TEST(Verification, AcceptsGoodChainForHostName)
{
    Peer server = Peer::start(s_server("leaf.pem", "inter.pem", {"-www"}));
    auto config = test_config();
    auto client = connect(server.port(), "localhost", config.get());

    EXPECT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
    EXPECT_EQ(schan_last_status(client->session()), SCHAN_OK);
    EXPECT_STREQ(schan_last_error(client->session()), "");
}

TEST(Verification, AcceptsEcdsaLeaf)
{
    Peer server = Peer::start(s_server("leaf-ec.pem", "inter.pem", {"-www"}));
    auto config = test_config();
    auto client = connect(server.port(), "localhost", config.get());

    EXPECT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
}

TEST(Verification, MissingIntermediateIsUntrusted)
{
    // Wine 8's SSL chain policy accepts a partial chain, so under Wine this
    // passes only when the backend checks the chain's trust status itself.
    Peer server = Peer::start(s_server("leaf.pem", "", {"-www"}));
    auto config = test_config();
    auto client = connect(server.port(), "localhost", config.get());

    EXPECT_EQ(client->handshake(), SCHAN_E_CERT_UNTRUSTED) << client->error();
    EXPECT_FALSE(client->error().empty());
}

TEST(Verification, NullServerNameSkipsOnlyTheNameCheck)
{
    // NULL checks the chain but no name: wrong-name.pem passes, and a
    // self-signed certificate still fails.
    Peer good_chain = Peer::start(s_server("wrong-name.pem", "inter.pem", {"-www"}));
    Peer self_signed = Peer::start(s_server("self-signed.pem", "", {"-www"}));
    auto config = test_config();

    auto client = connect(good_chain.port(), nullptr, config.get());
    EXPECT_EQ(client->handshake(), SCHAN_OK) << client->error();
    auto rejected = connect(self_signed.port(), nullptr, config.get());
    EXPECT_EQ(rejected->handshake(), SCHAN_E_CERT_UNTRUSTED) << rejected->error();
}
