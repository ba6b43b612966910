// Memory that schan owns and that may hold plaintext, private keys or
// passwords is wiped before it is freed. The core calls a release observer
// after the wipe and before the free, so these tests read each block while
// it is still allocated (no read of freed memory, which ASan would flag).
#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/byte_queue.h"
#include "core/secure_memory.h"
#include "schan/schan.h"
#include "support/peers.h"

namespace {

struct Releases {
    std::size_t blocks = 0;
    std::size_t bytes = 0;
    std::size_t largest = 0;
    std::size_t nonzero_blocks = 0;
};

Releases g_releases;

void record_release(const std::byte* data, std::size_t length)
{
    ++g_releases.blocks;
    g_releases.bytes += length;
    g_releases.largest = std::max(g_releases.largest, length);
    for (std::size_t i = 0; i < length; ++i) {
        if (data[i] != std::byte{0}) {
            ++g_releases.nonzero_blocks;
            return;
        }
    }
}

// Installs the observer for one test and removes it afterwards.
class SecretWipe : public ::testing::Test {
protected:
    void SetUp() override
    {
        g_releases = Releases{};
        schan::set_release_observer(record_release);
    }
    void TearDown() override { schan::set_release_observer(nullptr); }
};

TEST_F(SecretWipe, ByteQueueWipesOnGrowthAndRelease)
{
    {
        schan::ByteQueue queue;
        const std::vector<std::byte> secret(1000, std::byte{0xA5});
        // Every append past the capacity moves the bytes to a larger block
        // and releases the old one.
        for (int i = 0; i < 40; ++i)
            queue.append(secret);
        queue.consume(5000);
        EXPECT_GT(g_releases.blocks, 0u) << "the queue never grew";
    }

    EXPECT_GE(g_releases.bytes, 40000u);
    EXPECT_EQ(g_releases.nonzero_blocks, 0u);
}

TEST_F(SecretWipe, SessionQueuesWipedOnFree)
{
    schan_config* config = nullptr;
    schan_session* session = nullptr;
    ASSERT_EQ(schan_config_new(&config), SCHAN_OK);
    ASSERT_EQ(schan_client_new(config, "localhost", &session), SCHAN_OK);
    schan_config_free(config);
    ASSERT_EQ(schan_step(session), SCHAN_HAVE_OUTPUT);  // the ClientHello sits in the output queue
    const std::size_t queued = schan_output_size(session);

    g_releases = Releases{};
    schan_session_free(session);

    EXPECT_GE(g_releases.largest, queued) << "the output queue was not released through the wiping allocator";
    EXPECT_EQ(g_releases.nonzero_blocks, 0u);
}

TEST_F(SecretWipe, KeyFileCopiesWiped)
{
    const std::string key = schan::test::Pki::read("client.key");
    schan_config* config = nullptr;
    ASSERT_EQ(schan_config_new(&config), SCHAN_OK);

    const schan_status status = schan_config_load_cert_chain_file(
        config, schan::test::Pki::path("client.pem").c_str(), schan::test::Pki::path("client.key").c_str(),
        nullptr);

    ASSERT_EQ(status, SCHAN_OK) << schan_config_last_error(config);
    EXPECT_GE(g_releases.largest, key.size()) << "the key file's copy was not released through the wiping allocator";
    EXPECT_EQ(g_releases.nonzero_blocks, 0u);
    schan_config_free(config);
}

TEST_F(SecretWipe, Pkcs12FileCopyWiped)
{
    const std::string pkcs12 = schan::test::Pki::read("client.p12");
    schan_config* config = nullptr;
    ASSERT_EQ(schan_config_new(&config), SCHAN_OK);

    const schan_status status =
        schan_config_load_pkcs12_file(config, schan::test::Pki::path("client.p12").c_str(), "secret");

    // A backend may reject OpenSSL 3's default PKCS#12 encryption, but the
    // copy of the file is released either way.
    EXPECT_TRUE(status == SCHAN_OK || status < 0) << schan_status_name(status);
    EXPECT_GE(g_releases.largest, pkcs12.size());
    EXPECT_EQ(g_releases.nonzero_blocks, 0u);
    schan_config_free(config);
}

TEST(SecureWipe, ZeroesEveryByte)
{
    std::vector<unsigned char> buffer(333, 0x5A);
    schan::secure_wipe(buffer.data(), buffer.size());
    for (unsigned char byte : buffer)
        ASSERT_EQ(byte, 0);
    schan::secure_wipe(nullptr, 0);
}

} // namespace
