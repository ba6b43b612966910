// Memory per open session: 10 000 sessions (5 000 client and server pairs
// with completed handshakes) held open at once in one process. The numbers
// are printed for docs/robustness.md, not asserted. SCHAN_MEMORY_SESSIONS
// lowers the count (the sanitizer build does, and its allocator reports no
// heap statistics).
#include <malloc.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "schan/schan.h"
#include "session_pair.h"

namespace schan::test {
namespace {

std::size_t session_count()
{
    const char* value = std::getenv("SCHAN_MEMORY_SESSIONS");
    return value == nullptr ? 10000 : std::strtoul(value, nullptr, 10);
}

// Bytes the allocator has handed out, including blocks it mapped directly.
std::size_t heap_in_use()
{
    const struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

// Resident set size in bytes, from /proc/self/statm.
std::size_t resident_bytes()
{
    std::ifstream statm("/proc/self/statm");
    std::size_t total_pages = 0;
    std::size_t resident_pages = 0;
    statm >> total_pages >> resident_pages;
    return resident_pages * 4096;
}

class SessionMemory : public ::testing::Test {
protected:
    void SetUp() override
    {
        ASSERT_EQ(schan_config_new(&client_config_), SCHAN_OK);
        ASSERT_EQ(schan_config_new(&server_config_), SCHAN_OK);
        configure_pair_client(client_config_);
        configure_pair_server(server_config_);
    }

    void TearDown() override
    {
        schan_config_free(client_config_);
        schan_config_free(server_config_);
    }

    schan_config* client_config_ = nullptr;
    schan_config* server_config_ = nullptr;
};

void report(const char* what, std::size_t sessions, std::size_t heap, std::size_t resident, std::size_t queues)
{
    std::cout << what << ": " << sessions << " sessions, heap " << heap / sessions << " bytes per session, RSS "
              << resident / sessions << " bytes per session, schan's queues " << queues / sessions
              << " bytes per session\n";
}

TEST_F(SessionMemory, OpenPairs)
{
    const std::size_t pairs = session_count() / 2;
    {
        SessionPair warm_up(client_config_, server_config_);
        ASSERT_EQ(warm_up.handshake(), "");
    }
    const std::size_t heap_before = heap_in_use();
    const std::size_t resident_before = resident_bytes();

    std::vector<std::unique_ptr<SessionPair>> open;
    open.reserve(pairs);
    std::size_t queues = 0;
    for (std::size_t i = 0; i < pairs; ++i) {
        open.push_back(std::make_unique<SessionPair>(client_config_, server_config_));
        ASSERT_EQ(open.back()->handshake(), "") << "pair " << i;
        ASSERT_EQ(open.back()->send(true, "ping"), "") << "pair " << i;
        ASSERT_EQ(open.back()->send(false, "pong"), "") << "pair " << i;
        queues += buffer_usage(open.back()->client()).storage + buffer_usage(open.back()->server()).storage;
    }

    report("open client and server sessions after a handshake and 4 bytes each way", 2 * pairs,
           heap_in_use() - heap_before, resident_bytes() - resident_before, queues);
}

TEST_F(SessionMemory, ClientsAwaitingServer)
{
    const std::size_t count = session_count();
    const std::size_t heap_before = heap_in_use();
    const std::size_t resident_before = resident_bytes();

    std::vector<schan_session*> sessions(count, nullptr);
    std::size_t queues = 0;
    for (schan_session*& session : sessions) {
        ASSERT_EQ(schan_client_new(client_config_, "localhost", &session), SCHAN_OK);
        ASSERT_EQ(schan_step(session), SCHAN_HAVE_OUTPUT);
        Inbound discard;
        discard.collect(session);
        queues += buffer_usage(session).storage;
    }

    report("client sessions that sent their ClientHello", count, heap_in_use() - heap_before,
           resident_bytes() - resident_before, queues);
    for (schan_session* session : sessions)
        schan_session_free(session);
}

} // namespace
} // namespace schan::test
