// The OpenSSL backend against openssl s_server for what happens after the
// handshake: TLS 1.3 tickets, KeyUpdate, TLS 1.2 renegotiation requested by
// the server, and client certificates.
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "memory_link.h"
#include "schan/schan.h"
#include "support/peers.h"

namespace schan::test {
namespace {

const std::string kGet = "GET / HTTP/1.0\r\n\r\n";

// openssl s_server on 127.0.0.1 with leaf.pem, sending inter.pem after it.
std::vector<std::string> s_server(const std::vector<std::string>& extra)
{
    std::vector<std::string> argv = {"openssl", "s_server", "-accept", "127.0.0.1:{port}", "-cert", "{pki}/leaf.pem",
                                     "-key", "{pki}/leaf.key", "-cert_chain", "{pki}/inter.pem"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
}

std::unique_ptr<TlsConnection> connect(const Peer& server, const ConfigHandle& config, FeedPlan plan = {})
{
    schan_session* session = nullptr;
    if (schan_client_new(config.get(), "localhost", &session) != SCHAN_OK)
        throw std::runtime_error("schan_client_new failed");
    return std::make_unique<TlsConnection>(session, Socket::connect("127.0.0.1", server.port()), plan);
}

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

// s_server logs this line once a handshake is complete.
constexpr const char* kHandshakeLogLine = "CIPHER is";

class Tickets : public ::testing::TestWithParam<std::tuple<int, std::size_t>> {};

TEST_P(Tickets, ArriveBeforeFirstRead)
{
    const auto [tickets, chunk] = GetParam();
    Peer server = Peer::start(s_server({"-www", "-tls1_3", "-num_tickets", std::to_string(tickets)}));
    ConfigHandle config;
    configure_test_client(config.get());
    auto client = connect(server, config, FeedPlan{chunk, 0});
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();

    ASSERT_EQ(client->write(kGet), SCHAN_OK) << client->error();
    schan_status status = SCHAN_OK;
    const std::string answer = client->read_to_end(status);
    EXPECT_EQ(status, SCHAN_CLOSED) << client->error();
    EXPECT_TRUE(contains(answer, "HTTP/1.0 200 ok")) << answer;
    EXPECT_TRUE(contains(answer, "TLSv1.3")) << answer;
}

INSTANTIATE_TEST_SUITE_P(Counts, Tickets,
                         ::testing::Combine(::testing::Values(0, 1, 2, 8), ::testing::Values(0u, 1u)),
                         [](const ::testing::TestParamInfo<std::tuple<int, std::size_t>>& param_info) {
                             return std::to_string(std::get<0>(param_info.param)) + "Tickets" +
                                    (std::get<1>(param_info.param) == 0 ? "WholeReads" : "OneByteFeeds");
                         });

class KeyUpdate : public ::testing::TestWithParam<const char*> {};

// s_server sends "first", a KeyUpdate and "second" while the client does
// not read. The records wait in the socket buffer, so the client's first
// receive normally returns all three.
TEST_P(KeyUpdate, BetweenRecordsInOneRead)
{
    const std::string command = GetParam();
    Peer server = Peer::start(s_server({"-tls1_3", "-num_tickets", "0", "-msg"}));
    ConfigHandle config;
    configure_test_client(config.get());
    auto client = connect(server, config);
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
    ASSERT_TRUE(server.wait_for_output(kHandshakeLogLine)) << server.output();

    // s_server does not log the data it sends, so a pause keeps each
    // stdin line a separate read and a separate record.
    server.write_stdin("first\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    server.write_stdin(command + "\n");
    ASSERT_TRUE(server.wait_for_output("KeyUpdate")) << server.output();
    server.write_stdin("second\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));

    schan_status status = SCHAN_OK;
    EXPECT_EQ(client->read(13, status), "first\nsecond\n") << client->error() << "\n" << server.output();
    EXPECT_EQ(status, SCHAN_OK) << client->error();

    // With update_requested, s_server logs the client's KeyUpdate ("<<<")
    // and reads the next record with the client's new keys.
    ASSERT_EQ(client->write("after update\n"), SCHAN_OK) << client->error();
    EXPECT_TRUE(server.wait_for_output("after update")) << server.output();
    const bool client_key_update = contains(server.output(), "<<< TLS 1.3, Handshake [length 0005], KeyUpdate");
    EXPECT_EQ(client_key_update, command == "K") << server.output();
    EXPECT_EQ(schan_get_state(client->session()), SCHAN_STATE_OPEN);
}

INSTANTIATE_TEST_SUITE_P(Commands, KeyUpdate, ::testing::Values("k", "K"),
                         [](const ::testing::TestParamInfo<const char*>& param_info) {
                             return std::string(param_info.param) == "K" ? "UpdateRequested" : "UpdateNotRequested";
                         });

struct RenegotiationCase {
    const char* name;
    const char* command;  // "r", or "R" to also request a client certificate
    bool full_handshake;  // false: s_server allows resuming the session (an abbreviated handshake)
    bool with_client_certificate;
};

class Renegotiation : public ::testing::TestWithParam<RenegotiationCase> {};

// Returns the length of the first Certificate message that s_server -msg
// logged as received ("<<<"), or -1 when there is none.
int received_certificate_length(const std::string& log)
{
    const std::string prefix = "<<< TLS 1.2, Handshake [length ";
    for (std::size_t at = log.find(prefix); at != std::string::npos; at = log.find(prefix, at + 1)) {
        const std::size_t end = log.find('\n', at);
        const std::string line = log.substr(at, end - at);
        if (line.ends_with("], Certificate"))
            return std::stoi(line.substr(prefix.size(), 4), nullptr, 16);
    }
    return -1;
}

// Drives a renegotiation that schan_decrypt started until the session is
// open again. The state is checked after every call: once the renegotiation
// is complete, schan_decrypt returns SCHAN_NEED_INPUT, and the socket stays
// silent until the client writes.
void finish_renegotiation(TlsConnection& connection)
{
    schan_session* session = connection.session();
    std::uint8_t buffer[16384];
    while (schan_get_state(session) == SCHAN_STATE_RENEGOTIATING) {
        std::size_t written = 0;
        const schan_status status = schan_decrypt(session, buffer, sizeof buffer, &written);
        while (schan_output_size(session) > 0) {
            std::size_t output_length = 0;
            schan_take_output(session, buffer, sizeof buffer, &output_length);
            connection.socket().send_all(buffer, output_length);
        }
        if (status == SCHAN_OK)
            throw std::runtime_error("unexpected plaintext during the renegotiation");
        if (status < 0)
            throw std::runtime_error(std::string("schan_decrypt failed during the renegotiation: ") +
                                     schan_status_name(status) + ": " + schan_last_error(session));
        if (status != SCHAN_NEED_INPUT || schan_get_state(session) != SCHAN_STATE_RENEGOTIATING)
            continue;

        const std::size_t received = connection.socket().receive(buffer, sizeof buffer);
        if (received == 0)
            throw std::runtime_error("the server closed the connection during the renegotiation");
        std::size_t consumed = 0;
        if (schan_feed(session, buffer, received, &consumed) != SCHAN_OK || consumed != received)
            throw std::runtime_error("schan_feed took " + std::to_string(consumed) + " of " +
                                     std::to_string(received) + " bytes");
    }
}

// s_server sends a HelloRequest and then, without waiting for the new
// handshake, the next stdin line. The client must respond to the HelloRequest
// inside schan_decrypt, deliver the data that arrives during the
// renegotiation, complete the renegotiation and then send data.
TEST_P(Renegotiation, ServerInitiatedCompletes)
{
    const RenegotiationCase& test_case = GetParam();
    std::vector<std::string> options = {"-tls1_2", "-CAfile", "{pki}/root.pem", "-msg"};
    if (test_case.full_handshake) {
        options.push_back("-no_ticket");
        options.push_back("-no_cache");
    }
    Peer server = Peer::start(s_server(options));
    ConfigHandle config;
    configure_test_client(config.get());
    if (test_case.with_client_certificate) {
        const std::string chain = Pki::read("client.pem") + Pki::read("inter.pem");
        const std::string key = Pki::read("client.key");
        ASSERT_EQ(schan_config_load_cert_chain_pem(config.get(), chain.data(), chain.size(), key.data(), key.size(),
                                                   nullptr),
                  SCHAN_OK)
            << config.error();
    }
    auto client = connect(server, config);
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
    ASSERT_TRUE(server.wait_for_output(kHandshakeLogLine)) << server.output();

    server.write_stdin(std::string(test_case.command) + "\n");
    ASSERT_TRUE(server.wait_for_output("HelloRequest")) << server.output();
    server.write_stdin("after renegotiation\n");

    // A socket timeout throws; the server's log shows how far it got.
    try {
        schan_status status = SCHAN_OK;
        EXPECT_EQ(client->read(20, status), "after renegotiation\n") << client->error() << "\n" << server.output();
        EXPECT_EQ(status, SCHAN_OK) << client->error();

        finish_renegotiation(*client);
        EXPECT_EQ(schan_get_state(client->session()), SCHAN_STATE_OPEN);
        ASSERT_EQ(client->write("from client\n"), SCHAN_OK) << client->error() << "\n" << server.output();
    } catch (const std::exception& error) {
        FAIL() << error.what() << "; client state " << schan_get_state(client->session()) << ", last error '"
               << client->error() << "'\n"
               << server.output();
    }
    EXPECT_EQ(schan_get_state(client->session()), SCHAN_STATE_OPEN);
    EXPECT_TRUE(server.wait_for_output("from client")) << server.output();

    // The first handshake requests no certificate, so a Certificate message
    // from the client belongs to a full renegotiation. An empty one is 7 bytes.
    const int certificate_length = received_certificate_length(server.output());
    if (std::string(test_case.command) == "r" || !test_case.full_handshake)
        EXPECT_EQ(certificate_length, -1) << server.output();
    else if (test_case.with_client_certificate)
        EXPECT_GT(certificate_length, 7) << server.output();
    else
        EXPECT_EQ(certificate_length, 7) << server.output();
}

INSTANTIATE_TEST_SUITE_P(Cases, Renegotiation,
                         ::testing::Values(RenegotiationCase{"Abbreviated", "r", false, false},
                                           RenegotiationCase{"Full", "r", true, false},
                                           RenegotiationCase{"RequestsCertificateClientHasNone", "R", true, false},
                                           RenegotiationCase{"RequestsCertificateClientSendsOne", "R", true, true}),
                         [](const ::testing::TestParamInfo<RenegotiationCase>& param_info) {
                             return std::string(param_info.param.name);
                         });

struct ClientCertificateCase {
    const char* name;
    const char* verify_option;  // "-verify" requests a certificate, "-Verify" requires one
    bool with_client_certificate;
    const char* version_option;  // "-tls1_2" or "-tls1_3"
    bool accepted;
};

class ClientCertificate : public ::testing::TestWithParam<ClientCertificateCase> {};

TEST_P(ClientCertificate, AgainstSServer)
{
    const ClientCertificateCase& test_case = GetParam();
    Peer server = Peer::start(
        s_server({"-www", test_case.verify_option, "1", "-CAfile", "{pki}/root.pem", test_case.version_option}));
    ConfigHandle config;
    configure_test_client(config.get());
    if (test_case.with_client_certificate) {
        const std::string chain = Pki::read("client.pem") + Pki::read("inter.pem");
        const std::string key = Pki::read("client.key");
        ASSERT_EQ(schan_config_load_cert_chain_pem(config.get(), chain.data(), chain.size(), key.data(), key.size(),
                                                   nullptr),
                  SCHAN_OK)
            << config.error();
    }
    auto client = connect(server, config);
    const bool tls13 = std::string(test_case.version_option) == "-tls1_3";

    // A TLS 1.2 server rejects a missing certificate during the handshake; a
    // TLS 1.3 client has finished its handshake by then and receives the
    // alert at its first read.
    const schan_status handshake = client->handshake();
    if (!test_case.accepted && !tls13) {
        EXPECT_EQ(handshake, SCHAN_E_ALERT_RECEIVED) << client->error() << "\n" << server.output();
        return;
    }
    ASSERT_EQ(handshake, SCHAN_OK) << client->error() << "\n" << server.output();

    const schan_status written = client->write(kGet);
    schan_status status = written;
    std::string answer;
    if (written == SCHAN_OK)
        answer = client->read_to_end(status);
    if (!test_case.accepted) {
        EXPECT_EQ(status, SCHAN_E_ALERT_RECEIVED) << client->error() << "\n" << server.output();
        EXPECT_TRUE(contains(client->error(), "certificate required")) << client->error();
        return;
    }
    EXPECT_EQ(status, SCHAN_CLOSED) << client->error();
    EXPECT_TRUE(contains(answer, "HTTP/1.0 200 ok")) << answer;
    EXPECT_EQ(contains(answer, "no client certificate available"), !test_case.with_client_certificate) << answer;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ClientCertificate,
    ::testing::Values(ClientCertificateCase{"OptionalWithout12", "-verify", false, "-tls1_2", true},
                      ClientCertificateCase{"OptionalWithout13", "-verify", false, "-tls1_3", true},
                      ClientCertificateCase{"OptionalWith12", "-verify", true, "-tls1_2", true},
                      ClientCertificateCase{"OptionalWith13", "-verify", true, "-tls1_3", true},
                      ClientCertificateCase{"RequiredWithout12", "-Verify", false, "-tls1_2", false},
                      ClientCertificateCase{"RequiredWithout13", "-Verify", false, "-tls1_3", false},
                      ClientCertificateCase{"RequiredWith12", "-Verify", true, "-tls1_2", true},
                      ClientCertificateCase{"RequiredWith13", "-Verify", true, "-tls1_3", true}),
    [](const ::testing::TestParamInfo<ClientCertificateCase>& param_info) {
        return std::string(param_info.param.name);
    });

} // namespace
} // namespace schan::test
