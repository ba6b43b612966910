// Handshakes against openssl s_server and the Python peers: split input,
// long chains in small records, data right after Finished, protocol
// versions, ALPN, SNI and the queries after the handshake.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "contract/contract_support.h"

using namespace std::chrono_literals;
using schan::contract::connect;
using schan::contract::peer_certificate;
using schan::contract::python_server;
using schan::contract::s_server;
using schan::contract::test_config;
using schan::test::FeedPlan;
using schan::test::Peer;
using schan::test::Pki;
using schan::test::pem_to_der;

namespace {

const std::string kGet = "GET / HTTP/1.0\r\n\r\n";

// Sends a GET to an `s_server -www` peer and checks its response, which
// ends with close_notify.
void expect_www_answer(schan::test::TlsConnection& connection)
{
    ASSERT_EQ(connection.write(kGet), SCHAN_OK) << connection.error();

    schan_status status = SCHAN_OK;
    const std::string answer = connection.read_to_end(status);

    EXPECT_EQ(status, SCHAN_CLOSED) << connection.error();
    EXPECT_EQ(answer.rfind("HTTP/1.0 200 ok", 0), 0u) << answer.substr(0, 200);
}

struct SplitCase {
    const char* name;
    std::size_t chunk;
    bool tls12_only;
};

class HandshakeSplit : public ::testing::TestWithParam<SplitCase> {};

} // namespace

TEST_P(HandshakeSplit, CompletesAndExchangesData)
{
    const SplitCase& split = GetParam();
    std::vector<std::string> options = {"-www"};
    if (split.tls12_only)
        options.push_back("-tls1_2");
    Peer server = Peer::start(s_server("leaf.pem", "inter.pem", options));
    auto config = test_config();

    auto client = connect(server.port(), "localhost", config.get(), FeedPlan{split.chunk, 0});

    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
    expect_www_answer(*client);
}

INSTANTIATE_TEST_SUITE_P(Contract, HandshakeSplit,
                         ::testing::Values(SplitCase{"OneByte", 1, false}, SplitCase{"FiveBytes", 5, false},
                                           SplitCase{"OneByteTls12", 1, true}, SplitCase{"FiveBytesTls12", 5, true},
                                           SplitCase{"WholeReads", 0, false}),
                         [](const auto& case_info) { return std::string(case_info.param.name); });

TEST(Handshake, LongChainInSmallRecords)
{
    // Six certificates, one of them RSA 4096, sent in 512-byte records.
    Peer server = Peer::start(s_server("long-leaf.pem", "long-chain.pem", {"-www", "-max_send_frag", "512"}));
    auto config = test_config();

    for (const std::size_t chunk : {std::size_t{0}, std::size_t{5}}) {
        SCOPED_TRACE("feed chunk " + std::to_string(chunk));
        auto client = connect(server.port(), "localhost", config.get(), FeedPlan{chunk, 0});

        ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
        std::size_t count = 0;
        ASSERT_EQ(schan_get_peer_cert_count(client->session(), &count), SCHAN_OK);
        EXPECT_GE(count, 6u);
        EXPECT_EQ(peer_certificate(client->session(), 0), pem_to_der(Pki::read("long-leaf.pem")));
        EXPECT_EQ(peer_certificate(client->session(), 1), pem_to_der(Pki::read("inter5.pem")));
        expect_www_answer(*client);
    }
}

class DataAfterFinished : public ::testing::TestWithParam<bool> {};

TEST_P(DataAfterFinished, IsDeliveredAfterHandshake)
{
    const bool tls12_only = GetParam();
    const std::string message = "application data in the same write as the last handshake flight\n";
    std::vector<std::string> options = {"--message", message};
    if (tls12_only)
        options.push_back("--tls12");
    Peer server = Peer::start(python_server("data_after_finished_server.py", "leaf.pem", "inter.pem", options));
    auto config = test_config();
    auto client = connect(server.port(), "localhost", config.get());

    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
    schan_status status = SCHAN_OK;
    const std::string received = client->read(message.size(), status);

    EXPECT_EQ(status, SCHAN_OK) << client->error();
    EXPECT_EQ(received, message);
    EXPECT_TRUE(server.wait_for_output("with the last handshake flight")) << server.output();
}

INSTANTIATE_TEST_SUITE_P(Contract, DataAfterFinished, ::testing::Values(false, true),
                         [](const auto& case_info) { return std::string(case_info.param ? "Tls12" : "DefaultVersion"); });

TEST(Handshake, Tls13Only)
{
    Peer server = Peer::start(s_server("leaf.pem", "inter.pem", {"-www"}));
    auto config = test_config();
    ASSERT_EQ(schan_config_set_versions(config.get(), SCHAN_TLS_1_3, SCHAN_TLS_1_3), SCHAN_OK);

    schan_session* session = nullptr;
    const schan_status created = schan_client_new(config.get(), "localhost", &session);
    if (schan::contract::is_wine()) {
        // Wine 8's SChannel implements TLS 1.2 only, so either the session
        // or its first handshake step must reject TLS 1.3-only, without a
        // silent downgrade.
        if (created != SCHAN_OK) {
            EXPECT_EQ(created, SCHAN_E_UNSUPPORTED_VERSION);
            return;
        }
        schan::test::TlsConnection client(session, schan::test::Socket::connect("127.0.0.1", server.port()));
        EXPECT_EQ(client.handshake(), SCHAN_E_UNSUPPORTED_VERSION) << client.error();
        EXPECT_FALSE(client.error().empty());
        return;
    }

    ASSERT_EQ(created, SCHAN_OK);
    schan::test::TlsConnection client(session, schan::test::Socket::connect("127.0.0.1", server.port()));
    ASSERT_EQ(client.handshake(), SCHAN_OK) << client.error() << "\n" << server.output();
    schan_tls_version version = SCHAN_TLS_DEFAULT;
    ASSERT_EQ(schan_get_protocol(client.session(), &version), SCHAN_OK);
    EXPECT_EQ(version, SCHAN_TLS_1_3);
}

TEST(Handshake, Tls12OnlyServerWithTls13Minimum)
{
    if (schan::contract::is_wine())
        GTEST_SKIP() << "Wine 8's SChannel has no TLS 1.3, so a TLS 1.3 minimum cannot reach the server";
    Peer server = Peer::start(s_server("leaf.pem", "inter.pem", {"-www", "-tls1_2"}));
    auto config = test_config();
    ASSERT_EQ(schan_config_set_versions(config.get(), SCHAN_TLS_1_3, SCHAN_TLS_DEFAULT), SCHAN_OK);
    auto client = connect(server.port(), "localhost", config.get());

    const schan_status status = client->handshake();

    EXPECT_EQ(status, SCHAN_E_UNSUPPORTED_VERSION) << client->error();
    EXPECT_FALSE(client->error().empty());
}

TEST(Alpn, ServerChoosesOfferedProtocol)
{
    Peer server = Peer::start(python_server("echo_server.py", "leaf.pem", "inter.pem", {"--alpn", "h2"}));
    auto config = test_config();
    ASSERT_EQ(schan_config_add_alpn(config.get(), "h2"), SCHAN_OK);
    ASSERT_EQ(schan_config_add_alpn(config.get(), "http/1.1"), SCHAN_OK);
    auto client = connect(server.port(), "localhost", config.get());

    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();

    const char* protocol = nullptr;
    ASSERT_EQ(schan_get_alpn(client->session(), &protocol), SCHAN_OK);
    EXPECT_STREQ(protocol, "h2");
    EXPECT_TRUE(server.wait_for_output("alpn=h2")) << server.output();
}

TEST(Alpn, NoneOfferedGivesEmptyProtocol)
{
    Peer server = Peer::start(python_server("echo_server.py", "leaf.pem", "inter.pem", {"--alpn", "h2"}));
    auto config = test_config();
    auto client = connect(server.port(), "localhost", config.get());

    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();

    const char* protocol = nullptr;
    ASSERT_EQ(schan_get_alpn(client->session(), &protocol), SCHAN_OK);
    EXPECT_STREQ(protocol, "");
}

TEST(Alpn, NoOverlapFailsHandshake)
{
    // openssl s_server 3.0 ends a handshake without a common ALPN protocol
    // with a fatal alert.
    Peer server = Peer::start(s_server("leaf.pem", "inter.pem", {"-alpn", "http/1.1"}));
    auto config = test_config();
    ASSERT_EQ(schan_config_add_alpn(config.get(), "h2"), SCHAN_OK);
    auto client = connect(server.port(), "localhost", config.get());

    const schan_status status = client->handshake();

    EXPECT_TRUE(status == SCHAN_E_ALERT_RECEIVED || status == SCHAN_E_HANDSHAKE_FAILED)
        << schan_status_name(status) << ": " << client->error();
    EXPECT_FALSE(client->error().empty());
    EXPECT_EQ(schan_get_state(client->session()), SCHAN_STATE_FAILED);
}

TEST(Sni, HostNameReachesServer)
{
    Peer server = Peer::start(python_server("sni_server.py", "leaf.pem", "inter.pem"));
    auto config = test_config();
    auto client = connect(server.port(), "localhost", config.get());

    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
    schan_status status = SCHAN_OK;
    const std::string report = client->read(std::string("sni=localhost\n").size(), status);

    EXPECT_EQ(status, SCHAN_OK) << client->error();
    EXPECT_EQ(report, "sni=localhost\n");
}

TEST(Sni, IpTargetSendsNoSni)
{
    Peer server = Peer::start(python_server("sni_server.py", "leaf-ip.pem", "inter.pem"));
    auto config = test_config();
    auto client = connect(server.port(), "127.0.0.1", config.get());

    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
    schan_status status = SCHAN_OK;
    const std::string report = client->read(std::string("sni=(none)\n").size(), status);

    EXPECT_EQ(status, SCHAN_OK) << client->error();
    EXPECT_EQ(report, "sni=(none)\n") << "an IP address must not be sent as SNI (RFC 6066, section 3)";
}

TEST(Queries, FailBeforeHandshake)
{
    auto config = test_config();
    schan_session* session = nullptr;
    ASSERT_EQ(schan_client_new(config.get(), "localhost", &session), SCHAN_OK);

    schan_tls_version version = SCHAN_TLS_DEFAULT;
    const char* text = nullptr;
    std::size_t count = 0;
    EXPECT_EQ(schan_get_protocol(session, &version), SCHAN_E_INVALID_STATE);
    EXPECT_EQ(schan_get_cipher(session, &text), SCHAN_E_INVALID_STATE);
    EXPECT_EQ(schan_get_alpn(session, &text), SCHAN_E_INVALID_STATE);
    EXPECT_EQ(schan_get_peer_cert_count(session, &count), SCHAN_E_INVALID_STATE);
    schan_session_free(session);
}

TEST(Queries, ReportTls12Connection)
{
    Peer server = Peer::start(
        s_server("leaf.pem", "inter.pem", {"-www", "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"}));
    auto config = test_config();
    auto client = connect(server.port(), "localhost", config.get());

    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();

    schan_tls_version version = SCHAN_TLS_DEFAULT;
    ASSERT_EQ(schan_get_protocol(client->session(), &version), SCHAN_OK);
    EXPECT_EQ(version, SCHAN_TLS_1_2);
    const char* cipher = nullptr;
    ASSERT_EQ(schan_get_cipher(client->session(), &cipher), SCHAN_OK);
    EXPECT_STREQ(cipher, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    const char* alpn = nullptr;
    ASSERT_EQ(schan_get_alpn(client->session(), &alpn), SCHAN_OK);
    EXPECT_STREQ(alpn, "");

    std::size_t count = 0;
    ASSERT_EQ(schan_get_peer_cert_count(client->session(), &count), SCHAN_OK);
    EXPECT_GE(count, 2u);
    EXPECT_EQ(peer_certificate(client->session(), 0), pem_to_der(Pki::read("leaf.pem")));
    EXPECT_EQ(peer_certificate(client->session(), 1), pem_to_der(Pki::read("inter.pem")));
    const std::uint8_t* der = nullptr;
    std::size_t length = 0;
    EXPECT_EQ(schan_get_peer_cert(client->session(), count, &der, &length), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_get_state(client->session()), SCHAN_STATE_OPEN);
    expect_www_answer(*client);
}

TEST(Queries, ReportTls13Connection)
{
    if (schan::contract::is_wine())
        GTEST_SKIP() << "Wine 8's SChannel has no TLS 1.3";
    Peer server = Peer::start(
        s_server("leaf.pem", "inter.pem", {"-www", "-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256"}));
    auto config = test_config();
    auto client = connect(server.port(), "localhost", config.get());

    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();

    schan_tls_version version = SCHAN_TLS_DEFAULT;
    ASSERT_EQ(schan_get_protocol(client->session(), &version), SCHAN_OK);
    EXPECT_EQ(version, SCHAN_TLS_1_3);
    const char* cipher = nullptr;
    ASSERT_EQ(schan_get_cipher(client->session(), &cipher), SCHAN_OK);
    EXPECT_STREQ(cipher, "TLS_AES_128_GCM_SHA256");
    EXPECT_EQ(peer_certificate(client->session(), 0), pem_to_der(Pki::read("leaf.pem")));
    expect_www_answer(*client);
}
