// The Windows test kit's own suite: schan.dll's client and server as each
// other's peers, in memory and as schan-client and schan-server over TCP on
// 127.0.0.1, for TLS 1.2 and TLS 1.3. It links the shared library, so it
// calls the DLL's exports as an application does. Parts the system
// cannot run (the server role under Wine or before it exists, TLS 1.3 where
// SChannel lacks it) are skipped with the reason.
//
// Environment: SCHAN_TEST_PKI (the test PKI folder) and SCHAN_KIT_TOOLS (the
// folder of schan-client and schan-server); run-tests.cmd sets both.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "child_process.h"
#include "kit_environment.h"
#include "memory_pair.h"
#include "schan/schan.h"

namespace {

using schan::kit::ChildProcess;
using schan::kit::ConfigPtr;
using schan::kit::MemoryPair;
using schan::kit::SessionPtr;
using schan::kit::pki_file;

constexpr std::chrono::seconds kToolTimeout{60};
constexpr const char* kPasswordVariable = "SCHAN_KIT_PFX_PASSWORD";

// The server role's gap, computed once because it runs a handshake.
const std::string& server_gap()
{
    static const std::string gap = schan::kit::server_role_gap();
    return gap;
}

ConfigPtr new_config(schan_tls_version version)
{
    schan_config* config = nullptr;
    if (schan_config_new(&config) != SCHAN_OK)
        throw std::runtime_error("schan_config_new failed");
    ConfigPtr owner(config);
    if (schan_config_set_versions(config, version, version) != SCHAN_OK)
        throw std::runtime_error(std::string("schan_config_set_versions failed: ") + schan_config_last_error(config));
    return owner;
}

void check_config(schan_status status, const ConfigPtr& config, const std::string& call)
{
    if (status != SCHAN_OK)
        throw std::runtime_error(call + " returned " + schan_status_name(status) + ": " +
                                 schan_config_last_error(config.get()));
}

// A client config that trusts `ca_file` of the PKI only.
ConfigPtr client_config(schan_tls_version version, const std::string& ca_file = "root.pem")
{
    ConfigPtr config = new_config(version);
    check_config(schan_config_set_verify_mode(config.get(), SCHAN_VERIFY_CUSTOM_ONLY), config, "set_verify_mode");
    check_config(schan_config_load_ca_file(config.get(), pki_file(ca_file).c_str()), config, "load_ca_file");
    return config;
}

// A server config with leaf.p12: DNS:localhost, its key and the intermediate.
ConfigPtr server_config(schan_tls_version version)
{
    ConfigPtr config = new_config(version);
    check_config(schan_config_load_pkcs12_file(config.get(), pki_file("leaf.p12").c_str(), schan::kit::kPkcs12Password),
                 config, "load_pkcs12_file(leaf.p12)");
    return config;
}

// A server config from PEM files: `certificate`, then `chain` (may be ""), and `key`.
ConfigPtr server_config_pem(schan_tls_version version, const std::string& certificate, const std::string& chain,
                            const std::string& key)
{
    ConfigPtr config = new_config(version);
    std::string pem = schan::kit::read_pki_file(certificate);
    if (!chain.empty())
        pem += schan::kit::read_pki_file(chain);
    const std::string key_pem = schan::kit::read_pki_file(key);
    check_config(schan_config_load_cert_chain_pem(config.get(), pem.data(), pem.size(), key_pem.data(),
                                                  key_pem.size(), nullptr),
                 config, "load_cert_chain_pem(" + certificate + ")");
    return config;
}

std::unique_ptr<MemoryPair> connect_in_memory(const ConfigPtr& client, const char* server_name, const ConfigPtr& server)
{
    schan_session* client_session = nullptr;
    schan_session* server_session = nullptr;
    const schan_status client_created = schan_client_new(client.get(), server_name, &client_session);
    SessionPtr client_owner(client_session);
    if (client_created != SCHAN_OK)
        throw std::runtime_error(std::string("schan_client_new returned ") + schan_status_name(client_created));
    const schan_status server_created = schan_server_new(server.get(), &server_session);
    SessionPtr server_owner(server_session);
    if (server_created != SCHAN_OK)
        throw std::runtime_error(std::string("schan_server_new returned ") + schan_status_name(server_created));
    return std::make_unique<MemoryPair>(std::move(client_owner), std::move(server_owner));
}

std::string test_data(std::size_t length)
{
    std::string data(length, '\0');
    std::uint32_t state = 0x9E3779B9u;
    for (auto& byte : data) {
        state = state * 1664525u + 1013904223u;
        byte = static_cast<char>(state >> 24);
    }
    return data;
}

const char* version_name(schan_tls_version version)
{
    return version == SCHAN_TLS_1_3 ? "1.3" : "1.2";
}

std::string version_case_name(const ::testing::TestParamInfo<schan_tls_version>& info)
{
    return info.param == SCHAN_TLS_1_3 ? "Tls13" : "Tls12";
}

// Appends the library and system description to the kit report once.
class ReportHeader : public ::testing::Environment {
public:
    void SetUp() override
    {
        const char* path = std::getenv("SCHAN_KIT_REPORT");
        if (path == nullptr || *path == '\0')
            return;
        std::FILE* file = std::fopen(path, "a");
        if (file == nullptr)
            return;
        std::fprintf(file, "schan %s, backend %s; %s\n", schan_version_string_full(), schan_backend_name(),
                     schan::kit::system_description().c_str());
        std::fclose(file);
    }
};

[[maybe_unused]] const auto* const report_header = ::testing::AddGlobalTestEnvironment(new ReportHeader);

// --- Parts without a server --------------------------------------------------

TEST(Library, MatchesHeader)
{
    EXPECT_EQ(schan_abi_version(), static_cast<std::uint32_t>(SCHAN_ABI_VERSION));
    EXPECT_STREQ(schan_version(), SCHAN_VERSION_STRING);
#ifdef _WIN32
    EXPECT_STREQ(schan_backend_name(), "schannel");
#endif
}

TEST(Credentials, LoadPemChainAndPkcs12)
{
    ConfigPtr config = new_config(SCHAN_TLS_DEFAULT);
    const std::string chain = pki_file("leaf-chain.pem");
    const std::string key = pki_file("leaf.key");
    EXPECT_EQ(schan_config_load_cert_chain_file(config.get(), chain.c_str(), key.c_str(), nullptr), SCHAN_OK)
        << schan_config_last_error(config.get());
    for (const char* file : {"leaf.p12", "client.p12"}) {
        EXPECT_EQ(schan_config_load_pkcs12_file(config.get(), pki_file(file).c_str(), schan::kit::kPkcs12Password),
                  SCHAN_OK)
            << file << ": " << schan_config_last_error(config.get());
    }
}

TEST(Credentials, WrongPkcs12PasswordIsBadPassword)
{
    ConfigPtr config = new_config(SCHAN_TLS_DEFAULT);
    EXPECT_EQ(schan_config_load_pkcs12_file(config.get(), pki_file("leaf.p12").c_str(), "wrong"),
              SCHAN_E_BAD_PASSWORD)
        << schan_config_last_error(config.get());
}

TEST(Client, FirstStepQueuesClientHello)
{
    ConfigPtr config = client_config(SCHAN_TLS_DEFAULT);
    schan_session* session = nullptr;
    ASSERT_EQ(schan_client_new(config.get(), "localhost", &session), SCHAN_OK);
    SessionPtr owner(session);

    ASSERT_EQ(schan_step(session), SCHAN_HAVE_OUTPUT) << schan_last_error(session);
    std::uint8_t header[5] = {};
    std::size_t written = 0;
    schan_take_output(session, header, sizeof header, &written);
    ASSERT_EQ(written, sizeof header);
    EXPECT_EQ(header[0], 0x16) << "the first record is not a handshake record";
    EXPECT_EQ(header[1], 0x03);
}

// --- Client and server in memory ---------------------------------------------

class InMemory : public ::testing::TestWithParam<schan_tls_version> {
protected:
    void SetUp() override
    {
        if (!server_gap().empty())
            GTEST_SKIP() << server_gap();
        if (GetParam() == SCHAN_TLS_1_3 && !schan::kit::tls13_gap().empty())
            GTEST_SKIP() << schan::kit::tls13_gap();
    }
};

TEST_P(InMemory, HandshakeDataAndClose)
{
    const ConfigPtr client = client_config(GetParam());
    const ConfigPtr server = server_config(GetParam());
    const auto pair = connect_in_memory(client, "localhost", server);
    ASSERT_TRUE(pair->handshake()) << pair->describe();

    schan_tls_version version = SCHAN_TLS_DEFAULT;
    EXPECT_EQ(schan_get_protocol(pair->client(), &version), SCHAN_OK);
    EXPECT_EQ(version, GetParam());
    EXPECT_EQ(schan_get_protocol(pair->server(), &version), SCHAN_OK);
    EXPECT_EQ(version, GetParam());
    const char* cipher = "";
    EXPECT_EQ(schan_get_cipher(pair->client(), &cipher), SCHAN_OK);
    EXPECT_STRNE(cipher, "");

    const std::string data = test_data(100000);
    EXPECT_EQ(pair->client_to_server(data), "");
    EXPECT_EQ(pair->server_to_client(data), "");
    EXPECT_EQ(pair->close(), "");
}

TEST_P(InMemory, AlpnSelectsCommonProtocol)
{
    const ConfigPtr client = client_config(GetParam());
    const ConfigPtr server = server_config(GetParam());
    schan_config_add_alpn(client.get(), "http/1.1");
    schan_config_add_alpn(server.get(), "h2");
    schan_config_add_alpn(server.get(), "http/1.1");
    const auto pair = connect_in_memory(client, "localhost", server);
    ASSERT_TRUE(pair->handshake()) << pair->describe();

    const char* protocol = "";
    EXPECT_EQ(schan_get_alpn(pair->client(), &protocol), SCHAN_OK);
    EXPECT_STREQ(protocol, "http/1.1");
    EXPECT_EQ(schan_get_alpn(pair->server(), &protocol), SCHAN_OK);
    EXPECT_STREQ(protocol, "http/1.1");
}

TEST_P(InMemory, RequiredClientCertificateIsVerified)
{
    const ConfigPtr client = client_config(GetParam());
    const ConfigPtr server = server_config(GetParam());
    check_config(schan_config_load_pkcs12_file(client.get(), pki_file("client.p12").c_str(), schan::kit::kPkcs12Password),
                 client, "load_pkcs12_file(client.p12)");
    check_config(schan_config_load_ca_file(server.get(), pki_file("client-ca.pem").c_str()), server, "load_ca_file");
    check_config(schan_config_set_verify_mode(server.get(), SCHAN_VERIFY_CUSTOM_ONLY), server, "set_verify_mode");
    check_config(schan_config_set_client_auth(server.get(), SCHAN_CLIENT_AUTH_REQUIRED), server, "set_client_auth");
    const auto pair = connect_in_memory(client, "localhost", server);
    ASSERT_TRUE(pair->handshake()) << pair->describe();

    std::size_t count = 0;
    EXPECT_EQ(schan_get_peer_cert_count(pair->server(), &count), SCHAN_OK);
    EXPECT_GE(count, 1u);
    EXPECT_EQ(pair->client_to_server("after client authentication"), "");
}

TEST_P(InMemory, MissingClientCertificateIsCertRequired)
{
    const ConfigPtr client = client_config(GetParam());
    const ConfigPtr server = server_config(GetParam());
    check_config(schan_config_load_ca_file(server.get(), pki_file("client-ca.pem").c_str()), server, "load_ca_file");
    check_config(schan_config_set_verify_mode(server.get(), SCHAN_VERIFY_CUSTOM_ONLY), server, "set_verify_mode");
    check_config(schan_config_set_client_auth(server.get(), SCHAN_CLIENT_AUTH_REQUIRED), server, "set_client_auth");
    const auto pair = connect_in_memory(client, "localhost", server);
    pair->handshake();

    // With TLS 1.3 the client may complete first, before the server's alert.
    EXPECT_EQ(pair->server_status(), SCHAN_E_CERT_REQUIRED) << pair->describe();
}

TEST_P(InMemory, OneBytePiecesThroughHandshakeAndData)
{
    const ConfigPtr client = client_config(GetParam());
    const ConfigPtr server = server_config(GetParam());
    const auto pair = connect_in_memory(client, "localhost", server);
    pair->set_piece_size(1);
    ASSERT_TRUE(pair->handshake()) << pair->describe();

    const std::string data = test_data(5000);
    EXPECT_EQ(pair->client_to_server(data), "");
    EXPECT_EQ(pair->server_to_client(data), "");
    EXPECT_EQ(pair->close(), "");
}

TEST_P(InMemory, LongChainInSmallPieces)
{
    const ConfigPtr client = client_config(GetParam());
    const ConfigPtr server = server_config_pem(GetParam(), "long-leaf.pem", "long-chain.pem", "long-leaf.key");
    const auto pair = connect_in_memory(client, "localhost", server);
    pair->set_piece_size(512);
    ASSERT_TRUE(pair->handshake()) << pair->describe();

    std::size_t count = 0;
    EXPECT_EQ(schan_get_peer_cert_count(pair->client(), &count), SCHAN_OK);
    EXPECT_GE(count, 6u) << "the leaf and five intermediates";
}

TEST_P(InMemory, EndWithoutCloseNotifyIsTruncation)
{
    const ConfigPtr client = client_config(GetParam());
    const ConfigPtr server = server_config(GetParam());
    const auto pair = connect_in_memory(client, "localhost", server);
    ASSERT_TRUE(pair->handshake()) << pair->describe();

    const std::string body = "a body cut off without close_notify";
    schan_status status = SCHAN_OK;
    EXPECT_EQ(pair->truncated_server_to_client(body, status), body);
    EXPECT_EQ(status, SCHAN_E_TRUNCATED) << pair->describe();
}

TEST_P(InMemory, MismatchedVersionIsUnsupportedVersion)
{
    if (!schan::kit::tls13_gap().empty())
        GTEST_SKIP() << schan::kit::tls13_gap();
    const schan_tls_version other = GetParam() == SCHAN_TLS_1_3 ? SCHAN_TLS_1_2 : SCHAN_TLS_1_3;
    const ConfigPtr client = client_config(GetParam());
    const ConfigPtr server = server_config(other);
    const auto pair = connect_in_memory(client, "localhost", server);

    EXPECT_FALSE(pair->handshake());
    EXPECT_EQ(pair->client_status(), SCHAN_E_UNSUPPORTED_VERSION) << pair->describe();
}

INSTANTIATE_TEST_SUITE_P(Kit, InMemory, ::testing::Values(SCHAN_TLS_1_2, SCHAN_TLS_1_3), version_case_name);

// --- Certificates the client accepts or rejects, in memory ------------------

struct CertificateCase {
    const char* name;
    const char* certificate;
    const char* chain;  // "" for none
    const char* key;
    const char* server_name;
    schan_status expected;
};

const CertificateCase kCertificateCases[] = {
    {"PemRsaLeaf", "leaf.pem", "inter.pem", "leaf.key", "localhost", SCHAN_OK},
    {"EcdsaLeaf", "leaf-ec.pem", "inter.pem", "leaf-ec.key", "localhost", SCHAN_OK},
    {"IpAddressLeaf", "leaf-ip.pem", "inter.pem", "leaf-ip.key", "127.0.0.1", SCHAN_OK},
    {"WrongServerName", "leaf.pem", "inter.pem", "leaf.key", "wrong.example", SCHAN_E_CERT_NAME_MISMATCH},
    {"WrongNameCertificate", "wrong-name.pem", "inter.pem", "wrong-name.key", "localhost", SCHAN_E_CERT_NAME_MISMATCH},
    {"DnsNameForIpAddress", "leaf-dns-ip.pem", "inter.pem", "leaf-dns-ip.key", "127.0.0.1", SCHAN_E_CERT_NAME_MISMATCH},
    {"Expired", "expired.pem", "inter.pem", "expired.key", "localhost", SCHAN_E_CERT_EXPIRED},
    {"ForeignRoot", "foreign-leaf.pem", "", "foreign-leaf.key", "localhost", SCHAN_E_CERT_UNTRUSTED},
    {"SelfSigned", "self-signed.pem", "", "self-signed.key", "localhost", SCHAN_E_CERT_UNTRUSTED},
    {"MissingIntermediate", "leaf.pem", "", "leaf.key", "localhost", SCHAN_E_CERT_UNTRUSTED},
};

using CertificateParameter = std::tuple<schan_tls_version, CertificateCase>;

std::string certificate_case_name(const ::testing::TestParamInfo<CertificateParameter>& parameter)
{
    return std::string(std::get<1>(parameter.param).name) +
           (std::get<0>(parameter.param) == SCHAN_TLS_1_3 ? "Tls13" : "Tls12");
}

class Certificates : public ::testing::TestWithParam<CertificateParameter> {
protected:
    void SetUp() override
    {
        if (!server_gap().empty())
            GTEST_SKIP() << server_gap();
        if (version() == SCHAN_TLS_1_3 && !schan::kit::tls13_gap().empty())
            GTEST_SKIP() << schan::kit::tls13_gap();
    }

    [[nodiscard]] schan_tls_version version() const { return std::get<0>(GetParam()); }
    [[nodiscard]] const CertificateCase& certificate() const { return std::get<1>(GetParam()); }
};

TEST_P(Certificates, ClientReportsOwnStatus)
{
    const CertificateCase& tested = certificate();
    const ConfigPtr client = client_config(version());
    const ConfigPtr server = server_config_pem(version(), tested.certificate, tested.chain, tested.key);
    const auto pair = connect_in_memory(client, tested.server_name, server);

    const bool completed = pair->handshake();

    EXPECT_EQ(completed, tested.expected == SCHAN_OK) << pair->describe();
    EXPECT_EQ(pair->client_status(), tested.expected) << pair->describe();
}

INSTANTIATE_TEST_SUITE_P(Kit, Certificates,
                         ::testing::Combine(::testing::Values(SCHAN_TLS_1_2, SCHAN_TLS_1_3),
                                            ::testing::ValuesIn(kCertificateCases)),
                         certificate_case_name);


// --- schan-client against schan-server over TCP ------------------------------

class Tools : public InMemory {
protected:
    // Starts schan-server with leaf.p12 in `mode` (--echo or --http) for one
    // connection and returns its port.
    unsigned start_server(const std::string& mode)
    {
#ifdef _WIN32
        _putenv_s(kPasswordVariable, schan::kit::kPkcs12Password);
#else
        setenv(kPasswordVariable, schan::kit::kPkcs12Password, 1);
#endif
        server_ = std::make_unique<ChildProcess>(std::vector<std::string>{
            schan::kit::tool_file("schan-server"), "--pfx", pki_file("leaf.p12"), "--pass-env", kPasswordVariable, mode,
            "--once"});
        const std::string prefix = "listening on 127.0.0.1:";
        if (!server_->wait_for_output("\n", kToolTimeout))
            throw std::runtime_error("schan-server printed no line within " + std::to_string(kToolTimeout.count()) +
                                     " s: " + server_->error_output());
        const std::string output = server_->standard_output();
        const std::size_t start = output.find(prefix);
        if (start == std::string::npos)
            throw std::runtime_error("schan-server printed no port: " + output + server_->error_output());
        return static_cast<unsigned>(std::stoul(output.substr(start + prefix.size())));
    }

    // Runs schan-client against the server with `input` on its standard input.
    std::unique_ptr<ChildProcess> run_client(unsigned port, const std::string& input)
    {
        const char* version = version_name(GetParam());
        auto client = std::make_unique<ChildProcess>(std::vector<std::string>{
            schan::kit::tool_file("schan-client"), "--ca", pki_file("root.pem"), "--servername", "localhost",
            "--min-version", version, "--max-version", version, "127.0.0.1", std::to_string(port)});
        client->write_stdin(input);
        client->close_stdin();
        return client;
    }

    std::unique_ptr<ChildProcess> server_;
};

TEST_P(Tools, EchoOverTcp)
{
    const unsigned port = start_server("--echo");
    const std::string text = "schan-client to schan-server and back\n";
    const auto client = run_client(port, text);

    EXPECT_EQ(client->wait(kToolTimeout), 0) << client->error_output();
    EXPECT_EQ(client->standard_output(), text) << client->error_output();
    EXPECT_EQ(server_->wait(kToolTimeout), 0) << server_->error_output();
}

TEST_P(Tools, HttpReportsProtocol)
{
    const unsigned port = start_server("--http");
    const auto client = run_client(port, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");

    EXPECT_EQ(client->wait(kToolTimeout), 0) << client->error_output();
    const std::string expected = std::string("protocol: TLSv") + version_name(GetParam());
    EXPECT_NE(client->standard_output().find(expected), std::string::npos)
        << client->standard_output() << client->error_output();
    EXPECT_EQ(server_->wait(kToolTimeout), 0) << server_->error_output();
}

INSTANTIATE_TEST_SUITE_P(Kit, Tools, ::testing::Values(SCHAN_TLS_1_2, SCHAN_TLS_1_3), version_case_name);

} // namespace
