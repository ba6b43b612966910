// Bounded buffering against a hostile or slow peer, measured through the
// core's own buffer counters (schan::Session::buffer_usage) rather than
// assumed: a stream of 1-byte records, partial records that never complete,
// maximum-size records to a caller that does not read, and a handshake
// message that announces a huge length. Each case also checks that the
// session ends with a status instead of waiting forever.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "core/record.h"
#include "core/session.h"
#include "schan/schan.h"
#include "session_pair.h"

namespace schan::test {
namespace {

// The maximum size of the output queue after schan_encrypt: it stops
// queueing at kOutputLimit, but the record that crosses it is queued whole.
constexpr std::size_t kOutputBound = kOutputLimit + kMaxRecordSize;

struct Peak {
    std::size_t input = 0;
    std::size_t output = 0;
    std::size_t plaintext = 0;
    std::size_t storage = 0;

    void update(const schan_session* session)
    {
        const BufferUsage usage = buffer_usage(session);
        input = std::max(input, usage.input);
        output = std::max(output, usage.output);
        plaintext = std::max(plaintext, usage.plaintext);
        storage = std::max(storage, usage.storage);
    }
};

class Bounds : public ::testing::TestWithParam<schan_tls_version> {
protected:
    void SetUp() override
    {
        ASSERT_EQ(schan_config_new(&client_config_), SCHAN_OK);
        ASSERT_EQ(schan_config_new(&server_config_), SCHAN_OK);
        configure_pair_client(client_config_);
        configure_pair_server(server_config_);
        ASSERT_EQ(schan_config_set_versions(client_config_, GetParam(), GetParam()), SCHAN_OK);
        pair_ = std::make_unique<SessionPair>(client_config_, server_config_);
        ASSERT_EQ(pair_->handshake(), "");
        // Let the client process what followed the handshake (TLS 1.3 tickets).
        ASSERT_EQ(pair_->send(false, "x"), "");
    }

    void TearDown() override
    {
        pair_.reset();
        schan_config_free(client_config_);
        schan_config_free(server_config_);
    }

    schan_config* client_config_ = nullptr;
    schan_config* server_config_ = nullptr;
    std::unique_ptr<SessionPair> pair_;
};

std::string version_name(const ::testing::TestParamInfo<schan_tls_version>& version)
{
    return version.param == SCHAN_TLS_1_2 ? "tls12" : "tls13";
}

INSTANTIATE_TEST_SUITE_P(Versions, Bounds, ::testing::Values(SCHAN_TLS_1_2, SCHAN_TLS_1_3), version_name);

// 100 000 records of one byte each, read as they arrive: the client's
// storage stops growing after the first records.
TEST_P(Bounds, OneByteRecordsRead)
{
    constexpr int kRecords = 100000;
    schan_session* server = pair_->server();
    schan_session* client = pair_->client();
    Peak peak;
    std::size_t storage_after_warm_up = 0;
    std::size_t received = 0;
    std::uint8_t buffer[4096];

    for (int i = 0; i < kRecords; ++i) {
        const std::uint8_t byte = static_cast<std::uint8_t>(i);
        std::size_t consumed = 0;
        ASSERT_EQ(schan_encrypt(server, &byte, 1, &consumed), SCHAN_HAVE_OUTPUT);
        pair_->to_client.collect(server);
        if (i % 64 != 63)
            continue;

        while (!pair_->to_client.bytes.empty()) {
            pair_->to_client.feed(client);
            peak.update(client);
            std::size_t written = 0;
            while (schan_decrypt(client, buffer, sizeof buffer, &written) == SCHAN_OK)
                received += written;
        }
        if (i == 1023)
            storage_after_warm_up = buffer_usage(client).storage;
    }

    EXPECT_EQ(received, static_cast<std::size_t>(kRecords / 64 * 64));
    EXPECT_LE(peak.input, kInputCapacity);
    EXPECT_EQ(buffer_usage(client).storage, storage_after_warm_up) << "the client's storage kept growing";
    std::cout << "1-byte records read: peak input " << peak.input << " bytes, plaintext " << peak.plaintext
              << ", storage " << peak.storage << "\n";
    EXPECT_EQ(pair_->close(), "");
}

// 1-byte records to a client that feeds but never decrypts: schan_feed
// takes nothing more once the input queue is full.
TEST_P(Bounds, OneByteRecordsNotRead)
{
    schan_session* server = pair_->server();
    schan_session* client = pair_->client();
    std::size_t fed = 0;

    for (int i = 0; i < 20000; ++i) {
        const std::uint8_t byte = 'a';
        std::size_t consumed = 0;
        ASSERT_EQ(schan_encrypt(server, &byte, 1, &consumed), SCHAN_HAVE_OUTPUT);
        pair_->to_client.collect(server);
        fed += pair_->to_client.feed(client);
    }

    const BufferUsage usage = buffer_usage(client);
    EXPECT_EQ(fed, usage.input);
    EXPECT_LE(usage.input, kInputCapacity);
    EXPECT_GT(usage.input, kInputCapacity - 64) << "the input queue should be full";
    EXPECT_GT(pair_->to_client.bytes.size(), 0u);
    std::cout << "1-byte records not read: input queue " << usage.input << " of " << kInputCapacity << " bytes\n";

    // Reading resumes the flow; the session then closes normally.
    std::string received;
    std::uint8_t buffer[4096];
    while (received.size() < 20000) {
        std::size_t written = 0;
        const schan_status status = schan_decrypt(client, buffer, sizeof buffer, &written);
        ASSERT_TRUE(status == SCHAN_OK || status == SCHAN_NEED_INPUT) << schan_status_name(status);
        received.append(reinterpret_cast<const char*>(buffer), written);
        pair_->to_client.feed(client);
    }
    EXPECT_EQ(received, std::string(20000, 'a'));
    EXPECT_EQ(pair_->close(), "");
}

// A record header announcing the maximum length, followed by all but its
// last byte one at a time: the record never completes, the client keeps at
// most that one record, and the end of the stream gives SCHAN_E_TRUNCATED.
TEST_P(Bounds, PartialRecordNeverCompletes)
{
    schan_session* client = pair_->client();
    std::uint8_t header[kRecordHeaderSize] = {23, 3, 3, static_cast<std::uint8_t>(kMaxCiphertextLength >> 8),
                                              static_cast<std::uint8_t>(kMaxCiphertextLength & 0xFF)};
    std::size_t consumed = 0;
    ASSERT_EQ(schan_feed(client, header, sizeof header, &consumed), SCHAN_OK);
    ASSERT_EQ(consumed, sizeof header);

    std::uint8_t buffer[64];
    std::size_t written = 0;
    const std::uint8_t byte = 0x42;
    for (std::size_t i = 0; i + 1 < kMaxCiphertextLength; ++i) {
        ASSERT_EQ(schan_feed(client, &byte, 1, &consumed), SCHAN_OK);
        ASSERT_EQ(consumed, 1u);
        if (i % 1024 == 0) {
            ASSERT_EQ(schan_decrypt(client, buffer, sizeof buffer, &written), SCHAN_NEED_INPUT);
        }
    }

    EXPECT_EQ(buffer_usage(client).input, kMaxRecordSize - 1);
    EXPECT_EQ(schan_decrypt(client, buffer, sizeof buffer, &written), SCHAN_NEED_INPUT);
    EXPECT_EQ(schan_feed_eof(client), SCHAN_OK);
    EXPECT_EQ(schan_decrypt(client, buffer, sizeof buffer, &written), SCHAN_E_TRUNCATED);
    EXPECT_EQ(schan_get_state(client), SCHAN_STATE_FAILED);
}

// An endless stream of bytes after a valid record header: once the record
// is complete it fails authentication, so the session fails within one
// record instead of buffering more.
TEST_P(Bounds, EndlessGarbageFailsWithinOneRecord)
{
    schan_session* client = pair_->client();
    const std::string garbage(4096, '\x17');  // 23 23 23 ...: type, version 23.23 after the first record
    std::uint8_t header[kRecordHeaderSize] = {23, 3, 3, 0x40, 0x00};
    std::size_t consumed = 0;
    ASSERT_EQ(schan_feed(client, header, sizeof header, &consumed), SCHAN_OK);

    std::uint8_t buffer[64];
    std::size_t written = 0;
    std::size_t fed = sizeof header;
    schan_status status = SCHAN_NEED_INPUT;
    while (status == SCHAN_NEED_INPUT && fed < 1024 * 1024) {
        const schan_status fed_status =
            schan_feed(client, reinterpret_cast<const std::uint8_t*>(garbage.data()), garbage.size(), &consumed);
        fed += consumed;
        EXPECT_LE(buffer_usage(client).input, kInputCapacity);
        status = fed_status < 0 ? fed_status : schan_decrypt(client, buffer, sizeof buffer, &written);
    }

    EXPECT_EQ(status, SCHAN_E_PROTOCOL) << schan_last_error(client);
    EXPECT_LE(fed, kInputCapacity + garbage.size());
    EXPECT_EQ(schan_get_state(client), SCHAN_STATE_FAILED);
}

// Maximum-size records to a peer that does not take its output and to a
// peer that does not read: both queues stop at their bounds.
TEST_P(Bounds, MaximumRecordsNeverRead)
{
    schan_session* server = pair_->server();
    schan_session* client = pair_->client();
    const std::string chunk(kMaxPlaintextFragment, 'm');

    // The server's output is never taken.
    std::size_t accepted = 0;
    for (int i = 0; i < 64; ++i) {
        std::size_t consumed = 0;
        const schan_status status = schan_encrypt(
            server, reinterpret_cast<const std::uint8_t*>(chunk.data()), chunk.size(), &consumed);
        ASSERT_EQ(status, SCHAN_HAVE_OUTPUT);
        accepted += consumed;
    }
    const std::size_t queued = buffer_usage(server).output;
    EXPECT_LE(queued, kOutputBound);
    EXPECT_LT(accepted, 64 * chunk.size()) << "schan_encrypt kept taking plaintext";
    std::cout << "maximum-size records not sent: output queue " << queued << " bytes for " << accepted
              << " bytes of plaintext (bound " << kOutputBound << ")\n";

    // The client is fed but never decrypts.
    pair_->to_client.collect(server);
    std::size_t fed = 0;
    for (int i = 0; i < 16; ++i)
        fed += pair_->to_client.feed(client);
    EXPECT_LE(buffer_usage(client).input, kInputCapacity);
    EXPECT_EQ(fed, buffer_usage(client).input);

    // Reading with a 1-byte buffer keeps at most the decrypted input.
    Peak peak;
    std::size_t received = 0;
    std::uint8_t byte = 0;
    std::size_t written = 0;
    while (received < accepted) {
        const schan_status status = schan_decrypt(client, &byte, 1, &written);
        peak.update(client);
        if (status == SCHAN_NEED_INPUT) {
            ASSERT_GT(pair_->to_client.feed(client), 0u) << "no more input, " << received << " bytes read";
            continue;
        }
        ASSERT_EQ(status, SCHAN_OK) << schan_last_error(client);
        received += written;
    }
    EXPECT_LE(peak.plaintext, kInputCapacity);
    EXPECT_LE(peak.input, kInputCapacity);
    std::cout << "maximum-size records read 1 byte at a time: peak input " << peak.input << ", plaintext "
              << peak.plaintext << ", storage " << peak.storage << " bytes\n";
    EXPECT_EQ(pair_->close(), "");
}

// A handshake record of kMaxPlaintextFragment zero bytes.
std::string handshake_record()
{
    std::string record(kRecordHeaderSize + kMaxPlaintextFragment, '\0');
    record[0] = 22;
    record[1] = 3;
    record[2] = 3;
    record[3] = static_cast<char>(kMaxPlaintextFragment >> 8);
    record[4] = static_cast<char>(kMaxPlaintextFragment & 0xFF);
    return record;
}

struct Outcome {
    schan_status status = SCHAN_NEED_INPUT;
    std::size_t fed = 0;
    std::size_t peak_input = 0;
};

// Feeds a handshake message of `message_type` whose header announces
// 16 MiB - 1 bytes, then up to 16 MiB more of its body, stepping after each
// record until the session fails.
Outcome feed_huge_message(schan_session* session, char message_type)
{
    const std::string record = handshake_record();
    std::string first = record;
    first[5] = message_type;
    first[6] = first[7] = first[8] = '\xFF';
    first[9] = 3;  // legacy_version 3.3
    first[10] = 3;

    Outcome outcome;
    for (int i = 0; i < 1024 && outcome.status >= 0; ++i) {
        const std::string& bytes = i == 0 ? first : record;
        std::size_t consumed = 0;
        schan_feed(session, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), &consumed);
        outcome.fed += consumed;
        outcome.peak_input = std::max(outcome.peak_input, buffer_usage(session).input);
        outcome.status = schan_step(session);
    }
    return outcome;
}

// A ClientHello announcing 16 MiB - 1 bytes: the server fails with an error
// status and its input never exceeds the bound.
TEST(HandshakeBounds, HugeClientHelloLengthFails)
{
    schan_config* config = nullptr;
    ASSERT_EQ(schan_config_new(&config), SCHAN_OK);
    configure_pair_server(config);
    schan_session* server = nullptr;
    ASSERT_EQ(schan_server_new(config, &server), SCHAN_OK);
    schan_config_free(config);

    const Outcome outcome = feed_huge_message(server, 1);  // client_hello

    EXPECT_LT(outcome.status, 0) << "the server took " << outcome.fed << " bytes without failing";
    EXPECT_EQ(schan_get_state(server), SCHAN_STATE_FAILED);
    EXPECT_LE(outcome.peak_input, kInputCapacity);
    std::cout << "huge ClientHello length: " << schan_status_name(outcome.status) << " after " << outcome.fed
              << " bytes: " << schan_last_error(server) << "\n";
    schan_session_free(server);
}

// The same for a client that receives a ServerHello announcing 16 MiB - 1.
TEST(HandshakeBounds, HugeServerHelloLengthFails)
{
    schan_config* config = nullptr;
    ASSERT_EQ(schan_config_new(&config), SCHAN_OK);
    configure_pair_client(config);
    schan_session* client = nullptr;
    ASSERT_EQ(schan_client_new(config, "localhost", &client), SCHAN_OK);
    schan_config_free(config);
    ASSERT_EQ(schan_step(client), SCHAN_HAVE_OUTPUT);
    Inbound discard;
    discard.collect(client);

    const Outcome outcome = feed_huge_message(client, 2);  // server_hello

    EXPECT_LT(outcome.status, 0) << "the client took " << outcome.fed << " bytes without failing";
    EXPECT_EQ(schan_get_state(client), SCHAN_STATE_FAILED);
    EXPECT_LE(outcome.peak_input, kInputCapacity);
    std::cout << "huge ServerHello length: " << schan_status_name(outcome.status) << " after " << outcome.fed
              << " bytes: " << schan_last_error(client) << "\n";
    schan_session_free(client);
}

} // namespace
} // namespace schan::test
