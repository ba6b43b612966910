// The server steps that Wine 8 runs for real: inbound credentials from each
// certificate source, and a server session fed a real ClientHello from
// schan's own client. Wine 8's AcceptSecurityContext returns
// SEC_E_UNSUPPORTED_FUNCTION, which must reach the caller as a clear
// SCHAN_E_UNSUPPORTED. On Windows the same test completes the handshake.
#include <gtest/gtest.h>

#include <windows.h>
#include <sspi.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend/schannel/credentials.h"
#include "core/config.h"
#include "core/credentials.h"
#include "core/error.h"
#include "schannel/injection_support.h"
#include "schannel/stored_certificate.h"

using schan::test::ConfigPtr;
using schan::test::Pki;

namespace {

schan::Config config_with(schan::CredentialsPtr credentials)
{
    schan::Config config;
    config.credentials = std::move(credentials);
    return config;
}

schan::CredentialsPtr load_pfx(const char* file, const char* password)
{
    const std::string data = Pki::read(file);
    return schan::load_pkcs12_credentials(
        gsl::span<const std::byte>(reinterpret_cast<const std::byte*>(data.data()), data.size()), password);
}

using SessionPtr = std::unique_ptr<schan_session, decltype(&schan_session_free)>;

// Moves every pending output byte of `from` into `to`.
void transfer(schan_session* from, schan_session* to)
{
    std::vector<std::uint8_t> bytes(schan_output_size(from));
    std::size_t written = 0;
    schan_take_output(from, bytes.data(), bytes.size(), &written);
    std::size_t consumed = 0;
    ASSERT_EQ(schan_feed(to, bytes.data(), written, &consumed), SCHAN_OK);
    ASSERT_EQ(consumed, written);
}

} // namespace

TEST(SchannelServerCredentials, InboundFromPfx)
{
    for (const auto& [file, password] : {std::pair{"leaf.p12", "secret"}, std::pair{"leaf-legacy.p12", "secret"},
                                         std::pair<const char*, const char*>{"leaf-nopass.p12", nullptr}}) {
        const schan::Config config = config_with(load_pfx(file, password));
        EXPECT_TRUE(schan::schannel::acquire_server_credentials(config).valid()) << file;
    }
}

TEST(SchannelServerCredentials, InboundFromPemRsa)
{
    const schan::Config config = config_with(
        schan::load_pem_credentials(Pki::read("leaf-chain.pem"), Pki::read("leaf.key"), nullptr));
    EXPECT_TRUE(schan::schannel::acquire_server_credentials(config).valid());
}

TEST(SchannelServerCredentials, InboundFromPemEcdsa)
{
    // Wine 8's NCryptImportKey rejects ECDSA private key blobs
    // (NTE_INVALID_PARAMETER), so the PEM loader cannot load the key there.
    if (schan::test::is_wine())
        GTEST_SKIP() << "Wine 8's NCryptImportKey cannot import ECDSA keys";
    const schan::Config config =
        config_with(schan::load_pem_credentials(Pki::read("leaf-ec.pem"), Pki::read("leaf-ec.key"), nullptr));
    EXPECT_TRUE(schan::schannel::acquire_server_credentials(config).valid());
}

TEST(SchannelServerCredentials, InboundFromStore)
{
    const schan::test::StoredCertificate stored("leaf.p12", L"secret");
    const schan::Config config = config_with(schan::load_store_credentials(stored.path()));
    EXPECT_TRUE(schan::schannel::acquire_server_credentials(config).valid());
}

TEST(SchannelServerCredentials, NoCertificateIsInvalidArgument)
{
    try {
        static_cast<void>(schan::schannel::acquire_server_credentials(schan::Config{}));
        FAIL() << "acquire_server_credentials accepted a config without a certificate";
    } catch (const schan::Error& error) {
        EXPECT_EQ(error.status(), SCHAN_E_INVALID_ARGUMENT) << error.what();
    }
}

TEST(SchannelServerSession, RealClientHello)
{
    const ConfigPtr client_config = schan::test::test_config();
    const ConfigPtr server_config = schan::test::test_config();
    const std::string pfx = Pki::path("leaf.p12");
    ASSERT_EQ(schan_config_load_pkcs12_file(server_config.get(), pfx.c_str(), "secret"), SCHAN_OK)
        << schan_config_last_error(server_config.get());

    schan_session* raw = nullptr;
    ASSERT_EQ(schan_client_new(client_config.get(), "localhost", &raw), SCHAN_OK);
    const SessionPtr client(raw, &schan_session_free);
    ASSERT_EQ(schan_server_new(server_config.get(), &raw), SCHAN_OK);
    const SessionPtr server(raw, &schan_session_free);

    // The sessions take turns until the client has no more output or the
    // server fails.
    schan_status client_status = schan_step(client.get());
    schan_status server_status = SCHAN_NEED_INPUT;
    for (int round = 0; round < 20 && client_status == SCHAN_HAVE_OUTPUT; ++round) {
        transfer(client.get(), server.get());
        server_status = schan_step(server.get());
        if (server_status < 0)
            break;
        transfer(server.get(), client.get());
        client_status = schan_step(client.get());
        if (server_status == SCHAN_OK && client_status == SCHAN_OK)
            break;
    }

    if (schan::test::is_wine()) {
        // Wine 8's AcceptSecurityContext returns SEC_E_UNSUPPORTED_FUNCTION.
        EXPECT_EQ(server_status, SCHAN_E_UNSUPPORTED) << schan_last_error(server.get());
        EXPECT_NE(std::string(schan_last_error(server.get())).find("cannot act as a TLS server"), std::string::npos)
            << schan_last_error(server.get());
        EXPECT_EQ(schan_last_backend_error(server.get()), static_cast<std::uint32_t>(SEC_E_UNSUPPORTED_FUNCTION));
        return;
    }
    EXPECT_EQ(schan_get_state(server.get()), SCHAN_STATE_OPEN) << schan_last_error(server.get());
    EXPECT_EQ(schan_get_state(client.get()), SCHAN_STATE_OPEN) << schan_last_error(client.get());
}
