// The server steps that Wine 8 runs for real: inbound credentials from each
// certificate source, and a server session fed a real ClientHello from
// schan's own client. Wine 8's AcceptSecurityContext returns
// SEC_E_UNSUPPORTED_FUNCTION, which must reach the caller as a clear
// SCHAN_E_UNSUPPORTED. On Windows the same test completes the handshake.
#include <gtest/gtest.h>

#include <windows.h>
#include <sspi.h>
#include <wincrypt.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend/schannel/credentials.h"
#include "core/config.h"
#include "core/credentials.h"
#include "core/error.h"
#include "schannel/injection_support.h"

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

// Imports leaf.p12 with a persisted key into CurrentUser\MY for one test and
// removes the certificate and its key container afterwards.
class StoredServerCertificate {
public:
    StoredServerCertificate()
    {
        const std::string data = Pki::read("leaf.p12");
        CRYPT_DATA_BLOB blob{static_cast<DWORD>(data.size()),
                             reinterpret_cast<BYTE*>(const_cast<char*>(data.data()))};
        pfx_ = PFXImportCertStore(&blob, L"secret", CRYPT_USER_KEYSET);
        if (pfx_ == nullptr)
            throw std::runtime_error("PFXImportCertStore failed: " + std::to_string(GetLastError()));
        my_ = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, CERT_SYSTEM_STORE_CURRENT_USER, L"MY");
        if (my_ == nullptr)
            throw std::runtime_error("CertOpenStore(CurrentUser\\MY) failed: " + std::to_string(GetLastError()));

        // The leaf is the certificate with a private key.
        PCCERT_CONTEXT found = nullptr;
        DWORD size = 0;
        while ((found = CertEnumCertificatesInStore(pfx_, found)) != nullptr)
            if (CertGetCertificateContextProperty(found, CERT_KEY_PROV_INFO_PROP_ID, nullptr, &size))
                break;
        if (found == nullptr)
            throw std::runtime_error("leaf.p12 contains no certificate with a key");
        const bool added = CertAddCertificateContextToStore(my_, found, CERT_STORE_ADD_REPLACE_EXISTING, &stored_);
        CertFreeCertificateContext(found);
        if (!added)
            throw std::runtime_error("CertAddCertificateContextToStore failed: " + std::to_string(GetLastError()));
        // Wine 8 writes a system store to the registry only on commit or close.
        CertControlStore(my_, 0, CERT_STORE_CTRL_COMMIT, nullptr);

        BYTE hash[20] = {};
        DWORD hash_size = sizeof hash;
        CertGetCertificateContextProperty(stored_, CERT_SHA1_HASH_PROP_ID, hash, &hash_size);
        static const char kDigits[] = "0123456789abcdef";
        for (BYTE byte : hash) {
            thumbprint_ += kDigits[byte >> 4];
            thumbprint_ += kDigits[byte & 0x0F];
        }
    }
    StoredServerCertificate(const StoredServerCertificate&) = delete;
    StoredServerCertificate& operator=(const StoredServerCertificate&) = delete;

    ~StoredServerCertificate()
    {
        if (stored_ != nullptr) {
            delete_key_container(stored_);
            CertDeleteCertificateFromStore(stored_);  // also frees the context
        }
        if (my_ != nullptr)
            CertCloseStore(my_, 0);
        if (pfx_ != nullptr)
            CertCloseStore(pfx_, 0);
    }

    [[nodiscard]] std::string path() const { return "CurrentUser\\MY\\" + thumbprint_; }

private:
    static void delete_key_container(PCCERT_CONTEXT certificate)
    {
        DWORD size = 0;
        if (!CertGetCertificateContextProperty(certificate, CERT_KEY_PROV_INFO_PROP_ID, nullptr, &size))
            return;
        std::vector<BYTE> buffer(size);
        if (!CertGetCertificateContextProperty(certificate, CERT_KEY_PROV_INFO_PROP_ID, buffer.data(), &size))
            return;
        const auto* info = reinterpret_cast<const CRYPT_KEY_PROV_INFO*>(buffer.data());
        HCRYPTPROV deleted = 0;
        CryptAcquireContextW(&deleted, info->pwszContainerName, info->pwszProvName, info->dwProvType,
                             CRYPT_DELETEKEYSET | CRYPT_SILENT);
    }

    HCERTSTORE pfx_ = nullptr;
    HCERTSTORE my_ = nullptr;
    PCCERT_CONTEXT stored_ = nullptr;
    std::string thumbprint_;
};

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

TEST(SchannelServerCredentials, InboundFromStore)
{
    const StoredServerCertificate stored;
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
