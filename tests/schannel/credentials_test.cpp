// Tests of the SChannel credential loaders (PKCS#12, PEM with RSA and ECDSA
// keys) and of client certificates presented to openssl s_server on
// 127.0.0.1. Each loaded certificate must also be accepted by
// AcquireCredentialsHandle as paCred, for outbound and inbound use.
#include <gtest/gtest.h>

#include <windows.h>
#include <sspi.h>
#include <schannel.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "backend/schannel/certificate_credentials.h"
#include "backend/schannel/credentials.h"
#include "core/config.h"
#include "core/credentials.h"
#include "core/error.h"
#include "schannel/injection_support.h"
#include "schannel/stored_certificate.h"

using schan::test::connect_client;
using schan::test::ConfigPtr;
using schan::test::Peer;
using schan::test::Pki;
using schan::test::s_server;
using schan::test::StoredCertificate;
using schan::test::test_config;

namespace {

constexpr const char* kPassword = "secret";

// Servers that check client certificates trust client-ca.pem (inter and
// root), because Wine 8's SChannel sends the client certificate without its
// intermediate.

// Where a test's credentials come from: a PFX file with its password, or a
// PEM certificate with its key file.
struct Source {
    const char* name;
    const char* certificate;  // .p12 or .pem
    const char* key;          // nullptr for a .p12
    const char* password;
    const char* subject;      // the certificate's common name
};

const Source kSources[] = {
    {"Pfx", "client.p12", nullptr, kPassword, "schan test client"},
    {"PfxLegacy", "client-legacy.p12", nullptr, kPassword, "schan test client"},
    {"PfxNoPassword", "client-nopass.p12", nullptr, nullptr, "schan test client"},
    {"PfxEmptyPassword", "client-empty.p12", nullptr, nullptr, "schan test client"},
    {"PfxLegacyEmptyPassword", "client-legacy-empty.p12", nullptr, nullptr, "schan test client"},
    {"PemRsaPkcs8", "client.pem", "client.key", nullptr, "schan test client"},
    {"PemRsaTraditional", "client-rsa-traditional.pem", "client-rsa-traditional.key", nullptr,
     "schan test traditional RSA client"},
    {"PemEcdsa", "client-ec.pem", "client-ec.key", nullptr, "schan test ECDSA client"},
    {"PemEcdsaTraditional", "client-ec-traditional.pem", "client-ec-traditional.key", nullptr,
     "schan test traditional ECDSA client"},
};

bool is_pfx(const Source& source)
{
    return source.key == nullptr;
}

schan_status load(schan_config* config, const Source& source)
{
    if (is_pfx(source))
        return schan_config_load_pkcs12_file(config, Pki::path(source.certificate).c_str(), source.password);
    return schan_config_load_cert_chain_file(config, Pki::path(source.certificate).c_str(),
                                             Pki::path(source.key).c_str(), source.password);
}

schan::CredentialsPtr load_internal(const Source& source)
{
    if (is_pfx(source)) {
        const std::string data = Pki::read(source.certificate);
        return schan::load_pkcs12_credentials(
            gsl::span<const std::byte>(reinterpret_cast<const std::byte*>(data.data()), data.size()),
            source.password);
    }
    return schan::load_pem_credentials(Pki::read(source.certificate), Pki::read(source.key), source.password);
}

std::string subject_of(PCCERT_CONTEXT certificate)
{
    char name[256] = {};
    CertGetNameStringA(certificate, CERT_NAME_SIMPLE_DISPLAY_TYPE, 0, nullptr, name, sizeof name);
    return name;
}

bool is_ecdsa(const Source& source)
{
    return std::string(source.name).rfind("PemEcdsa", 0) == 0;
}

// Wine 8's NCryptImportKey rejects ECDSA private key blobs
// (NTE_INVALID_PARAMETER), and its SChannel reads client keys only from
// rsaenh containers, so ECDSA client certificates work only on Windows.
bool skip_ecdsa_under_wine(const Source& source)
{
    return is_ecdsa(source) && schan::test::is_wine();
}

class CredentialSource : public ::testing::TestWithParam<Source> {};

// Acquires server (inbound) credentials with `certificate` as paCred
// through SCHANNEL_CRED, which every SChannel version accepts, and frees
// them again. Calls SSPI directly, so each loader's certificate is checked
// apart from the server backend's own credential code.
SECURITY_STATUS acquire_inbound_and_free(PCCERT_CONTEXT certificate)
{
    SCHANNEL_CRED credentials{};
    credentials.dwVersion = SCHANNEL_CRED_VERSION;
    credentials.cCreds = 1;
    credentials.paCred = &certificate;
    credentials.grbitEnabledProtocols = SP_PROT_TLS1_2_SERVER;
    credentials.dwFlags = SCH_CRED_NO_DEFAULT_CREDS | SCH_CRED_MANUAL_CRED_VALIDATION;

    CredHandle handle{};
    TimeStamp expiry{};
    SEC_WCHAR package[] = UNISP_NAME_W;
    const SECURITY_STATUS status = AcquireCredentialsHandleW(nullptr, package, SECPKG_CRED_INBOUND, nullptr, &credentials, nullptr,
                                                             nullptr, &handle, &expiry);
    if (status == SEC_E_OK)
        FreeCredentialsHandle(&handle);
    return status;
}

std::string source_name(const ::testing::TestParamInfo<Source>& info)
{
    return info.param.name;
}

} // namespace

TEST_P(CredentialSource, LoadsCertificateWithKey)
{
    const Source& source = GetParam();
    if (skip_ecdsa_under_wine(source))
        GTEST_SKIP() << "Wine 8's NCryptImportKey cannot import ECDSA keys";

    const schan::CredentialsPtr credentials = load_internal(source);
    const PCCERT_CONTEXT certificate = schan::schannel::credentials_certificate(credentials);
    ASSERT_NE(certificate, nullptr);
    EXPECT_EQ(subject_of(certificate), source.subject);

    // Under Wine 8, CryptAcquireCertificatePrivateKey fails with
    // NTE_BAD_KEY_STATE for keys that PFXImportCertStore imported, although
    // SChannel uses them. So this checks that a key is linked, and the
    // handshake tests check that it signs.
    DWORD size = 0;
    EXPECT_TRUE(CertGetCertificateContextProperty(certificate, CERT_KEY_PROV_INFO_PROP_ID, nullptr, &size) ||
                CertGetCertificateContextProperty(certificate, CERT_NCRYPT_KEY_HANDLE_PROP_ID, nullptr, &size) ||
                CertGetCertificateContextProperty(certificate, CERT_KEY_CONTEXT_PROP_ID, nullptr, &size));
}

TEST_P(CredentialSource, AcquiresOutboundCredentials)
{
    if (skip_ecdsa_under_wine(GetParam()))
        GTEST_SKIP() << "Wine 8's NCryptImportKey cannot import ECDSA keys";

    schan::Config config;
    config.max_version = SCHAN_TLS_1_2;
    config.credentials = load_internal(GetParam());
    schan::schannel::CredentialsHandle handle;
    ASSERT_NO_THROW(handle = schan::schannel::acquire_client_credentials(config));
    EXPECT_TRUE(handle.valid());
}

TEST_P(CredentialSource, AcquiresInboundCredentials)
{
    // A server's credentials: Wine 8 accepts them although its
    // AcceptSecurityContext cannot run a handshake.
    if (skip_ecdsa_under_wine(GetParam()))
        GTEST_SKIP() << "Wine 8's NCryptImportKey cannot import ECDSA keys";

    const schan::CredentialsPtr credentials = load_internal(GetParam());
    const PCCERT_CONTEXT certificate = schan::schannel::credentials_certificate(credentials);
    ASSERT_NE(certificate, nullptr);
    EXPECT_EQ(acquire_inbound_and_free(certificate), SEC_E_OK);
}

TEST_P(CredentialSource, PresentedToRequiringServer)
{
    const Source& source = GetParam();
    if (skip_ecdsa_under_wine(source))
        GTEST_SKIP() << "Wine 8's NCryptImportKey cannot import ECDSA keys";

    Peer server = Peer::start(s_server({"-Verify", "1", "-CAfile", "{pki}/client-ca.pem", "-tls1_2"}));
    const ConfigPtr config = test_config();
    ASSERT_EQ(load(config.get(), source), SCHAN_OK) << schan_config_last_error(config.get());

    auto client = connect_client(server.port(), "localhost", config.get());
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
    ASSERT_EQ(client->write("ping\n"), SCHAN_OK) << client->error();
    // s_server prints "subject=CN = <name>" for the verified client certificate.
    EXPECT_TRUE(server.wait_for_output(std::string("subject=CN = ") + source.subject)) << server.output();
}

INSTANTIATE_TEST_SUITE_P(SchannelCredentials, CredentialSource, ::testing::ValuesIn(kSources), source_name);

TEST(SchannelClientCertificate, OptionalWithoutCertificateSucceeds)
{
    Peer server = Peer::start(s_server({"-www", "-verify", "1", "-CAfile", "{pki}/client-ca.pem", "-tls1_2"}));
    auto client = connect_client(server.port());
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
}

TEST(SchannelClientCertificate, OptionalWithCertificateIsSent)
{
    Peer server = Peer::start(s_server({"-verify", "1", "-CAfile", "{pki}/client-ca.pem", "-tls1_2"}));
    const ConfigPtr config = test_config();
    ASSERT_EQ(schan_config_load_pkcs12_file(config.get(), Pki::path("client.p12").c_str(), kPassword), SCHAN_OK)
        << schan_config_last_error(config.get());
    auto client = connect_client(server.port(), "localhost", config.get());
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
    ASSERT_EQ(client->write("ping\n"), SCHAN_OK) << client->error();
    EXPECT_TRUE(server.wait_for_output("subject=CN = schan test client")) << server.output();
}

TEST(SchannelClientCertificate, ServerListingOnlyRootCa)
{
    // With -CAfile root.pem the CertificateRequest names only the root, and
    // client.pem is signed by inter. Windows is expected to send the
    // configured certificate with its chain (not run). Wine 8 sends none, so
    // the server ends the handshake, and the error names what to check.
    Peer server = Peer::start(s_server({"-Verify", "1", "-CAfile", "{pki}/root.pem", "-tls1_2"}));
    const ConfigPtr config = test_config();
    ASSERT_EQ(schan_config_load_pkcs12_file(config.get(), Pki::path("client.p12").c_str(), kPassword), SCHAN_OK)
        << schan_config_last_error(config.get());
    auto client = connect_client(server.port(), "localhost", config.get());
    const schan_status status = client->handshake();

    if (!schan::test::is_wine()) {
        ASSERT_EQ(status, SCHAN_OK) << client->error() << "\n" << server.output();
        ASSERT_EQ(client->write("ping\n"), SCHAN_OK) << client->error();
        EXPECT_TRUE(server.wait_for_output("subject=CN = schan test client")) << server.output();
        return;
    }
    EXPECT_EQ(status, SCHAN_E_ALERT_RECEIVED) << client->error();
    EXPECT_NE(client->error().find("handshake_failure (40)"), std::string::npos) << client->error();
    EXPECT_NE(client->error().find("check that the server trusts its issuer"), std::string::npos) << client->error();
    EXPECT_TRUE(server.wait_for_output("peer did not return a certificate")) << server.output();
}

TEST(SchannelClientCertificate, RootIssuedCertificateReachesRootOnlyServer)
{
    // The same server as above, with a client certificate that the root
    // issued itself: the CertificateRequest names its issuer, so Wine 8 sends
    // it as Windows does.
    Peer server = Peer::start(s_server({"-Verify", "1", "-CAfile", "{pki}/root.pem", "-tls1_2"}));
    const ConfigPtr config = test_config();
    ASSERT_EQ(schan_config_load_pkcs12_file(config.get(), Pki::path("client-root.p12").c_str(), kPassword),
              SCHAN_OK)
        << schan_config_last_error(config.get());
    auto client = connect_client(server.port(), "localhost", config.get());

    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
    ASSERT_EQ(client->write("ping\n"), SCHAN_OK) << client->error();
    EXPECT_TRUE(server.wait_for_output("subject=CN = schan test root-issued client")) << server.output();
}

TEST(SchannelClientCertificate, RequiredWithoutCertificateFails)
{
    Peer server = Peer::start(s_server({"-Verify", "1", "-CAfile", "{pki}/client-ca.pem", "-tls1_2"}));
    auto client = connect_client(server.port());
    schan_status status = client->handshake();
    if (status == SCHAN_OK) {
        // TLS 1.2: the server checks the certificate after the client's
        // Finished, so the alert may arrive with the first read.
        client->write("ping\n");
        client->read_to_end(status);
    }
    EXPECT_EQ(status, SCHAN_E_CERT_REQUIRED) << client->error() << "\n" << server.output();
}

// --- Bad input -------------------------------------------------------------

namespace {

schan_status load_pfx(schan_config* config, const char* file, const char* password)
{
    return schan_config_load_pkcs12_file(config, Pki::path(file).c_str(), password);
}

schan_status load_pem(schan_config* config, const char* certificate, const char* key)
{
    return schan_config_load_cert_chain_file(config, Pki::path(certificate).c_str(), Pki::path(key).c_str(),
                                             nullptr);
}

} // namespace

TEST(SchannelCredentialErrors, WrongPfxPassword)
{
    const ConfigPtr config = test_config();
    EXPECT_EQ(load_pfx(config.get(), "client.p12", "wrong"), SCHAN_E_BAD_PASSWORD)
        << schan_config_last_error(config.get());
    EXPECT_EQ(load_pfx(config.get(), "client-legacy.p12", "wrong"), SCHAN_E_BAD_PASSWORD)
        << schan_config_last_error(config.get());
}

TEST(SchannelCredentialErrors, MissingPfxPassword)
{
    const ConfigPtr config = test_config();
    EXPECT_EQ(load_pfx(config.get(), "client.p12", nullptr), SCHAN_E_BAD_PASSWORD)
        << schan_config_last_error(config.get());
}

TEST(SchannelCredentialErrors, MissingFile)
{
    const ConfigPtr config = test_config();
    EXPECT_EQ(load_pfx(config.get(), "no-such-file.p12", kPassword), SCHAN_E_FILE_NOT_FOUND);
    EXPECT_EQ(load_pem(config.get(), "no-such-file.pem", "client.key"), SCHAN_E_FILE_NOT_FOUND);
    EXPECT_EQ(load_pem(config.get(), "client.pem", "no-such-file.key"), SCHAN_E_FILE_NOT_FOUND);
}

TEST(SchannelCredentialErrors, PemFileAsPfxIsBadFormat)
{
    const ConfigPtr config = test_config();
    EXPECT_EQ(load_pfx(config.get(), "client.pem", kPassword), SCHAN_E_BAD_FORMAT)
        << schan_config_last_error(config.get());
}

TEST(SchannelCredentialErrors, RsaKeyMismatch)
{
    const ConfigPtr config = test_config();
    EXPECT_EQ(load_pem(config.get(), "client.pem", "leaf.key"), SCHAN_E_KEY_MISMATCH)
        << schan_config_last_error(config.get());
    EXPECT_EQ(load_pem(config.get(), "client.pem", "client-rsa-traditional.key"), SCHAN_E_KEY_MISMATCH)
        << schan_config_last_error(config.get());
}

TEST(SchannelCredentialErrors, EcdsaKeyMismatch)
{
    const ConfigPtr config = test_config();
    EXPECT_EQ(load_pem(config.get(), "client-ec.pem", "leaf-ec.key"), SCHAN_E_KEY_MISMATCH)
        << schan_config_last_error(config.get());
    EXPECT_EQ(load_pem(config.get(), "client-ec.pem", "client.key"), SCHAN_E_KEY_MISMATCH)
        << schan_config_last_error(config.get());
    EXPECT_EQ(load_pem(config.get(), "client.pem", "client-ec.key"), SCHAN_E_KEY_MISMATCH)
        << schan_config_last_error(config.get());
    EXPECT_EQ(load_pem(config.get(), "client-ec.pem", "client-ec-traditional.key"), SCHAN_E_KEY_MISMATCH)
        << schan_config_last_error(config.get());
}

TEST(SchannelCredentialErrors, PemWithoutKeyIsBadFormat)
{
    const ConfigPtr config = test_config();
    EXPECT_EQ(load_pem(config.get(), "client.pem", "client.pem"), SCHAN_E_BAD_FORMAT)
        << schan_config_last_error(config.get());
}

TEST(SchannelCredentialErrors, EcdsaKeyUnderWineIsUnsupported)
{
    if (!schan::test::is_wine())
        GTEST_SKIP() << "Windows imports ECDSA keys";
    const ConfigPtr config = test_config();
    EXPECT_EQ(load_pem(config.get(), "client-ec.pem", "client-ec.key"), SCHAN_E_UNSUPPORTED)
        << schan_config_last_error(config.get());
    EXPECT_EQ(load_pem(config.get(), "client-ec-traditional.pem", "client-ec-traditional.key"), SCHAN_E_UNSUPPORTED)
        << schan_config_last_error(config.get());
}

TEST(SchannelCredentialErrors, EncryptedPemKeyIsUnsupported)
{
    const std::string certificate = Pki::read("client.pem");
    const std::string key = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n";
    const ConfigPtr config = test_config();
    EXPECT_EQ(schan_config_load_cert_chain_pem(config.get(), certificate.data(), certificate.size(), key.data(),
                                               key.size(), kPassword),
              SCHAN_E_UNSUPPORTED)
        << schan_config_last_error(config.get());
}

// --- Windows certificate store -------------------------------------------

TEST(SchannelStoreCredentials, PresentedToRequiringServer)
{
    const StoredCertificate stored("client.p12", L"secret");
    Peer server = Peer::start(s_server({"-Verify", "1", "-CAfile", "{pki}/client-ca.pem", "-tls1_2"}));
    const ConfigPtr config = test_config();
    const std::string path = "CurrentUser\\MY\\" + stored.thumbprint();
    ASSERT_EQ(schan_config_load_cert_store(config.get(), path.c_str()), SCHAN_OK)
        << schan_config_last_error(config.get());

    auto client = connect_client(server.port(), "localhost", config.get());
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
    ASSERT_EQ(client->write("ping\n"), SCHAN_OK) << client->error();
    EXPECT_TRUE(server.wait_for_output("subject=CN = schan test client")) << server.output();
}

TEST(SchannelStoreCredentials, PathFormsAreAccepted)
{
    const StoredCertificate stored("client.p12", L"secret");
    const ConfigPtr config = test_config();
    std::string spaced;
    for (std::size_t i = 0; i < stored.thumbprint().size(); i += 2)
        spaced += (i == 0 ? "" : " ") + stored.thumbprint().substr(i, 2);
    for (const std::string& path : {"currentuser/my/" + stored.thumbprint(), "CurrentUser\\MY\\" + spaced})
        EXPECT_EQ(schan_config_load_cert_store(config.get(), path.c_str()), SCHAN_OK)
            << path << ": " << schan_config_last_error(config.get());
}

TEST(SchannelStoreCredentials, UnknownThumbprintIsNotFound)
{
    const ConfigPtr config = test_config();
    EXPECT_EQ(schan_config_load_cert_store(config.get(), "CurrentUser\\MY\\0000000000000000000000000000000000000000"),
              SCHAN_E_FILE_NOT_FOUND)
        << schan_config_last_error(config.get());
}

TEST(SchannelStoreCredentials, MalformedPathIsInvalidArgument)
{
    const ConfigPtr config = test_config();
    for (const char* path : {"", "CurrentUser", "CurrentUser\\MY", "Elsewhere\\MY\\00", "CurrentUser\\MY\\xyz",
                             "CurrentUser\\\\0000000000000000000000000000000000000000"})
        EXPECT_EQ(schan_config_load_cert_store(config.get(), path), SCHAN_E_INVALID_ARGUMENT) << path;
    EXPECT_EQ(schan_config_load_cert_store(config.get(), nullptr), SCHAN_E_INVALID_ARGUMENT);
}
