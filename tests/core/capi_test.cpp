// Argument and state checks of the C ABI that need no peer.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "schan/schan.h"

namespace {

// An out-of-range value as an FFI caller might pass it.
template <typename Enum>
Enum out_of_range(int value)
{
    volatile int raw = value;
    return static_cast<Enum>(raw);
}

} // namespace

TEST(CApi, VersionsAgree)
{
    EXPECT_EQ(schan_abi_version(), static_cast<uint32_t>(SCHAN_ABI_VERSION));
    EXPECT_STREQ(schan_version(), SCHAN_VERSION_STRING);
    EXPECT_GT(std::strlen(schan_backend_name()), 0u);
}

TEST(CApi, StatusNamesAreDistinct)
{
    EXPECT_STREQ(schan_status_name(SCHAN_E_CERT_EXPIRED), "SCHAN_E_CERT_EXPIRED");
    EXPECT_STREQ(schan_status_name(SCHAN_NEED_INPUT), "SCHAN_NEED_INPUT");
    EXPECT_STREQ(schan_status_name(out_of_range<schan_status>(-999)), "SCHAN_E_UNKNOWN_STATUS");
    for (int a = -21; a <= 3; ++a)
        for (int b = a + 1; b <= 3; ++b)
            EXPECT_STRNE(schan_status_name(static_cast<schan_status>(a)), schan_status_name(static_cast<schan_status>(b)));
}

TEST(CApi, NullArgumentsAreRejected)
{
    size_t count = 0;
    uint8_t buffer[16];
    EXPECT_EQ(schan_config_new(nullptr), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_config_add_alpn(nullptr, "h2"), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_client_new(nullptr, "localhost", nullptr), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_feed(nullptr, buffer, sizeof buffer, &count), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_step(nullptr), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_decrypt(nullptr, buffer, sizeof buffer, &count), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_encrypt(nullptr, buffer, sizeof buffer, &count), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_shutdown(nullptr), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_get_state(nullptr), SCHAN_STATE_FAILED);
    EXPECT_STREQ(schan_last_error(nullptr), "");
    schan_session_free(nullptr);
    schan_config_free(nullptr);
}

TEST(CApi, ConfigRejectsBadValues)
{
    schan_config* config = nullptr;
    ASSERT_EQ(schan_config_new(&config), SCHAN_OK);

    EXPECT_EQ(schan_config_set_versions(config, SCHAN_TLS_1_3, SCHAN_TLS_1_2), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_NE(std::string(schan_config_last_error(config)).find("minimum"), std::string::npos);
    EXPECT_EQ(schan_config_set_versions(config, out_of_range<schan_tls_version>(0x0301), SCHAN_TLS_DEFAULT),
              SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_config_add_alpn(config, ""), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_config_add_alpn(config, std::string(256, 'a').c_str()), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_config_set_verify_mode(config, out_of_range<schan_verify_mode>(9)), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_config_load_ca_file(config, "/nonexistent/ca.pem"), SCHAN_E_FILE_NOT_FOUND);
    EXPECT_NE(std::string(schan_config_last_error(config)).find("/nonexistent/ca.pem"), std::string::npos);
    EXPECT_EQ(schan_config_load_ca_pem(config, "garbage", 7), SCHAN_E_BAD_FORMAT);

    EXPECT_EQ(schan_config_set_versions(config, SCHAN_TLS_1_2, SCHAN_TLS_1_3), SCHAN_OK);
    EXPECT_EQ(schan_config_add_alpn(config, "h2"), SCHAN_OK);
    EXPECT_STREQ(schan_config_last_error(config), "");
    schan_config_free(config);
}

TEST(CApi, CallsBeforeTheHandshakeAreInvalidState)
{
    schan_config* config = nullptr;
    ASSERT_EQ(schan_config_new(&config), SCHAN_OK);
    schan_session* session = nullptr;
    const schan_status created = schan_client_new(config, "localhost", &session);
    schan_config_free(config);
    if (created == SCHAN_E_UNSUPPORTED)
        GTEST_SKIP() << "this backend has no client yet";
    ASSERT_EQ(created, SCHAN_OK);

    uint8_t buffer[16] = {};
    size_t count = 99;
    EXPECT_EQ(schan_encrypt(session, buffer, sizeof buffer, &count), SCHAN_E_INVALID_STATE);
    EXPECT_EQ(count, 0u);
    EXPECT_EQ(schan_decrypt(session, buffer, sizeof buffer, &count), SCHAN_E_INVALID_STATE);
    EXPECT_EQ(schan_shutdown(session), SCHAN_E_INVALID_STATE);
    EXPECT_NE(std::string(schan_last_error(session)), "");
    EXPECT_EQ(schan_decrypt(session, nullptr, 4, &count), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_feed(session, nullptr, 4, &count), SCHAN_E_INVALID_ARGUMENT);

    const char* text = nullptr;
    EXPECT_EQ(schan_get_cipher(session, &text), SCHAN_E_INVALID_STATE);
    EXPECT_EQ(schan_get_state(session), SCHAN_STATE_HANDSHAKE);

    // The session is still usable after rejected calls.
    EXPECT_EQ(schan_feed(session, buffer, 0, &count), SCHAN_OK);
    schan_session_free(session);
}

TEST(CApi, FeedStopsAtTheInputBound)
{
    schan_config* config = nullptr;
    ASSERT_EQ(schan_config_new(&config), SCHAN_OK);
    schan_session* session = nullptr;
    const schan_status created = schan_client_new(config, "localhost", &session);
    schan_config_free(config);
    if (created == SCHAN_E_UNSUPPORTED)
        GTEST_SKIP() << "this backend has no client yet";
    ASSERT_EQ(created, SCHAN_OK);

    std::string big(1 << 20, '\x16');
    size_t consumed = 0;
    EXPECT_EQ(schan_feed(session, reinterpret_cast<const uint8_t*>(big.data()), big.size(), &consumed), SCHAN_OK);
    EXPECT_GT(consumed, 16384u + 2048u);
    EXPECT_LT(consumed, 64u * 1024u);
    schan_session_free(session);
}
