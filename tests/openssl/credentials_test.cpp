// Loading certificates and keys with the OpenSSL backend: PEM and PKCS#12,
// and the status of each way loading can fail.
#include <cstdint>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "memory_link.h"
#include "schan/schan.h"
#include "support/peers.h"

namespace schan::test {
namespace {

// Returns leaf.key re-encoded as encrypted PKCS#8 (AES-256-CBC) with `password`.
std::string encrypted_leaf_key(const std::string& password)
{
    const std::string plain = Pki::read("leaf.key");
    std::unique_ptr<BIO, decltype(&BIO_free)> input(BIO_new_mem_buf(plain.data(), static_cast<int>(plain.size())),
                                                   BIO_free);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        PEM_read_bio_PrivateKey(input.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
    if (!key)
        throw std::runtime_error("cannot read leaf.key");

    std::unique_ptr<BIO, decltype(&BIO_free)> output(BIO_new(BIO_s_mem()), BIO_free);
    if (PEM_write_bio_PKCS8PrivateKey(output.get(), key.get(), EVP_aes_256_cbc(), password.data(),
                                      static_cast<int>(password.size()), nullptr, nullptr) != 1)
        throw std::runtime_error("cannot encrypt leaf.key");
    char* data = nullptr;
    const long length = BIO_get_mem_data(output.get(), &data);
    return std::string(data, static_cast<std::size_t>(length));
}

schan_status load_pem(const ConfigHandle& config, const std::string& certificate, const std::string& key,
                      const char* password)
{
    return schan_config_load_cert_chain_pem(config.get(), certificate.data(), certificate.size(), key.data(),
                                            key.size(), password);
}

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

// Runs a handshake against a server created from `server_config`.
void expect_server_handshake(const ConfigHandle& server_config)
{
    ConfigHandle client_config;
    configure_test_client(client_config.get());
    schan_session* client = nullptr;
    schan_session* server = nullptr;
    ASSERT_EQ(schan_client_new(client_config.get(), "localhost", &client), SCHAN_OK);
    ASSERT_EQ(schan_server_new(server_config.get(), &server), SCHAN_OK);
    MemoryLink link(client, server, 5);
    EXPECT_TRUE(link.handshake()) << schan_last_error(link.client()) << " / " << schan_last_error(link.server());
}

TEST(Credentials, PemFilesServeHandshake)
{
    ConfigHandle config;
    ASSERT_EQ(schan_config_load_cert_chain_file(config.get(), Pki::path("leaf-chain.pem").c_str(),
                                                Pki::path("leaf.key").c_str(), nullptr),
              SCHAN_OK)
        << config.error();
    expect_server_handshake(config);
}

TEST(Credentials, KeyInCertificateText)
{
    ConfigHandle config;
    const std::string combined = Pki::read("leaf-chain.pem") + Pki::read("leaf.key");
    ASSERT_EQ(schan_config_load_cert_chain_pem(config.get(), combined.data(), combined.size(), nullptr, 0, nullptr),
              SCHAN_OK)
        << config.error();
    expect_server_handshake(config);
}

TEST(Credentials, EncryptedPemKey)
{
    const std::string certificate = Pki::read("leaf-chain.pem");
    const std::string key = encrypted_leaf_key("pem password");

    ConfigHandle right;
    ASSERT_EQ(load_pem(right, certificate, key, "pem password"), SCHAN_OK) << right.error();
    expect_server_handshake(right);

    ConfigHandle wrong;
    EXPECT_EQ(load_pem(wrong, certificate, key, "not the password"), SCHAN_E_BAD_PASSWORD) << wrong.error();
    EXPECT_TRUE(contains(wrong.error(), "password")) << wrong.error();

    ConfigHandle missing;
    EXPECT_EQ(load_pem(missing, certificate, key, nullptr), SCHAN_E_BAD_PASSWORD) << missing.error();
    EXPECT_TRUE(contains(missing.error(), "no password")) << missing.error();
}

TEST(Credentials, MissingCertificateFile)
{
    ConfigHandle config;
    const std::string path = Pki::path("does-not-exist.pem");
    EXPECT_EQ(schan_config_load_cert_chain_file(config.get(), path.c_str(), Pki::path("leaf.key").c_str(), nullptr),
              SCHAN_E_FILE_NOT_FOUND);
    EXPECT_TRUE(contains(config.error(), "does-not-exist.pem")) << config.error();
}

TEST(Credentials, MissingKeyFile)
{
    ConfigHandle config;
    const std::string key = Pki::path("does-not-exist.key");
    EXPECT_EQ(schan_config_load_cert_chain_file(config.get(), Pki::path("leaf.pem").c_str(), key.c_str(), nullptr),
              SCHAN_E_FILE_NOT_FOUND);
    EXPECT_TRUE(contains(config.error(), "does-not-exist.key")) << config.error();
}

TEST(Credentials, MissingPkcs12File)
{
    ConfigHandle config;
    EXPECT_EQ(schan_config_load_pkcs12_file(config.get(), Pki::path("does-not-exist.p12").c_str(), "secret"),
              SCHAN_E_FILE_NOT_FOUND);
}

TEST(Credentials, MismatchedKey)
{
    ConfigHandle config;
    EXPECT_EQ(schan_config_load_cert_chain_file(config.get(), Pki::path("leaf.pem").c_str(),
                                                Pki::path("client.key").c_str(), nullptr),
              SCHAN_E_KEY_MISMATCH);
    EXPECT_TRUE(contains(config.error(), "leaf.pem")) << config.error();
    EXPECT_TRUE(contains(config.error(), "client.key")) << config.error();
}

TEST(Credentials, CertificateWithoutKey)
{
    ConfigHandle config;
    const std::string certificate = Pki::read("leaf.pem");
    EXPECT_EQ(schan_config_load_cert_chain_pem(config.get(), certificate.data(), certificate.size(), nullptr, 0,
                                               nullptr),
              SCHAN_E_BAD_FORMAT);
}

TEST(Credentials, GarbagePem)
{
    ConfigHandle config;
    EXPECT_EQ(load_pem(config, "not a certificate", Pki::read("leaf.key"), nullptr), SCHAN_E_BAD_FORMAT);
    EXPECT_EQ(load_pem(config, Pki::read("leaf.pem"), "not a key", nullptr), SCHAN_E_BAD_FORMAT);
}

TEST(Credentials, Pkcs12ServesHandshake)
{
    ConfigHandle config;
    ASSERT_EQ(schan_config_load_pkcs12_file(config.get(), Pki::path("leaf.p12").c_str(), "secret"), SCHAN_OK)
        << config.error();
    expect_server_handshake(config);
}

TEST(Credentials, LegacyPkcs12ServesHandshake)
{
    ConfigHandle config;
    ASSERT_EQ(schan_config_load_pkcs12_file(config.get(), Pki::path("leaf-legacy.p12").c_str(), "secret"), SCHAN_OK)
        << config.error();
    expect_server_handshake(config);
}

TEST(Credentials, Pkcs12WithoutPassword)
{
    ConfigHandle config;
    ASSERT_EQ(schan_config_load_pkcs12_file(config.get(), Pki::path("leaf-nopass.p12").c_str(), nullptr), SCHAN_OK)
        << config.error();
    expect_server_handshake(config);
}

TEST(Credentials, Pkcs12WrongPassword)
{
    ConfigHandle config;
    EXPECT_EQ(schan_config_load_pkcs12_file(config.get(), Pki::path("leaf.p12").c_str(), "wrong"),
              SCHAN_E_BAD_PASSWORD);
    EXPECT_TRUE(contains(config.error(), "leaf.p12")) << config.error();
}

TEST(Credentials, Pkcs12MissingPassword)
{
    ConfigHandle config;
    EXPECT_EQ(schan_config_load_pkcs12_file(config.get(), Pki::path("leaf.p12").c_str(), nullptr),
              SCHAN_E_BAD_PASSWORD);
}

TEST(Credentials, LegacyPkcs12WrongPassword)
{
    ConfigHandle config;
    EXPECT_EQ(schan_config_load_pkcs12_file(config.get(), Pki::path("leaf-legacy.p12").c_str(), "wrong"),
              SCHAN_E_BAD_PASSWORD);
}

TEST(Credentials, GarbagePkcs12)
{
    ConfigHandle config;
    const std::uint8_t garbage[] = {0x30, 0x03, 0x02, 0x01, 0x03};
    EXPECT_EQ(schan_config_load_pkcs12(config.get(), garbage, sizeof garbage, "secret"), SCHAN_E_BAD_FORMAT);
}

TEST(Credentials, ClientAuthRejectsUnknownMode)
{
    ConfigHandle config;
    const int unknown_mode = 3;  // one past SCHAN_CLIENT_AUTH_REQUIRED
    EXPECT_EQ(schan_config_set_client_auth(config.get(), static_cast<schan_client_auth>(unknown_mode)),
              SCHAN_E_INVALID_ARGUMENT);
}

} // namespace
} // namespace schan::test
