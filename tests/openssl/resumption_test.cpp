// Client session resumption against openssl s_server, which keeps a session
// cache across connections: TLS 1.2 session IDs and tickets, and TLS 1.3
// tickets that arrive after the handshake.
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/session_cache.h"
#include "memory_link.h"
#include "schan/schan.h"
#include "support/peers.h"

namespace schan::test {
namespace {

const std::string kGet = "GET / HTTP/1.0\r\n\r\n";

Peer start_server(const char* version_option)
{
    return Peer::start({"openssl", "s_server", "-accept", "127.0.0.1:{port}", "-cert", "{pki}/leaf.pem", "-key",
                        "{pki}/leaf.key", "-cert_chain", "{pki}/inter.pem", "-www", version_option});
}


// Runs one GET over `client` and returns schan_session_resumed(). Reading
// to the end also processes the TLS 1.3 tickets that follow the handshake.
int run_request(TlsConnection& client, const Peer& server)
{
    const schan_status handshake = client.handshake();
    EXPECT_EQ(handshake, SCHAN_OK) << client.error() << "\n" << server.output();
    if (handshake != SCHAN_OK)
        return -1;

    EXPECT_EQ(client.write(kGet), SCHAN_OK) << client.error();
    schan_status status = SCHAN_OK;
    const std::string answer = client.read_to_end(status);
    EXPECT_EQ(status, SCHAN_CLOSED) << client.error();
    EXPECT_NE(answer.find("HTTP/1.0 200 ok"), std::string::npos) << answer;

    int resumed = -1;
    EXPECT_EQ(schan_session_resumed(client.session(), &resumed), SCHAN_OK);
    return resumed;
}

// Connects a new client session for `server_name` and runs one request.
// s_server serves one connection at a time and waits for the client to
// close the socket, so the connection is closed before this returns.
int request_once(const Peer& server, schan_config* config, const char* server_name = "localhost")
{
    schan_session* session = nullptr;
    if (schan_client_new(config, server_name, &session) != SCHAN_OK)
        throw std::runtime_error("schan_client_new failed");
    TlsConnection client(session, Socket::connect("127.0.0.1", server.port()));
    return run_request(client, server);
}

class Resumption : public ::testing::TestWithParam<const char*> {};

TEST_P(Resumption, SecondConnectionResumes)
{
    Peer server = start_server(GetParam());
    ConfigHandle config;
    configure_test_client(config.get());
    ASSERT_EQ(schan_config_enable_resumption(config.get(), 1), SCHAN_OK) << config.error();

    EXPECT_EQ(request_once(server, config.get()), 0);
    EXPECT_EQ(request_once(server, config.get()), 1) << server.output();
}

TEST_P(Resumption, OffByDefault)
{
    Peer server = start_server(GetParam());
    ConfigHandle config;
    configure_test_client(config.get());

    EXPECT_EQ(request_once(server, config.get()), 0);
    EXPECT_EQ(request_once(server, config.get()), 0);
}

TEST_P(Resumption, DisabledAgainDropsCache)
{
    Peer server = start_server(GetParam());
    ConfigHandle config;
    configure_test_client(config.get());
    ASSERT_EQ(schan_config_enable_resumption(config.get(), 1), SCHAN_OK);

    EXPECT_EQ(request_once(server, config.get()), 0);
    ASSERT_EQ(schan_config_enable_resumption(config.get(), 0), SCHAN_OK);
    EXPECT_EQ(request_once(server, config.get()), 0);
}

// Both sessions are created, then the config is freed: the sessions share
// the cache, which outlives the config.
TEST_P(Resumption, CacheOutlivesFreedConfig)
{
    Peer server = start_server(GetParam());
    schan_config* config = nullptr;
    ASSERT_EQ(schan_config_new(&config), SCHAN_OK);
    configure_test_client(config);
    ASSERT_EQ(schan_config_enable_resumption(config, 1), SCHAN_OK);
    schan_session* first_session = nullptr;
    ASSERT_EQ(schan_client_new(config, "localhost", &first_session), SCHAN_OK);
    schan_session* second_session = nullptr;
    ASSERT_EQ(schan_client_new(config, "localhost", &second_session), SCHAN_OK);
    schan_config_free(config);

    {
        TlsConnection first(first_session, Socket::connect("127.0.0.1", server.port()));
        EXPECT_EQ(run_request(first, server), 0);
    }
    TlsConnection second(second_session, Socket::connect("127.0.0.1", server.port()));
    EXPECT_EQ(run_request(second, server), 1) << server.output();
}

// Another server name must not pick up the session of "localhost".
TEST_P(Resumption, OtherNameNotResumed)
{
    Peer server = start_server(GetParam());
    ConfigHandle config;
    configure_test_client(config.get());
    ASSERT_EQ(schan_config_enable_resumption(config.get(), 1), SCHAN_OK);

    EXPECT_EQ(request_once(server, config.get()), 0);
    EXPECT_EQ(request_once(server, config.get(), nullptr), 0);
}

INSTANTIATE_TEST_SUITE_P(Versions, Resumption, ::testing::Values("-tls1_2", "-tls1_3"),
                         [](const ::testing::TestParamInfo<const char*>& param_info) {
                             return std::string(param_info.param) == "-tls1_2" ? "Tls12" : "Tls13";
                         });

TEST(ResumptionQuery, InvalidStateBeforeHandshake)
{
    ConfigHandle config;
    configure_test_client(config.get());
    schan_session* session = nullptr;
    ASSERT_EQ(schan_client_new(config.get(), "localhost", &session), SCHAN_OK);
    int resumed = -1;
    EXPECT_EQ(schan_session_resumed(session, &resumed), SCHAN_E_INVALID_STATE);
    EXPECT_EQ(schan_session_resumed(session, nullptr), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_session_resumed(nullptr, &resumed), SCHAN_E_INVALID_ARGUMENT);
    schan_session_free(session);
}

TEST(ResumptionQuery, EnableRejectsNullConfig)
{
    EXPECT_EQ(schan_config_enable_resumption(nullptr, 1), SCHAN_E_INVALID_ARGUMENT);
}

TEST(SessionCache, SingleUseTakenOnce)
{
    SessionCache cache;
    cache.store("localhost", {1, 2, 3}, true);

    const auto first = cache.take("localhost");
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(*first, (SessionCache::Blob{1, 2, 3}));
    EXPECT_FALSE(cache.take("localhost").has_value());
}

TEST(SessionCache, ReusableStays)
{
    SessionCache cache;
    cache.store("localhost", {7}, false);

    EXPECT_TRUE(cache.take("localhost").has_value());
    EXPECT_TRUE(cache.take("localhost").has_value());
    EXPECT_FALSE(cache.take("other").has_value());
}

TEST(SessionCache, NewestFirstOldestDropped)
{
    SessionCache cache;
    for (unsigned char i = 1; i <= 6; ++i)
        cache.store("localhost", {i}, true);

    // At most 4 sessions per key are kept: 6, 5, 4 and 3, newest first.
    for (unsigned char expected = 6; expected >= 3; --expected) {
        const auto session = cache.take("localhost");
        ASSERT_TRUE(session.has_value()) << int{expected};
        EXPECT_EQ(session->front(), expected);
    }
    EXPECT_FALSE(cache.take("localhost").has_value());
}

// Four threads store and take under two keys at once.
TEST(SessionCache, ConcurrentStoreAndTake)
{
    SessionCache cache;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&cache, t] {
            const std::string key = "host" + std::to_string(t % 2);
            for (int i = 0; i < 2000; ++i) {
                cache.store(key, {static_cast<unsigned char>(i)}, i % 2 == 0);
                cache.take(key);
            }
        });
    }
    for (auto& thread : threads)
        thread.join();

    // NOTE: only a race detector such as ThreadSanitizer finds a missing
    // lock here; without one this checks that the cache stays usable.
    cache.store("host0", {42}, true);
    const auto newest = cache.take("host0");
    ASSERT_TRUE(newest.has_value());
    EXPECT_EQ(newest->front(), 42);
}

} // namespace
} // namespace schan::test
