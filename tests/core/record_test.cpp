#include <gtest/gtest.h>

#include <vector>

#include "core/error.h"
#include "core/record.h"

namespace {

std::vector<std::byte> record(std::uint8_t type, std::size_t length)
{
    std::vector<std::byte> out{std::byte{type}, std::byte{3}, std::byte{3},
                               std::byte{static_cast<std::uint8_t>(length >> 8)},
                               std::byte{static_cast<std::uint8_t>(length & 0xFF)}};
    out.resize(5 + length, std::byte{0xAB});
    return out;
}

std::vector<std::byte> concat(std::initializer_list<std::vector<std::byte>> parts)
{
    std::vector<std::byte> out;
    for (const auto& part : parts)
        out.insert(out.end(), part.begin(), part.end());
    return out;
}

} // namespace

TEST(RecordFraming, HeaderNeedsFiveBytes)
{
    const auto bytes = record(23, 10);
    EXPECT_FALSE(schan::parse_record_header(gsl::span(bytes).first(4)).has_value());

    const auto header = schan::parse_record_header(bytes);
    ASSERT_TRUE(header.has_value());
    EXPECT_EQ(header->type, schan::ContentType::application_data);
    EXPECT_EQ(header->version, 0x0303);
    EXPECT_EQ(header->length, 10);
}

TEST(RecordFraming, CountsOnlyCompleteRecords)
{
    const auto bytes = concat({record(22, 100), record(23, 50), record(23, 30)});
    const std::size_t whole = 105 + 55;

    EXPECT_EQ(schan::complete_records_length(bytes), bytes.size());
    EXPECT_EQ(schan::complete_records_length(gsl::span(bytes).first(whole + 34)), whole);
    EXPECT_EQ(schan::complete_records_length(gsl::span(bytes).first(whole + 3)), whole);
    EXPECT_EQ(schan::complete_records_length(bytes, 1), 105u);
    EXPECT_EQ(schan::complete_records_length(gsl::span(bytes).first(104)), 0u);
}

TEST(RecordFraming, AcceptsEmptyAndMaximumRecords)
{
    const auto bytes = concat({record(23, 0), record(23, schan::kMaxCiphertextLength)});
    EXPECT_EQ(schan::complete_records_length(bytes), bytes.size());
}

TEST(RecordFraming, RejectsOversizedRecord)
{
    const auto bytes = record(23, schan::kMaxCiphertextLength + 1);
    try {
        schan::complete_records_length(bytes);
        FAIL() << "an oversized record was accepted";
    } catch (const schan::Error& error) {
        EXPECT_EQ(error.status(), SCHAN_E_PROTOCOL);
    }
}

TEST(RecordFraming, RejectsNonTlsBytes)
{
    const std::string http = "GET / HTTP/1.1\r\n";
    const auto* data = reinterpret_cast<const std::byte*>(http.data());
    try {
        schan::parse_record_header(gsl::span(data, http.size()));
        FAIL() << "HTTP text was accepted as a record";
    } catch (const schan::Error& error) {
        EXPECT_EQ(error.status(), SCHAN_E_PROTOCOL);
        EXPECT_NE(std::string(error.what()).find("content type"), std::string::npos);
    }
}
