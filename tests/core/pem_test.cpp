#include <gtest/gtest.h>

#include "core/error.h"
#include "core/pem.h"

namespace {

// A DER SEQUENCE of 3 bytes (30 03 02 01 05), base64 "MAMCAQU=".
const char* const kSmallCertificate = "-----BEGIN CERTIFICATE-----\nMAMCAQU=\n-----END CERTIFICATE-----\n";

schan_status status_of(std::string_view pem)
{
    try {
        schan::parse_pem_certificates(pem);
        return SCHAN_OK;
    } catch (const schan::Error& error) {
        return error.status();
    }
}

} // namespace

TEST(PemParsing, DecodesEveryBlockInOrder)
{
    const std::string two = std::string("text before\n") + kSmallCertificate + "between\n" + kSmallCertificate;
    const auto certificates = schan::parse_pem_certificates(two);

    ASSERT_EQ(certificates.size(), 2u);
    EXPECT_EQ(certificates[0].size(), 5u);
    EXPECT_EQ(certificates[0][0], std::byte{0x30});
    EXPECT_EQ(certificates[0][4], std::byte{0x05});
}

TEST(PemParsing, RejectsMissingBlock)
{
    EXPECT_EQ(status_of("no certificate here"), SCHAN_E_BAD_FORMAT);
    EXPECT_EQ(status_of(""), SCHAN_E_BAD_FORMAT);
}

TEST(PemParsing, RejectsUnclosedBlock)
{
    EXPECT_EQ(status_of("-----BEGIN CERTIFICATE-----\nMAMCAQU=\n"), SCHAN_E_BAD_FORMAT);
}

TEST(PemParsing, RejectsInvalidBase64)
{
    EXPECT_EQ(status_of("-----BEGIN CERTIFICATE-----\nMA*CAQU=\n-----END CERTIFICATE-----\n"), SCHAN_E_BAD_FORMAT);
}

TEST(PemParsing, RejectsContentThatIsNotDer)
{
    // "aGVsbG8=" is "hello".
    EXPECT_EQ(status_of("-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n"), SCHAN_E_BAD_FORMAT);
}

TEST(PemParsing, MissingFileNamesThePath)
{
    try {
        schan::read_file("/nonexistent/schan-test.pem");
        FAIL() << "a missing file was read";
    } catch (const schan::Error& error) {
        EXPECT_EQ(error.status(), SCHAN_E_FILE_NOT_FOUND);
        EXPECT_NE(std::string(error.what()).find("/nonexistent/schan-test.pem"), std::string::npos);
    }
}
