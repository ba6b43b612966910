// Unit tests of the SChannel backend's manual certificate verification. They
// need no TLS connection. Each test puts the generated test certificates into
// a memory store as SChannel hands them over after a handshake: the leaf's
// context, whose hCertStore also contains what the server sent. Then it calls
// verify_server_certificate() or peer_chain() directly.
#include <gtest/gtest.h>

#include <windows.h>
#include <wincrypt.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backend/schannel/certificate_verification.h"
#include "core/config.h"
#include "core/error.h"
#include "core/pem.h"
#include "support/peers.h"

namespace {

using schan::Config;
using schan::Der;
using schan::test::Peer;
using schan::test::Pki;

struct StoreCloser {
    void operator()(HCERTSTORE store) const noexcept { CertCloseStore(store, 0); }
};

struct CertificateFreer {
    void operator()(PCCERT_CONTEXT certificate) const noexcept { CertFreeCertificateContext(certificate); }
};

std::vector<Der> read_certificates(const std::string& file)
{
    return schan::parse_pem_certificates(Pki::read(file));
}

std::vector<Der> read_all(std::initializer_list<std::string> files)
{
    std::vector<Der> all;
    for (const std::string& file : files)
        for (Der& der : read_certificates(file))
            all.push_back(std::move(der));
    return all;
}

// What the SChannel client gets from QueryContextAttributes(SECPKG_ATTR_REMOTE_CERT_CONTEXT):
// the context of the first certificate of `files`, in a store that also contains
// every other certificate of `files` (the ones the server sent).
class ServerCertificate {
public:
    explicit ServerCertificate(std::initializer_list<std::string> files) : ServerCertificate(read_all(files)) {}

    explicit ServerCertificate(const std::vector<Der>& certificates)
        : store_(CertOpenStore(CERT_STORE_PROV_MEMORY, 0, 0, CERT_STORE_CREATE_NEW_FLAG, nullptr))
    {
        EXPECT_NE(store_.get(), nullptr);
        for (const Der& der : certificates) {
            PCCERT_CONTEXT added = nullptr;
            const BOOL ok = CertAddEncodedCertificateToStore(
                store_.get(), X509_ASN_ENCODING, reinterpret_cast<const BYTE*>(der.data()),
                static_cast<DWORD>(der.size()), CERT_STORE_ADD_ALWAYS, leaf_ ? nullptr : &added);
            EXPECT_TRUE(ok) << "cannot add a certificate of " << der.size() << " bytes to the store";
            if (!leaf_)
                leaf_.reset(added);
        }
    }

    [[nodiscard]] PCCERT_CONTEXT leaf() const { return leaf_.get(); }

private:
    std::unique_ptr<void, StoreCloser> store_;
    std::unique_ptr<const CERT_CONTEXT, CertificateFreer> leaf_;
};

Config make_config(schan_verify_mode mode, std::initializer_list<std::string> bundle_files = {})
{
    Config config;
    config.verify_mode = mode;
    config.ca_certificates = read_all(bundle_files);
    return config;
}

// A config that trusts only the test root, as most tests need.
Config trust_test_root()
{
    return make_config(SCHAN_VERIFY_CUSTOM_ONLY, {"root.pem"});
}

struct Outcome {
    schan_status status = SCHAN_OK;
    std::string message;
    std::uint64_t backend_code = 0;
};

Outcome verify(const ServerCertificate& server, const Config& config, const std::string& name)
{
    try {
        schan::schannel::verify_server_certificate(server.leaf(), config, name);
        return {};
    } catch (const schan::Error& error) {
        return {error.status(), error.what(), error.backend_code()};
    }
}

testing::AssertionResult verifies_as(const ServerCertificate& server, const Config& config, const std::string& name,
                                     schan_status expected)
{
    const Outcome outcome = verify(server, config, name);
    if (outcome.status == expected)
        return testing::AssertionSuccess();
    return testing::AssertionFailure() << "server name '" << name << "': expected " << schan::status_name(expected)
                                       << ", got " << schan::status_name(outcome.status) << ": " << outcome.message;
}

std::vector<std::uint8_t> bytes(std::initializer_list<int> values)
{
    std::vector<std::uint8_t> result;
    for (const int value : values)
        result.push_back(static_cast<std::uint8_t>(value));
    return result;
}

// A CRL distribution point on 127.0.0.1 started by the peer host, with its
// own leaf certificate (DNS:localhost, issued by the test intermediate) whose
// CRL distribution point names the server. `mode` is "good", "revoked" or
// "silent" (accepts connections and never responds), as crl_server.py describes.
class CrlServer {
public:
    explicit CrlServer(const std::string& mode)
        : peer_(Peer::start({"python3", script(), "{port}", "{pki}", mode}, std::chrono::seconds(180)))
    {
    }

    // The leaf's PKI file, as Pki::read() takes it.
    [[nodiscard]] std::string leaf_file() const { return "crl-" + std::to_string(peer_.port()) + "/leaf.pem"; }

    [[nodiscard]] const Peer& peer() const { return peer_; }

private:
    // crl_server.py is next to this file. The peer host runs it on the Linux
    // side, also in the Wine build, so the source path works for both.
    static std::string script()
    {
        const std::string source = __FILE__;
        return source.substr(0, source.find_last_of("/\\") + 1) + "crl_server.py";
    }

    Peer peer_;
};

Config trust_test_root(schan_revocation_mode revocation_mode)
{
    Config config = trust_test_root();
    config.revocation_mode = revocation_mode;
    return config;
}

} // namespace

// --- Chain and name checks ----------------------------------------------------

TEST(Verification, AcceptsRightName)
{
    const ServerCertificate server({"leaf.pem", "inter.pem"});
    EXPECT_TRUE(verifies_as(server, trust_test_root(), "localhost", SCHAN_OK));
}

TEST(Verification, AcceptsEcdsaLeaf)
{
    const ServerCertificate server({"leaf-ec.pem", "inter.pem"});
    EXPECT_TRUE(verifies_as(server, trust_test_root(), "localhost", SCHAN_OK));
}

TEST(Verification, AcceptsLongChain)
{
    const ServerCertificate server({"long-leaf.pem", "long-chain.pem"});
    EXPECT_TRUE(verifies_as(server, trust_test_root(), "localhost", SCHAN_OK));
}

TEST(Verification, NameCheckIgnoresCase)
{
    const ServerCertificate server({"leaf.pem", "inter.pem"});
    EXPECT_TRUE(verifies_as(server, trust_test_root(), "LocalHost", SCHAN_OK));
}

TEST(Verification, RejectsWrongServerName)
{
    const ServerCertificate server({"leaf.pem", "inter.pem"});
    const Outcome outcome = verify(server, trust_test_root(), "other.example");

    EXPECT_EQ(outcome.status, SCHAN_E_CERT_NAME_MISMATCH) << outcome.message;
    EXPECT_EQ(outcome.backend_code, static_cast<std::uint32_t>(CERT_E_CN_NO_MATCH));
    EXPECT_NE(outcome.message.find("'CN=localhost' does not match the server name 'other.example'"),
              std::string::npos) << outcome.message;
    EXPECT_NE(outcome.message.find("DNS:localhost"), std::string::npos) << outcome.message;
    EXPECT_NE(outcome.message.find("CERT_E_CN_NO_MATCH (0x800B010F)"), std::string::npos) << outcome.message;
}

TEST(Verification, RejectsWrongNameCertificate)
{
    const ServerCertificate server({"wrong-name.pem", "inter.pem"});
    const Outcome outcome = verify(server, trust_test_root(), "localhost");

    EXPECT_EQ(outcome.status, SCHAN_E_CERT_NAME_MISMATCH) << outcome.message;
    EXPECT_NE(outcome.message.find("DNS:wrong.example"), std::string::npos) << outcome.message;
}

TEST(Verification, RejectsExpiredLeaf)
{
    const ServerCertificate server({"expired.pem", "inter.pem"});
    const Outcome outcome = verify(server, trust_test_root(), "localhost");

    EXPECT_EQ(outcome.status, SCHAN_E_CERT_EXPIRED) << outcome.message;
    EXPECT_EQ(outcome.backend_code, static_cast<std::uint32_t>(CERT_E_EXPIRED));
    EXPECT_NE(outcome.message.find("'CN=localhost' has expired: its validity ended 2021-01-01 00:00:00 UTC"),
              std::string::npos) << outcome.message;
    EXPECT_NE(outcome.message.find("CERT_E_EXPIRED (0x800B0101)"), std::string::npos) << outcome.message;
}

TEST(Verification, RejectsForeignRoot)
{
    const ServerCertificate server({"foreign-leaf.pem", "foreign-root.pem"});
    const Outcome outcome = verify(server, trust_test_root(), "localhost");

    EXPECT_EQ(outcome.status, SCHAN_E_CERT_UNTRUSTED) << outcome.message;
    EXPECT_EQ(outcome.backend_code, static_cast<std::uint32_t>(CERT_E_UNTRUSTEDROOT));
    EXPECT_NE(outcome.message.find("certificate verification failed: the chain for 'CN=localhost' ends at an "
                                   "untrusted root 'CN=schan foreign root', which is not in the configured CA bundle"),
              std::string::npos) << outcome.message;
    EXPECT_NE(outcome.message.find("CERT_E_UNTRUSTEDROOT (0x800B0109)"), std::string::npos) << outcome.message;
}

TEST(Verification, RejectsForeignLeafWithoutItsRoot)
{
    const ServerCertificate server({"foreign-leaf.pem"});
    EXPECT_TRUE(verifies_as(server, trust_test_root(), "localhost", SCHAN_E_CERT_UNTRUSTED));
}

TEST(Verification, RejectsSelfSigned)
{
    const ServerCertificate server({"self-signed.pem"});
    const Outcome outcome = verify(server, trust_test_root(), "localhost");

    EXPECT_EQ(outcome.status, SCHAN_E_CERT_UNTRUSTED) << outcome.message;
    EXPECT_EQ(outcome.backend_code, static_cast<std::uint32_t>(CERT_E_UNTRUSTEDROOT));
}

// Wine 8's SSL policy accepts a partial chain, so this checks the code's own
// reading of CERT_TRUST_IS_PARTIAL_CHAIN.
TEST(Verification, RejectsPartialChain)
{
    const ServerCertificate server({"leaf.pem"});
    const Outcome outcome = verify(server, trust_test_root(), "localhost");

    EXPECT_EQ(outcome.status, SCHAN_E_CERT_UNTRUSTED) << outcome.message;
    EXPECT_EQ(outcome.backend_code, static_cast<std::uint32_t>(CERT_E_CHAINING));
    EXPECT_NE(outcome.message.find("the chain for 'CN=localhost' is incomplete: the issuer of 'CN=localhost' was "
                                   "neither sent by the server nor found in the configured CA bundle"),
              std::string::npos) << outcome.message;
}

TEST(Verification, PartialChainNeedsTheWholeLongChain)
{
    const ServerCertificate server({"long-leaf.pem", "inter5.pem", "inter4.pem", "inter2.pem", "inter.pem"});
    EXPECT_TRUE(verifies_as(server, trust_test_root(), "localhost", SCHAN_E_CERT_UNTRUSTED));
}

TEST(Verification, UsesIntermediatesFromBundle)
{
    const ServerCertificate server({"leaf.pem"});
    const Config config = make_config(SCHAN_VERIFY_CUSTOM_ONLY, {"root.pem", "inter.pem"});
    EXPECT_TRUE(verifies_as(server, config, "localhost", SCHAN_OK));
}

// Like OpenSSL without X509_V_FLAG_PARTIAL_CHAIN: only a self-signed
// certificate of the bundle is a trust anchor.
TEST(Verification, IntermediateAloneIsNoTrustAnchor)
{
    const ServerCertificate server({"leaf.pem", "inter.pem"});
    const Config config = make_config(SCHAN_VERIFY_CUSTOM_ONLY, {"inter.pem"});
    EXPECT_TRUE(verifies_as(server, config, "localhost", SCHAN_E_CERT_UNTRUSTED));
}

TEST(Verification, RejectsClientOnlyCertificate)
{
    const ServerCertificate server({"client.pem", "inter.pem"});
    const Outcome outcome = verify(server, trust_test_root(), "");

    EXPECT_EQ(outcome.status, SCHAN_E_CERT_INVALID) << outcome.message;
    EXPECT_EQ(outcome.backend_code, static_cast<std::uint32_t>(CERT_E_WRONG_USAGE));
    EXPECT_NE(outcome.message.find("'CN=schan test client' is not valid for TLS server authentication"),
              std::string::npos) << outcome.message;
}

// The last bytes of a certificate are its signature, so changing one breaks
// the signature and nothing else.
TEST(Verification, RejectsBadSignature)
{
    std::vector<Der> certificates = read_all({"leaf.pem", "inter.pem"});
    certificates[0].back() ^= std::byte{0x01};
    const ServerCertificate server(certificates);
    const Outcome outcome = verify(server, trust_test_root(), "localhost");

    EXPECT_EQ(outcome.status, SCHAN_E_CERT_INVALID) << outcome.message;
    EXPECT_EQ(outcome.backend_code, static_cast<std::uint32_t>(TRUST_E_CERT_SIGNATURE));
    EXPECT_NE(outcome.message.find("the signature of 'CN=localhost' is invalid"), std::string::npos)
        << outcome.message;
    EXPECT_NE(outcome.message.find("TRUST_E_CERT_SIGNATURE (0x80096004)"), std::string::npos) << outcome.message;
}

TEST(Verification, EmptyNameSkipsNameCheck)
{
    const ServerCertificate server({"wrong-name.pem", "inter.pem"});
    EXPECT_TRUE(verifies_as(server, trust_test_root(), "", SCHAN_OK));
}

TEST(Verification, EmptyNameStillChecksChain)
{
    const ServerCertificate server({"foreign-leaf.pem", "foreign-root.pem"});
    EXPECT_TRUE(verifies_as(server, trust_test_root(), "", SCHAN_E_CERT_UNTRUSTED));
}

TEST(Verification, RejectsMissingCertificate)
{
    try {
        schan::schannel::verify_server_certificate(nullptr, trust_test_root(), "localhost");
        ADD_FAILURE() << "a missing certificate was accepted";
    } catch (const schan::Error& error) {
        EXPECT_EQ(error.status(), SCHAN_E_CERT_INVALID) << error.what();
    }
}

// --- IP addresses ------------------------------------------------------------

TEST(Verification, AcceptsIpv4Address)
{
    const ServerCertificate server({"leaf-ip.pem", "inter.pem"});
    EXPECT_TRUE(verifies_as(server, trust_test_root(), "127.0.0.1", SCHAN_OK));
}

TEST(Verification, AcceptsIpv6Address)
{
    const ServerCertificate server({"leaf-ip.pem", "inter.pem"});
    EXPECT_TRUE(verifies_as(server, trust_test_root(), "::1", SCHAN_OK));
    EXPECT_TRUE(verifies_as(server, trust_test_root(), "0:0:0:0:0:0:0:1", SCHAN_OK));
}

TEST(Verification, RejectsOtherIpAddress)
{
    const ServerCertificate server({"leaf-ip.pem", "inter.pem"});
    const Outcome outcome = verify(server, trust_test_root(), "127.0.0.2");

    EXPECT_EQ(outcome.status, SCHAN_E_CERT_NAME_MISMATCH) << outcome.message;
    EXPECT_EQ(outcome.backend_code, static_cast<std::uint32_t>(CERT_E_CN_NO_MATCH));
    EXPECT_NE(outcome.message.find("has no IP-address subject alternative name 127.0.0.2: its names are "
                                   "IP:127.0.0.1, IP:::1"),
              std::string::npos) << outcome.message;

    EXPECT_TRUE(verifies_as(server, trust_test_root(), "::2", SCHAN_E_CERT_NAME_MISMATCH));
}

TEST(Verification, IpLeafDoesNotMatchHostName)
{
    const ServerCertificate server({"leaf-ip.pem", "inter.pem"});
    EXPECT_TRUE(verifies_as(server, trust_test_root(), "localhost", SCHAN_E_CERT_NAME_MISMATCH));
}

// A DNS name that spells an address must not match that address (RFC 2818, section 3.1).
TEST(Verification, DnsNameDoesNotMatchIpAddress)
{
    const ServerCertificate server({"leaf-dns-ip.pem", "inter.pem"});
    const Outcome outcome = verify(server, trust_test_root(), "127.0.0.1");

    EXPECT_EQ(outcome.status, SCHAN_E_CERT_NAME_MISMATCH) << outcome.message;
    EXPECT_NE(outcome.message.find("its names are DNS:127.0.0.1"), std::string::npos) << outcome.message;
}

// No common-name fallback either: leaf.pem's subject is CN=localhost, and an
// IP leaf's CN is never compared with an address.
TEST(Verification, IpAddressIgnoresCommonName)
{
    const ServerCertificate server({"leaf.pem", "inter.pem"});
    EXPECT_TRUE(verifies_as(server, trust_test_root(), "127.0.0.1", SCHAN_E_CERT_NAME_MISMATCH));
}

TEST(Verification, IpAddressStillChecksChain)
{
    const ServerCertificate server({"leaf-ip.pem"});
    EXPECT_TRUE(verifies_as(server, trust_test_root(), "127.0.0.1", SCHAN_E_CERT_UNTRUSTED));
}

TEST(IpAddressParsing, AcceptsIpv4)
{
    using schan::schannel::parse_ip_address;
    EXPECT_EQ(parse_ip_address("127.0.0.1"), bytes({127, 0, 0, 1}));
    EXPECT_EQ(parse_ip_address("0.0.0.0"), bytes({0, 0, 0, 0}));
    EXPECT_EQ(parse_ip_address("255.255.255.255"), bytes({255, 255, 255, 255}));
}

TEST(IpAddressParsing, AcceptsIpv6)
{
    using schan::schannel::parse_ip_address;
    EXPECT_EQ(parse_ip_address("::1"), bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
    EXPECT_EQ(parse_ip_address("::"), bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
    EXPECT_EQ(parse_ip_address("2001:DB8::ff00:42:8329"),
              bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0x42, 0x83, 0x29}));
    EXPECT_EQ(parse_ip_address("1:2:3:4:5:6:7:8"), bytes({0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8}));
    EXPECT_EQ(parse_ip_address("1:2:3:4:5:6:7::"), bytes({0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0}));
    EXPECT_EQ(parse_ip_address("::ffff:192.0.2.1"),
              bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1}));
}

TEST(IpAddressParsing, RejectsHostNamesAndMalformedAddresses)
{
    using schan::schannel::parse_ip_address;
    for (const char* text : {"", "localhost", "example.com", "127.0.0", "127.0.0.1.2", "256.0.0.1", "127.0.0.01",
                             "1.2.3.4.", ".1.2.3", "1..2.3", "127.0.0.1 ", "0x7f.0.0.1", ":", ":::", "1::2::3",
                             "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "::g", ":1::", "1::2:", "[::1]",
                             "fe80::1%eth0", "::1.2.3", "1.2.3.4::", "::ffff:1.2.3.4:5", "1:2:3:4:5:6:7:8::"}) {
        EXPECT_FALSE(parse_ip_address(text).has_value()) << "'" << text << "' was parsed as an IP address";
    }
}

// --- Verify modes --------------------------------------------------------------

TEST(Verification, CustomOnlyWithEmptyBundleTrustsNothing)
{
    const ServerCertificate server({"leaf.pem", "inter.pem"});
    EXPECT_TRUE(verifies_as(server, make_config(SCHAN_VERIFY_CUSTOM_ONLY), "localhost", SCHAN_E_CERT_UNTRUSTED));
}

TEST(Verification, CustomOnlyIgnoresOtherBundleRoots)
{
    const ServerCertificate server({"leaf.pem", "inter.pem"});
    const Config config = make_config(SCHAN_VERIFY_CUSTOM_ONLY, {"foreign-root.pem"});
    EXPECT_TRUE(verifies_as(server, config, "localhost", SCHAN_E_CERT_UNTRUSTED));
}

TEST(Verification, CustomOnlyTrustsPinnedSelfSigned)
{
    const ServerCertificate server({"self-signed.pem"});
    const Config config = make_config(SCHAN_VERIFY_CUSTOM_ONLY, {"self-signed.pem"});
    EXPECT_TRUE(verifies_as(server, config, "localhost", SCHAN_OK));
}

TEST(Verification, CustomOnlyAcceptsSeveralBundleRoots)
{
    const ServerCertificate server({"foreign-leaf.pem"});
    const Config config = make_config(SCHAN_VERIFY_CUSTOM_ONLY, {"root.pem", "foreign-root.pem"});
    EXPECT_TRUE(verifies_as(server, config, "localhost", SCHAN_OK));
}

TEST(Verification, CustomAndSystemAcceptsBundleRoot)
{
    const ServerCertificate server({"leaf.pem", "inter.pem"});
    const Config config = make_config(SCHAN_VERIFY_CUSTOM_AND_SYSTEM, {"root.pem"});
    EXPECT_TRUE(verifies_as(server, config, "localhost", SCHAN_OK));
}

TEST(Verification, CustomAndSystemRejectsUnknownRoot)
{
    const ServerCertificate server({"foreign-leaf.pem", "foreign-root.pem"});
    const Outcome outcome = verify(server, make_config(SCHAN_VERIFY_CUSTOM_AND_SYSTEM, {"root.pem"}), "localhost");

    EXPECT_EQ(outcome.status, SCHAN_E_CERT_UNTRUSTED) << outcome.message;
    EXPECT_NE(outcome.message.find("which is not in the configured CA bundle or the system root store"),
              std::string::npos) << outcome.message;
}

// The system engine reports "untrusted" for the test root, so the error worth
// reporting is the bundle engine's.
TEST(Verification, CustomAndSystemReportsBundleFailure)
{
    const ServerCertificate server({"expired.pem", "inter.pem"});
    const Config config = make_config(SCHAN_VERIFY_CUSTOM_AND_SYSTEM, {"root.pem"});
    EXPECT_TRUE(verifies_as(server, config, "localhost", SCHAN_E_CERT_EXPIRED));
}

TEST(Verification, CustomAndSystemChecksName)
{
    const ServerCertificate server({"leaf.pem", "inter.pem"});
    const Config config = make_config(SCHAN_VERIFY_CUSTOM_AND_SYSTEM, {"root.pem"});
    EXPECT_TRUE(verifies_as(server, config, "other.example", SCHAN_E_CERT_NAME_MISMATCH));
}

TEST(Verification, SystemModeRejectsUninstalledRoot)
{
    const ServerCertificate server({"leaf.pem", "inter.pem"});
    const Outcome outcome = verify(server, make_config(SCHAN_VERIFY_SYSTEM), "localhost");

    EXPECT_EQ(outcome.status, SCHAN_E_CERT_UNTRUSTED) << outcome.message;
    // The system engine finds no issuer for the intermediate, because the
    // server does not send the root. The message calls the chain incomplete
    // instead of naming an untrusted root.
    EXPECT_NE(outcome.message.find("found in the system root store"), std::string::npos) << outcome.message;
}

TEST(Verification, SystemModeIgnoresBundle)
{
    const ServerCertificate server({"leaf.pem", "inter.pem"});
    EXPECT_TRUE(verifies_as(server, make_config(SCHAN_VERIFY_SYSTEM, {"root.pem"}), "localhost", SCHAN_E_CERT_UNTRUSTED));
}

TEST(Verification, NoneModeChecksNothing)
{
    const ServerCertificate server({"self-signed.pem"});
    EXPECT_TRUE(verifies_as(server, make_config(SCHAN_VERIFY_NONE), "other.example", SCHAN_OK));
}

TEST(Verification, RejectsMalformedBundle)
{
    const ServerCertificate server({"leaf.pem", "inter.pem"});
    Config config = trust_test_root();
    config.ca_certificates.push_back(Der{std::byte{0x30}, std::byte{0x03}, std::byte{0x02}, std::byte{0x01},
                                         std::byte{0x05}});
    EXPECT_TRUE(verifies_as(server, config, "localhost", SCHAN_E_BAD_FORMAT));
}

// --- Revocation ----------------------------------------------------------------

// The test certificates name no CRL distribution point or OCSP responder, so
// their revocation status is unknown: fatal only in strict mode, and never a
// network wait.
TEST(Verification, RevocationModes)
{
    const ServerCertificate server({"leaf.pem", "inter.pem"});
    Config config = trust_test_root();

    const struct {
        schan_revocation_mode mode;
        schan_status expected;
    } cases[] = {
        {SCHAN_REVOCATION_BEST_EFFORT, SCHAN_OK},
        {SCHAN_REVOCATION_OFF, SCHAN_OK},
        {SCHAN_REVOCATION_STRICT, SCHAN_E_REVOCATION_UNKNOWN},
    };
    for (const auto& test_case : cases) {
        config.revocation_mode = test_case.mode;
        const auto started = std::chrono::steady_clock::now();
        const Outcome outcome = verify(server, config, "localhost");
        const auto elapsed = std::chrono::steady_clock::now() - started;

        EXPECT_EQ(outcome.status, test_case.expected)
            << "revocation mode " << test_case.mode << ": " << outcome.message;
        EXPECT_LT(elapsed, std::chrono::seconds(5)) << "revocation mode " << test_case.mode;
    }
}

TEST(Verification, StrictRevocationNamesCertificate)
{
    const ServerCertificate server({"leaf.pem", "inter.pem"});
    Config config = trust_test_root();
    config.revocation_mode = SCHAN_REVOCATION_STRICT;
    const Outcome outcome = verify(server, config, "localhost");

    EXPECT_EQ(outcome.status, SCHAN_E_REVOCATION_UNKNOWN) << outcome.message;
    EXPECT_NE(outcome.message.find("the revocation status of 'CN=localhost' could not be determined"),
              std::string::npos) << outcome.message;
    EXPECT_NE(outcome.message.find("the revocation mode is strict"), std::string::npos) << outcome.message;
}

// --- peer_chain ------------------------------------------------------------------

TEST(PeerChain, ReturnsBuiltChainLeafFirst)
{
    const ServerCertificate server({"leaf.pem", "inter.pem"});
    const std::vector<Der> chain = schan::schannel::peer_chain(server.leaf(), trust_test_root());

    ASSERT_EQ(chain.size(), 3u);
    EXPECT_EQ(chain[0], read_certificates("leaf.pem").at(0));
    EXPECT_EQ(chain[1], read_certificates("inter.pem").at(0));
    EXPECT_EQ(chain[2], read_certificates("root.pem").at(0));
}

TEST(PeerChain, CompletesChainFromBundle)
{
    const ServerCertificate server({"leaf.pem"});
    const Config config = make_config(SCHAN_VERIFY_CUSTOM_ONLY, {"root.pem", "inter.pem"});
    const std::vector<Der> chain = schan::schannel::peer_chain(server.leaf(), config);

    ASSERT_EQ(chain.size(), 3u);
    EXPECT_EQ(chain[1], read_certificates("inter.pem").at(0));
}

TEST(PeerChain, ReturnsSentCertificatesWhenUntrusted)
{
    const ServerCertificate server({"foreign-leaf.pem", "foreign-root.pem"});
    const std::vector<Der> chain = schan::schannel::peer_chain(server.leaf(), make_config(SCHAN_VERIFY_NONE));

    ASSERT_EQ(chain.size(), 2u);
    EXPECT_EQ(chain[0], read_certificates("foreign-leaf.pem").at(0));
    EXPECT_EQ(chain[1], read_certificates("foreign-root.pem").at(0));
}

TEST(PeerChain, ReturnsLeafAloneForSelfSigned)
{
    const ServerCertificate server({"self-signed.pem"});
    const std::vector<Der> chain = schan::schannel::peer_chain(server.leaf(), trust_test_root());

    ASSERT_EQ(chain.size(), 1u);
    EXPECT_EQ(chain[0], read_certificates("self-signed.pem").at(0));
}

TEST(PeerChain, EmptyWithoutCertificate)
{
    EXPECT_TRUE(schan::schannel::peer_chain(nullptr, trust_test_root()).empty());
}

// --- Revocation against a CRL server -------------------------------------------

// Only one check of the revoked certificate: Wine 8 caches a CRL result per
// certificate in the prefix and stores a revoked one as good, so a second
// check would pass.
TEST(Revocation, RejectsRevokedLeaf)
{
    const CrlServer crl_server("revoked");
    const ServerCertificate server({crl_server.leaf_file(), "inter.pem"});
    const Outcome outcome = verify(server, trust_test_root(SCHAN_REVOCATION_BEST_EFFORT), "localhost");

    EXPECT_EQ(outcome.status, SCHAN_E_CERT_REVOKED) << outcome.message;
    EXPECT_EQ(outcome.backend_code, static_cast<std::uint32_t>(CRYPT_E_REVOKED));
    EXPECT_NE(outcome.message.find("'CN=localhost' is revoked"), std::string::npos) << outcome.message;
    // The CRL server's log line reaches the test through the peer host, so it
    // may arrive after the verification has returned.
    EXPECT_TRUE(crl_server.peer().wait_for_output("GET /")) << crl_server.peer().output();
}

TEST(Revocation, AcceptsLeafListedAsGood)
{
    const CrlServer crl_server("good");
    const ServerCertificate server({crl_server.leaf_file(), "inter.pem"});

    EXPECT_TRUE(verifies_as(server, trust_test_root(SCHAN_REVOCATION_BEST_EFFORT), "localhost", SCHAN_OK));
    // The CRL server's log line reaches the test through the peer host, so it
    // may arrive after the verification has returned.
    EXPECT_TRUE(crl_server.peer().wait_for_output("GET /")) << crl_server.peer().output();
}

// The leaf's status is known, but the intermediate names no CRL distribution
// point, so strict mode fails on the intermediate.
TEST(Revocation, StrictNamesCertificateWithoutCrl)
{
    const CrlServer crl_server("good");
    const ServerCertificate server({crl_server.leaf_file(), "inter.pem"});
    const Outcome outcome = verify(server, trust_test_root(SCHAN_REVOCATION_STRICT), "localhost");

    EXPECT_EQ(outcome.status, SCHAN_E_REVOCATION_UNKNOWN) << outcome.message;
    EXPECT_NE(outcome.message.find("the revocation status of 'CN=schan test intermediate' could not be determined"),
              std::string::npos) << outcome.message;
}

// A CRL server that never responds must not stall the handshake: the URL
// retrieval timeout bounds each chain build (7.5 s measured under Wine 8).
TEST(Revocation, StalledCrlServerIsBounded)
{
    const CrlServer crl_server("silent");
    const ServerCertificate server({crl_server.leaf_file(), "inter.pem"});

    const struct {
        schan_revocation_mode mode;
        schan_status expected;
    } cases[] = {
        {SCHAN_REVOCATION_STRICT, SCHAN_E_REVOCATION_UNKNOWN},
        {SCHAN_REVOCATION_BEST_EFFORT, SCHAN_OK},
        {SCHAN_REVOCATION_OFF, SCHAN_OK},
    };
    for (const auto& test_case : cases) {
        const auto started = std::chrono::steady_clock::now();
        const Outcome outcome = verify(server, trust_test_root(test_case.mode), "localhost");
        const auto elapsed = std::chrono::steady_clock::now() - started;

        EXPECT_EQ(outcome.status, test_case.expected)
            << "revocation mode " << test_case.mode << ": " << outcome.message;
        EXPECT_LT(elapsed, std::chrono::seconds(30)) << "revocation mode " << test_case.mode;
    }
    EXPECT_NE(crl_server.peer().output().find("accepted connection"), std::string::npos)
        << crl_server.peer().output();
}
