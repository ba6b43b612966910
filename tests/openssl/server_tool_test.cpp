// tools/schan-server (the OpenSSL build) against schan's client and
// openssl s_client: HTTP and echo modes, PKCS#12 with a password from the
// environment, client certificates, and a configuration error.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "memory_link.h"
#include "schan/schan.h"
#include "support/peers.h"

namespace schan::test {
namespace {

#ifdef SCHAN_SERVER_TOOL
const std::string kTool = SCHAN_SERVER_TOOL;
#else
const std::string kTool;
#endif

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

// schan-server on {port} with leaf-chain.pem and leaf.key plus `extra`.
std::vector<std::string> server_tool(const std::vector<std::string>& extra)
{
    std::vector<std::string> argv = {kTool, "--port", "{port}", "--cert", "{pki}/leaf-chain.pem", "--key",
                                     "{pki}/leaf.key"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
}

std::unique_ptr<TlsConnection> connect(const Peer& server, const ConfigHandle& config)
{
    schan_session* session = nullptr;
    if (schan_client_new(config.get(), "localhost", &session) != SCHAN_OK)
        throw std::runtime_error("schan_client_new failed");
    return std::make_unique<TlsConnection>(session, Socket::connect("127.0.0.1", server.port()));
}

class ServerTool : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (kTool.empty())
            GTEST_SKIP() << "tools/schan-server.cpp is not part of this build";
    }
};

TEST_F(ServerTool, HttpReportsNegotiation)
{
    Peer server = Peer::start(server_tool({"--http", "--alpn", "h2,http/1.1"}));
    ConfigHandle config;
    configure_test_client(config.get());
    ASSERT_EQ(schan_config_add_alpn(config.get(), "http/1.1"), SCHAN_OK);
    auto client = connect(server, config);
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();

    ASSERT_EQ(client->write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"), SCHAN_OK) << client->error();
    schan_status status = SCHAN_OK;
    const std::string answer = client->read_to_end(status);
    EXPECT_EQ(status, SCHAN_CLOSED) << client->error() << "\n" << server.output();
    EXPECT_TRUE(contains(answer, "HTTP/1.1 200 OK")) << answer;
    EXPECT_TRUE(contains(answer, "protocol: TLSv1.3")) << answer;
    EXPECT_TRUE(contains(answer, "cipher: TLS_")) << answer;
    EXPECT_TRUE(contains(answer, "alpn: http/1.1")) << answer;
    EXPECT_TRUE(contains(server.output(), "handshake complete")) << server.output();
}

TEST_F(ServerTool, EchoWithPkcs12AndClientCertificate)
{
    Peer server = Peer::start({"env", "SCHAN_TEST_PFX_PASSWORD=secret", kTool, "--port", "{port}", "--pfx",
                               "{pki}/leaf.p12", "--pass-env", "SCHAN_TEST_PFX_PASSWORD", "--ca", "{pki}/root.pem",
                               "--verify-client", "required", "--echo"});
    ConfigHandle config;
    configure_test_client(config.get());
    const std::string chain = Pki::read("client.pem") + Pki::read("inter.pem");
    const std::string key = Pki::read("client.key");
    ASSERT_EQ(schan_config_load_cert_chain_pem(config.get(), chain.data(), chain.size(), key.data(), key.size(),
                                               nullptr),
              SCHAN_OK)
        << config.error();
    auto client = connect(server, config);
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();

    std::string data(200000, '\0');
    for (std::size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<char>((i * 7919) >> 3);
    ASSERT_EQ(client->write(data), SCHAN_OK) << client->error();
    schan_status status = SCHAN_OK;
    EXPECT_EQ(client->read(data.size(), status), data) << client->error() << "\n" << server.output();

    ASSERT_EQ(client->shutdown(), SCHAN_OK) << client->error();
    EXPECT_EQ(client->read_to_end(status), "");
    EXPECT_EQ(status, SCHAN_CLOSED) << client->error() << "\n" << server.output();
    client->socket().close();
    EXPECT_TRUE(server.wait_for_output("client-certificates: 3")) << server.output();
    EXPECT_TRUE(server.wait_for_output("closed cleanly")) << server.output();
}

TEST_F(ServerTool, RequiredCertificateMissing)
{
    Peer server = Peer::start(server_tool({"--ca", "{pki}/root.pem", "--verify-client", "required", "--echo"}));
    ConfigHandle config;
    configure_test_client(config.get());
    auto client = connect(server, config);

    // TLS 1.3: the client's handshake completes before the server checks the
    // client's Certificate message, so the alert arrives at the first read.
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
    schan_status status = client->write("hello");
    if (status == SCHAN_OK)
        client->read_to_end(status);
    EXPECT_EQ(status, SCHAN_E_ALERT_RECEIVED) << client->error();
    EXPECT_TRUE(server.wait_for_output("SCHAN_E_CERT_REQUIRED")) << server.output();
}

TEST_F(ServerTool, OpensslClientGetsAnswer)
{
    Peer server = Peer::start(server_tool({"--http", "--alpn", "h2"}));
    Peer client = Peer::start({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(server.port()),
                               "-servername", "localhost", "-CAfile", "{pki}/root.pem", "-verify_return_error",
                               "-alpn", "h2", "-tls1_2", "-quiet"},
                              std::chrono::seconds(30), false);
    client.write_stdin("GET / HTTP/1.1\r\n\r\n");
    EXPECT_TRUE(client.wait_for_output("alpn: h2")) << client.output() << "\n" << server.output();
    EXPECT_TRUE(contains(client.output(), "protocol: TLSv1.2")) << client.output();
    EXPECT_TRUE(server.wait_for_output("closed cleanly")) << server.output();
}

TEST_F(ServerTool, WrongPasswordExitsWithUsageError)
{
    Peer server = Peer::start({"env", "SCHAN_TEST_PFX_PASSWORD=wrong", kTool, "--port", "{port}", "--pfx",
                               "{pki}/leaf.p12", "--pass-env", "SCHAN_TEST_PFX_PASSWORD"},
                              std::chrono::seconds(30), false);
    EXPECT_EQ(server.wait_exit(), 2) << server.output();
    EXPECT_TRUE(contains(server.output(), "SCHAN_E_BAD_PASSWORD")) << server.output();
    EXPECT_TRUE(contains(server.output(), "leaf.p12")) << server.output();
}

} // namespace
} // namespace schan::test
