#include <gtest/gtest.h>

#include <vector>

#include "core/server_hello.h"

namespace {

using Bytes = std::vector<std::uint8_t>;

// push_back instead of insert(initializer_list), which trips a false
// -Warray-bounds in GCC 12.
void append(Bytes& out, std::initializer_list<std::uint8_t> values)
{
    for (auto value : values)
        out.push_back(value);
}

// Builds a ServerHello handshake message (RFC 8446 section 4.1.3).
Bytes server_hello(std::uint16_t suite, bool supported_versions_13)
{
    Bytes body = {0x03, 0x03};
    body.insert(body.end(), 32, 0x11);  // random
    body.push_back(0);                  // empty session id
    body.push_back(static_cast<std::uint8_t>(suite >> 8));
    body.push_back(static_cast<std::uint8_t>(suite & 0xFF));
    body.push_back(0);  // compression
    if (supported_versions_13) {
        append(body, {0x00, 0x06, 0x00, 0x2B, 0x00, 0x02, 0x03, 0x04});
    } else {
        append(body, {0x00, 0x00});
    }
    Bytes message;
    append(message, {0x02, 0x00, static_cast<std::uint8_t>(body.size() >> 8), static_cast<std::uint8_t>(body.size())});
    message.insert(message.end(), body.begin(), body.end());
    return message;
}

// Wraps `payload` in records of at most `fragment` bytes.
Bytes records(std::uint8_t type, const Bytes& payload, std::size_t fragment)
{
    Bytes out;
    for (std::size_t offset = 0; offset < payload.size(); offset += fragment) {
        const std::size_t length = std::min(fragment, payload.size() - offset);
        append(out, {type, 0x03, 0x03, static_cast<std::uint8_t>(length >> 8),
                     static_cast<std::uint8_t>(length & 0xFF)});
        out.insert(out.end(), payload.begin() + static_cast<std::ptrdiff_t>(offset),
                   payload.begin() + static_cast<std::ptrdiff_t>(offset + length));
    }
    return out;
}

gsl::span<const std::byte> as_bytes(const Bytes& bytes)
{
    return gsl::span(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size());
}

} // namespace

TEST(ServerHelloScanner, ReadsTls12Suite)
{
    schan::ServerHelloScanner scanner;
    const auto input = records(22, server_hello(0xC02F, false), 16384);
    scanner.scan(as_bytes(input));

    ASSERT_TRUE(scanner.result().has_value());
    EXPECT_EQ(scanner.result()->cipher_suite, 0xC02F);
    EXPECT_EQ(scanner.result()->version, 0x0303);
    EXPECT_STREQ(schan::cipher_suite_name(0xC02F), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
}

TEST(ServerHelloScanner, ReadsSupportedVersions)
{
    schan::ServerHelloScanner scanner;
    const auto input = records(22, server_hello(0x1301, true), 16384);
    scanner.scan(as_bytes(input));

    ASSERT_TRUE(scanner.result().has_value());
    EXPECT_EQ(scanner.result()->version, 0x0304);
    EXPECT_STREQ(schan::cipher_suite_name(0x1301), "TLS_AES_128_GCM_SHA256");
}

TEST(ServerHelloScanner, JoinsMessageSplitAcrossRecordsAndCalls)
{
    schan::ServerHelloScanner scanner;
    const auto input = records(22, server_hello(0xC030, false), 7);
    std::size_t offset = 0;
    while (offset < input.size()) {
        const std::size_t record_size = 5 + input[offset + 4];
        scanner.scan(as_bytes(Bytes(input.begin() + static_cast<std::ptrdiff_t>(offset),
                                    input.begin() + static_cast<std::ptrdiff_t>(offset + record_size))));
        offset += record_size;
    }

    ASSERT_TRUE(scanner.result().has_value());
    EXPECT_EQ(scanner.result()->cipher_suite, 0xC030);
}

TEST(ServerHelloScanner, StopsAtProtectedRecords)
{
    schan::ServerHelloScanner scanner;
    const auto input = records(23, Bytes(40, 0x02), 16384);
    scanner.scan(as_bytes(input));
    EXPECT_FALSE(scanner.result().has_value());
}

TEST(ServerHelloScanner, UnknownSuiteHasNoName)
{
    EXPECT_EQ(schan::cipher_suite_name(0xFFFF), nullptr);
}
