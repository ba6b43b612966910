// How a connection ends: close_notify with the last data, end of stream
// without close_notify, and our own close_notify.
#include <gtest/gtest.h>

#include <string>

#include "contract/contract_support.h"

using schan::contract::connect;
using schan::contract::python_server;
using schan::contract::test_config;
using schan::test::FeedPlan;
using schan::test::Peer;

namespace {

class CloseSplit : public ::testing::TestWithParam<std::size_t> {};

std::string plan_name(std::size_t chunk)
{
    return chunk == 0 ? "WholeReads" : "Chunk" + std::to_string(chunk);
}

} // namespace

TEST_P(CloseSplit, BodyCloseNotifyAndEndInOneRead)
{
    // The server sends body, close_notify and FIN in one write, so with
    // whole reads the three arrive together.
    const std::string body = "the last response before close_notify\n";
    Peer server = Peer::start(python_server("close_notify_server.py", "leaf.pem", "inter.pem", {"--body", body}));
    auto config = test_config();
    auto client = connect(server.port(), "localhost", config.get(), FeedPlan{GetParam(), 0});
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
    ASSERT_EQ(client->write("request\n"), SCHAN_OK) << client->error();

    schan_status status = SCHAN_OK;
    const std::string received = client->read_to_end(status);

    EXPECT_EQ(received, body);
    EXPECT_EQ(status, SCHAN_CLOSED) << client->error();
    EXPECT_EQ(schan_get_state(client->session()), SCHAN_STATE_CLOSING);
    EXPECT_EQ(client->shutdown(), SCHAN_OK) << client->error();
    EXPECT_EQ(schan_get_state(client->session()), SCHAN_STATE_CLOSED);
}

TEST_P(CloseSplit, EndWithoutCloseNotifyIsTruncation)
{
    const std::string body = "a body cut off without close_notify\n";
    Peer server = Peer::start(python_server("truncating_server.py", "leaf.pem", "inter.pem", {"--body", body}));
    auto config = test_config();
    auto client = connect(server.port(), "localhost", config.get(), FeedPlan{GetParam(), 0});
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
    ASSERT_EQ(client->write("request\n"), SCHAN_OK) << client->error();

    schan_status status = SCHAN_OK;
    const std::string received = client->read_to_end(status);

    EXPECT_EQ(received, body);
    EXPECT_EQ(status, SCHAN_E_TRUNCATED) << client->error();
    EXPECT_FALSE(client->error().empty());
}

INSTANTIATE_TEST_SUITE_P(Contract, CloseSplit, ::testing::Values(std::size_t{0}, std::size_t{1}, std::size_t{5}),
                         [](const auto& case_info) { return plan_name(case_info.param); });

TEST(Close, ShutdownThenPeerAnswers)
{
    Peer server = Peer::start(python_server("echo_server.py", "leaf.pem", "inter.pem"));
    auto config = test_config();
    auto client = connect(server.port(), "localhost", config.get());
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();

    ASSERT_EQ(client->shutdown(), SCHAN_OK) << client->error();
    EXPECT_EQ(schan_get_state(client->session()), SCHAN_STATE_CLOSING);
    std::size_t consumed = 0;
    const std::uint8_t byte = 'x';
    EXPECT_EQ(schan_encrypt(client->session(), &byte, 1, &consumed), SCHAN_E_INVALID_STATE);

    schan_status status = SCHAN_OK;
    client->read_to_end(status);
    EXPECT_EQ(status, SCHAN_CLOSED) << client->error();
    EXPECT_EQ(schan_get_state(client->session()), SCHAN_STATE_CLOSED);
    EXPECT_TRUE(server.wait_for_output("close_notify received")) << server.output();
}
