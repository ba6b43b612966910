// Self-test of the test infrastructure: the PKI the peer host generated and
// its control protocol, run against real processes. Runs natively and under
// Wine, where it also checks Winsock and the Z:\ paths.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "support/peers.h"

using namespace std::chrono_literals;
using schan::test::Peer;
using schan::test::Pki;
using schan::test::Socket;

namespace {

const std::vector<std::string> kSServer = {
    "openssl", "s_server", "-accept", "127.0.0.1:{port}", "-cert", "{pki}/leaf.pem",
    "-key", "{pki}/leaf.key", "-cert_chain", "{pki}/inter.pem"};

} // namespace

TEST(Pki, EveryListedFileExists)
{
    const char* files[] = {
        "root.pem", "root.key", "inter.pem", "inter.key", "leaf.pem", "leaf.key", "leaf-chain.pem",
        "leaf-ip.pem", "leaf-ip.key", "leaf-dns-ip.pem", "leaf-dns-ip.key", "wrong-name.pem",
        "wrong-name.key", "expired.pem", "expired.key", "foreign-root.pem", "foreign-root.key",
        "foreign-leaf.pem", "foreign-leaf.key", "self-signed.pem", "self-signed.key", "leaf-ec.pem",
        "leaf-ec.key", "inter2.pem", "inter3.pem", "inter4.pem", "inter5.pem", "long-chain.pem",
        "long-leaf.pem", "long-leaf.key", "client.pem", "client.key", "leaf.p12", "client.p12",
        "leaf-legacy.p12", "leaf-nopass.p12"};
    for (const char* file : files)
        EXPECT_FALSE(Pki::read(file).empty()) << file;
}

TEST(Pki, LeafChainIsLeafThenIntermediate)
{
    const std::string chain = Pki::read("leaf-chain.pem");

    EXPECT_EQ(schan::test::pem_to_der(chain, 0), schan::test::pem_to_der(Pki::read("leaf.pem")));
    EXPECT_EQ(schan::test::pem_to_der(chain, 1), schan::test::pem_to_der(Pki::read("inter.pem")));
    EXPECT_THROW(schan::test::pem_to_der(chain, 2), std::runtime_error);
}

TEST(Pki, DerStartsWithSequence)
{
    const auto der = schan::test::pem_to_der(Pki::read("root.pem"));

    ASSERT_GT(der.size(), 4u);
    EXPECT_EQ(der[0], 0x30);  // SEQUENCE
    EXPECT_EQ(der[1], 0x82);  // two length bytes follow
    EXPECT_EQ(static_cast<std::size_t>(der[2] << 8 | der[3]) + 4, der.size());
}

TEST(Pki, PathFormMatchesPlatform)
{
    const std::string path = Pki::path("root.pem");
#ifdef _WIN32
    EXPECT_EQ(path.rfind("Z:\\", 0), 0u) << path;
    EXPECT_EQ(path.find('/'), std::string::npos) << path;
#else
    EXPECT_EQ(path, Pki::host_path("root.pem"));
#endif
}

TEST(PeerHost, StartsServerAndReadsOutput)
{
    Peer server = Peer::start(kSServer, 30s);

    ASSERT_NE(server.port(), 0);
    EXPECT_TRUE(server.wait_for_output("ACCEPT")) << server.output();
}

TEST(PeerHost, ServerSeesRawConnection)
{
    Peer server = Peer::start(kSServer, 30s);

    Socket socket = Socket::connect("127.0.0.1", server.port(), 5000ms);
    socket.send_all("this is not a TLS record\r\n\r\n");
    socket.shutdown_write();

    EXPECT_TRUE(server.wait_for_output("ERROR")) << server.output();
}

TEST(PeerHost, ClientPeerReachesServerPeer)
{
    Peer server = Peer::start(kSServer, 30s);
    const std::vector<std::string> client_argv = {
        "openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(server.port()),
        "-CAfile", "{pki}/root.pem", "-verify_return_error", "-servername", "localhost", "-brief"};
    Peer client = Peer::start(client_argv, 30s, false);

    EXPECT_TRUE(client.wait_for_output("Verification: OK")) << client.output();
    client.write_stdin("Q\n");
    EXPECT_EQ(client.wait_exit(), 0) << client.output();
}

TEST(PeerHost, WritesStdin)
{
    Peer echo = Peer::start({"python3", "-c", "import sys; print(sys.stdin.readline().upper(), flush=True)"}, 30s,
                            false);

    echo.write_stdin("two words\n");

    EXPECT_TRUE(echo.wait_for_output("TWO WORDS")) << echo.output();
    EXPECT_EQ(echo.wait_exit(), 0);
}

TEST(PeerHost, WaitExitTimesOut)
{
    Peer sleeper = Peer::start({"sleep", "30"}, 30s, false);

    EXPECT_EQ(sleeper.wait_exit(200ms), -1);
    EXPECT_EQ(sleeper.stop(), 128 + 15);  // SIGTERM
}

TEST(PeerHost, KillsPeerAfterTimeout)
{
    Peer sleeper = Peer::start({"sleep", "30"}, 1s, false);

    EXPECT_NE(sleeper.wait_exit(10000ms), -1);
    EXPECT_TRUE(sleeper.wait_for_output("timeout", 1000ms)) << sleeper.output();
}

TEST(PeerHost, ReportsPeerThatNeverListens)
{
    try {
        Peer::start({"python3", "-c", "print('bad arguments'); raise SystemExit(3)"}, 30s);
        FAIL() << "Peer::start returned for a process that exited";
    } catch (const std::runtime_error& error) {
        EXPECT_NE(std::string(error.what()).find("exited with code 3"), std::string::npos) << error.what();
        EXPECT_NE(std::string(error.what()).find("bad arguments"), std::string::npos) << error.what();
    }
}

TEST(PeerHost, RejectsServerOnEveryAddress)
{
    try {
        Peer::start({"openssl", "s_server", "-accept", "{port}", "-cert", "{pki}/leaf.pem", "-key", "{pki}/leaf.key"},
                    30s);
        FAIL() << "Peer::start accepted a server listening on every address";
    } catch (const std::runtime_error& error) {
        EXPECT_NE(std::string(error.what()).find("non-loopback"), std::string::npos) << error.what();
    }
}

TEST(PeerHost, SubstitutesPeersFolder)
{
    Peer server = Peer::start({"python3", "{peers}/echo_server.py", "--port", "{port}", "--cert",
                               "{pki}/leaf-chain.pem", "--key", "{pki}/leaf.key", "--timeout", "20"},
                              30s);

    EXPECT_TRUE(server.wait_for_output("listening on 127.0.0.1:" + std::to_string(server.port()))) << server.output();
}

TEST(Socket, RejectsNonLoopbackAddress)
{
    EXPECT_THROW(Socket::connect("192.0.2.1", 443), std::runtime_error);
    EXPECT_THROW(Socket::connect("example.com", 443), std::runtime_error);
}
