// schan's client against schan's server in memory, over the OpenSSL backend:
// bulk data with random splits and merges, ALPN selection and client
// certificates.
#include <cstdint>
#include <string>
#include <tuple>

#include <gtest/gtest.h>

#include "memory_link.h"
#include "schan/schan.h"
#include "support/peers.h"

namespace schan::test {
namespace {

constexpr std::size_t kExchangeLength = 4 * 1024 * 1024;

schan_session* new_client(const ConfigHandle& config)
{
    schan_session* session = nullptr;
    EXPECT_EQ(schan_client_new(config.get(), "localhost", &session), SCHAN_OK);
    return session;
}

schan_session* new_server(const ConfigHandle& config)
{
    schan_session* session = nullptr;
    EXPECT_EQ(schan_server_new(config.get(), &session), SCHAN_OK) << config.error();
    return session;
}

class MemoryPairExchange : public ::testing::TestWithParam<std::tuple<schan_tls_version, std::uint32_t>> {};

TEST_P(MemoryPairExchange, FourMebibytesBothWays)
{
    const auto [version, seed] = GetParam();
    ConfigHandle client_config;
    ConfigHandle server_config;
    configure_test_client(client_config.get());
    configure_test_server(server_config.get());
    ASSERT_EQ(schan_config_set_versions(client_config.get(), version, version), SCHAN_OK);

    MemoryLink link(new_client(client_config), new_server(server_config), seed);
    ASSERT_TRUE(link.handshake()) << "client " << schan_status_name(link.client_status()) << ": "
                                  << schan_last_error(link.client()) << "; server "
                                  << schan_status_name(link.server_status()) << ": " << schan_last_error(link.server());

    schan_tls_version client_version = SCHAN_TLS_DEFAULT;
    schan_tls_version server_version = SCHAN_TLS_DEFAULT;
    ASSERT_EQ(schan_get_protocol(link.client(), &client_version), SCHAN_OK);
    ASSERT_EQ(schan_get_protocol(link.server(), &server_version), SCHAN_OK);
    EXPECT_EQ(client_version, version);
    EXPECT_EQ(server_version, version);

    EXPECT_EQ(link.exchange(kExchangeLength), "");
    EXPECT_EQ(link.close(), "");
}

INSTANTIATE_TEST_SUITE_P(Versions, MemoryPairExchange,
                         ::testing::Combine(::testing::Values(SCHAN_TLS_1_2, SCHAN_TLS_1_3),
                                            ::testing::Values(1u, 2u, 3u)));

TEST(MemoryPair, ServerWaitsForClientHello)
{
    ConfigHandle config;
    configure_test_server(config.get());
    schan_session* server = new_server(config);
    ASSERT_NE(server, nullptr);

    EXPECT_EQ(schan_step(server), SCHAN_NEED_INPUT);
    EXPECT_EQ(schan_output_size(server), 0u);
    EXPECT_EQ(schan_get_state(server), SCHAN_STATE_HANDSHAKE);
    schan_session_free(server);
}

TEST(MemoryPair, ServerWithoutCertificateRejected)
{
    ConfigHandle config;
    schan_session* server = nullptr;
    EXPECT_EQ(schan_server_new(config.get(), &server), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(server, nullptr);
}

TEST(MemoryPair, ServerPeerChainLeafFirst)
{
    ConfigHandle client_config;
    ConfigHandle server_config;
    configure_test_client(client_config.get());
    configure_test_server(server_config.get());
    MemoryLink link(new_client(client_config), new_server(server_config), 7);
    ASSERT_TRUE(link.handshake()) << schan_last_error(link.client());

    // The verified chain runs from the leaf through inter to root.
    std::size_t count = 0;
    ASSERT_EQ(schan_get_peer_cert_count(link.client(), &count), SCHAN_OK);
    ASSERT_EQ(count, 3u);
    const std::uint8_t* der = nullptr;
    std::size_t length = 0;
    ASSERT_EQ(schan_get_peer_cert(link.client(), 0, &der, &length), SCHAN_OK);
    EXPECT_EQ(std::vector<std::uint8_t>(der, der + length), pem_to_der(Pki::read("leaf.pem")));
    ASSERT_EQ(schan_get_peer_cert(link.client(), 2, &der, &length), SCHAN_OK);
    EXPECT_EQ(std::vector<std::uint8_t>(der, der + length), pem_to_der(Pki::read("root.pem")));
}

struct TrustCase {
    const char* name;
    schan_verify_mode mode;
    bool load_test_root;
    schan_status expected;
};

class MemoryPairTrust : public ::testing::TestWithParam<TrustCase> {};

// The system roots never include the test root generated for this run.
TEST_P(MemoryPairTrust, VerifyModes)
{
    const TrustCase& test_case = GetParam();
    ConfigHandle client_config;
    ConfigHandle server_config;
    configure_test_server(server_config.get());
    ASSERT_EQ(schan_config_set_verify_mode(client_config.get(), test_case.mode), SCHAN_OK);
    if (test_case.load_test_root) {
        ASSERT_EQ(schan_config_load_ca_file(client_config.get(), Pki::path("root.pem").c_str()), SCHAN_OK);
    }

    // Twice, because the first session of the process loads the system roots.
    for (int round = 0; round < 2; ++round) {
        MemoryLink link(new_client(client_config), new_server(server_config), 19);
        EXPECT_EQ(link.handshake(), test_case.expected == SCHAN_OK) << "round " << round;
        EXPECT_EQ(link.client_status(), test_case.expected) << "round " << round << ": " << schan_last_error(link.client());
    }
}

INSTANTIATE_TEST_SUITE_P(
    Modes, MemoryPairTrust,
    ::testing::Values(TrustCase{"SystemRejectsTestRoot", SCHAN_VERIFY_SYSTEM, true, SCHAN_E_CERT_UNTRUSTED},
                      TrustCase{"CustomAndSystemAccepts", SCHAN_VERIFY_CUSTOM_AND_SYSTEM, true, SCHAN_OK},
                      TrustCase{"CustomOnlyWithoutRoots", SCHAN_VERIFY_CUSTOM_ONLY, false, SCHAN_E_CERT_UNTRUSTED},
                      TrustCase{"CustomOnlyAccepts", SCHAN_VERIFY_CUSTOM_ONLY, true, SCHAN_OK},
                      TrustCase{"NoneAcceptsUntrusted", SCHAN_VERIFY_NONE, false, SCHAN_OK}),
    [](const ::testing::TestParamInfo<TrustCase>& param_info) { return std::string(param_info.param.name); });

struct NameCase {
    const char* name;
    const char* certificate;  // PKI file stem, sent with inter.pem
    const char* server_name;
    schan_status expected;
};

class MemoryPairName : public ::testing::TestWithParam<NameCase> {};

TEST_P(MemoryPairName, Checked)
{
    const NameCase& test_case = GetParam();
    ConfigHandle client_config;
    ConfigHandle server_config;
    configure_test_client(client_config.get());
    const std::string stem = test_case.certificate;
    const std::string chain = Pki::read(stem + ".pem") + Pki::read("inter.pem");
    const std::string key = Pki::read(stem + ".key");
    ASSERT_EQ(schan_config_load_cert_chain_pem(server_config.get(), chain.data(), chain.size(), key.data(),
                                               key.size(), nullptr),
              SCHAN_OK)
        << server_config.error();

    schan_session* client = nullptr;
    ASSERT_EQ(schan_client_new(client_config.get(), test_case.server_name, &client), SCHAN_OK);
    MemoryLink link(client, new_server(server_config), 23);
    EXPECT_EQ(link.handshake(), test_case.expected == SCHAN_OK);
    EXPECT_EQ(link.client_status(), test_case.expected) << schan_last_error(link.client());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MemoryPairName,
    ::testing::Values(NameCase{"Ipv6LiteralMatchesIpSan", "leaf-ip", "::1", SCHAN_OK},
                      NameCase{"Ipv4LiteralMatchesIpSan", "leaf-ip", "127.0.0.1", SCHAN_OK},
                      NameCase{"Ipv6LiteralAgainstDnsSan", "leaf", "::1", SCHAN_E_CERT_NAME_MISMATCH},
                      NameCase{"DnsNameAgainstIpSan", "leaf-ip", "localhost", SCHAN_E_CERT_NAME_MISMATCH},
                      NameCase{"OtherIpv6Literal", "leaf-ip", "::2", SCHAN_E_CERT_NAME_MISMATCH},
                      NameCase{"UppercaseDnsName", "leaf", "LOCALHOST", SCHAN_OK}),
    [](const ::testing::TestParamInfo<NameCase>& param_info) { return std::string(param_info.param.name); });

struct RevocationCase {
    const char* name;
    schan_revocation_mode mode;
    schan_status expected;
};

class MemoryPairRevocation : public ::testing::TestWithParam<RevocationCase> {};

// The test PKI publishes no CRLs, so only the strict mode fails.
TEST_P(MemoryPairRevocation, WithoutCrls)
{
    const RevocationCase& test_case = GetParam();
    ConfigHandle client_config;
    ConfigHandle server_config;
    configure_test_client(client_config.get());
    configure_test_server(server_config.get());
    ASSERT_EQ(schan_config_set_revocation_mode(client_config.get(), test_case.mode), SCHAN_OK);

    MemoryLink link(new_client(client_config), new_server(server_config), 17);
    const bool completed = link.handshake();
    EXPECT_EQ(completed, test_case.expected == SCHAN_OK);
    EXPECT_EQ(link.client_status(), test_case.expected) << schan_last_error(link.client());
    if (test_case.expected == SCHAN_E_REVOCATION_UNKNOWN) {
        EXPECT_NE(std::string(schan_last_error(link.client())).find("X509_V_ERR_UNABLE_TO_GET_CRL"), std::string::npos)
            << schan_last_error(link.client());
    }
}

INSTANTIATE_TEST_SUITE_P(
    Modes, MemoryPairRevocation,
    ::testing::Values(RevocationCase{"BestEffort", SCHAN_REVOCATION_BEST_EFFORT, SCHAN_OK},
                      RevocationCase{"Strict", SCHAN_REVOCATION_STRICT, SCHAN_E_REVOCATION_UNKNOWN},
                      RevocationCase{"Off", SCHAN_REVOCATION_OFF, SCHAN_OK}),
    [](const ::testing::TestParamInfo<RevocationCase>& param_info) { return std::string(param_info.param.name); });

struct AlpnCase {
    const char* name;
    std::vector<const char*> client;
    std::vector<const char*> server;
    const char* expected;  // nullptr: the handshake fails
};

class MemoryPairAlpn : public ::testing::TestWithParam<AlpnCase> {};

TEST_P(MemoryPairAlpn, ServerSelects)
{
    const AlpnCase& test_case = GetParam();
    ConfigHandle client_config;
    ConfigHandle server_config;
    configure_test_client(client_config.get());
    configure_test_server(server_config.get());
    for (const char* protocol : test_case.client)
        ASSERT_EQ(schan_config_add_alpn(client_config.get(), protocol), SCHAN_OK);
    for (const char* protocol : test_case.server)
        ASSERT_EQ(schan_config_add_alpn(server_config.get(), protocol), SCHAN_OK);

    MemoryLink link(new_client(client_config), new_server(server_config), 11);
    const bool completed = link.handshake();
    if (test_case.expected == nullptr) {
        ASSERT_FALSE(completed);
        EXPECT_EQ(link.server_status(), SCHAN_E_HANDSHAKE_FAILED) << schan_last_error(link.server());
        EXPECT_EQ(link.client_status(), SCHAN_E_ALERT_RECEIVED) << schan_last_error(link.client());
        EXPECT_NE(std::string(schan_last_error(link.client())).find("no application protocol"), std::string::npos)
            << schan_last_error(link.client());
        return;
    }

    ASSERT_TRUE(completed) << schan_last_error(link.client()) << " / " << schan_last_error(link.server());
    const char* client_alpn = nullptr;
    const char* server_alpn = nullptr;
    ASSERT_EQ(schan_get_alpn(link.client(), &client_alpn), SCHAN_OK);
    ASSERT_EQ(schan_get_alpn(link.server(), &server_alpn), SCHAN_OK);
    EXPECT_STREQ(client_alpn, test_case.expected);
    EXPECT_STREQ(server_alpn, test_case.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MemoryPairAlpn,
    ::testing::Values(AlpnCase{"ServerPreferenceWins", {"http/1.1", "h2"}, {"h2", "http/1.1"}, "h2"},
                      AlpnCase{"SingleOverlap", {"x-one", "x-two"}, {"x-three", "x-two"}, "x-two"},
                      AlpnCase{"ServerWithoutList", {"h2"}, {}, ""},
                      AlpnCase{"ClientWithoutList", {}, {"h2"}, ""},
                      AlpnCase{"NoOverlapFails", {"h2"}, {"http/1.1"}, nullptr}),
    [](const ::testing::TestParamInfo<AlpnCase>& param_info) { return std::string(param_info.param.name); });

struct ClientAuthCase {
    const char* name;
    schan_client_auth mode;
    const char* client_certificate;  // nullptr: the client has none
    schan_tls_version version;
    schan_status server_status;      // SCHAN_OK: the handshake completes
    std::size_t server_sees_chain;   // certificates the server reports
};

class MemoryPairClientAuth : public ::testing::TestWithParam<ClientAuthCase> {};

TEST_P(MemoryPairClientAuth, Handshake)
{
    const ClientAuthCase& test_case = GetParam();
    ConfigHandle client_config;
    ConfigHandle server_config;
    configure_test_client(client_config.get());
    configure_test_server(server_config.get());
    ASSERT_EQ(schan_config_set_versions(client_config.get(), test_case.version, test_case.version), SCHAN_OK);
    if (test_case.client_certificate != nullptr) {
        // The client sends its certificate followed by inter.pem.
        const std::string name = test_case.client_certificate;
        const std::string chain = Pki::read(name + ".pem") + Pki::read("inter.pem");
        const std::string key = Pki::read(name + ".key");
        ASSERT_EQ(schan_config_load_cert_chain_pem(client_config.get(), chain.data(), chain.size(), key.data(),
                                                   key.size(), nullptr),
                  SCHAN_OK)
            << client_config.error();
    }
    ASSERT_EQ(schan_config_set_client_auth(server_config.get(), test_case.mode), SCHAN_OK);
    ASSERT_EQ(schan_config_set_verify_mode(server_config.get(), SCHAN_VERIFY_CUSTOM_ONLY), SCHAN_OK);
    ASSERT_EQ(schan_config_load_ca_file(server_config.get(), Pki::path("root.pem").c_str()), SCHAN_OK);

    MemoryLink link(new_client(client_config), new_server(server_config), 13);
    const bool completed = link.handshake();
    if (test_case.server_status != SCHAN_OK) {
        ASSERT_FALSE(completed);
        EXPECT_EQ(link.server_status(), test_case.server_status) << schan_last_error(link.server());
        EXPECT_EQ(link.client_status(), SCHAN_E_ALERT_RECEIVED) << schan_last_error(link.client());
        return;
    }

    ASSERT_TRUE(completed) << schan_last_error(link.client()) << " / " << schan_last_error(link.server());
    std::size_t count = 0;
    ASSERT_EQ(schan_get_peer_cert_count(link.server(), &count), SCHAN_OK);
    EXPECT_EQ(count, test_case.server_sees_chain);
    EXPECT_EQ(link.exchange(100000), "");
}

// A verified client chain is client.pem, inter.pem and root.pem.
INSTANTIATE_TEST_SUITE_P(
    Cases, MemoryPairClientAuth,
    ::testing::Values(
        ClientAuthCase{"NoneIgnoresCertificate", SCHAN_CLIENT_AUTH_NONE, "client", SCHAN_TLS_1_3, SCHAN_OK, 0},
        ClientAuthCase{"OptionalWithout13", SCHAN_CLIENT_AUTH_OPTIONAL, nullptr, SCHAN_TLS_1_3, SCHAN_OK, 0},
        ClientAuthCase{"OptionalWithout12", SCHAN_CLIENT_AUTH_OPTIONAL, nullptr, SCHAN_TLS_1_2, SCHAN_OK, 0},
        ClientAuthCase{"OptionalWith13", SCHAN_CLIENT_AUTH_OPTIONAL, "client", SCHAN_TLS_1_3, SCHAN_OK, 3},
        ClientAuthCase{"OptionalWith12", SCHAN_CLIENT_AUTH_OPTIONAL, "client", SCHAN_TLS_1_2, SCHAN_OK, 3},
        ClientAuthCase{"RequiredWith13", SCHAN_CLIENT_AUTH_REQUIRED, "client", SCHAN_TLS_1_3, SCHAN_OK, 3},
        ClientAuthCase{"RequiredWith12", SCHAN_CLIENT_AUTH_REQUIRED, "client", SCHAN_TLS_1_2, SCHAN_OK, 3},
        ClientAuthCase{"RequiredWithout13", SCHAN_CLIENT_AUTH_REQUIRED, nullptr, SCHAN_TLS_1_3,
                       SCHAN_E_CERT_REQUIRED, 0},
        ClientAuthCase{"RequiredWithout12", SCHAN_CLIENT_AUTH_REQUIRED, nullptr, SCHAN_TLS_1_2,
                       SCHAN_E_CERT_REQUIRED, 0},
        ClientAuthCase{"UntrustedCertificate", SCHAN_CLIENT_AUTH_OPTIONAL, "foreign-leaf", SCHAN_TLS_1_3,
                       SCHAN_E_CERT_UNTRUSTED, 0}),
    [](const ::testing::TestParamInfo<ClientAuthCase>& param_info) { return std::string(param_info.param.name); });

} // namespace
} // namespace schan::test
