// Tests of the SChannel client against real peers. Hooks in the SSPI
// function table inject what only real Windows returns: TLS 1.3
// post-handshake messages, SEC_I_CONTEXT_EXPIRED, cipher suite numbers,
// output tokens with SEC_E_OK, SEC_I_INCOMPLETE_CREDENTIALS, a rejected
// SCH_CREDENTIALS and alert tokens. Each hook forwards to the real SChannel
// wherever it does not inject, so the bytes on the wire stay real.
// docs/windows-notes.md lists which test covers which Windows behaviour.
#include <gtest/gtest.h>

#include <windows.h>
#include <sspi.h>
#include <schannel.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "schannel/injection_support.h"
#include "schannel/sspi_injection.h"

using namespace std::chrono_literals;
using schan::test::buffer_bytes;
using schan::test::connect_client;
using schan::test::decrypt_record;
using schan::test::encrypt_record;
using schan::test::find_buffer;
using schan::test::first_record_size;
using schan::test::Peer;
using schan::test::python_peer;
using schan::test::records_peer;
using schan::test::s_server;
using schan::test::SspiInjection;

namespace {

// The first DWORD of every SChannel credential structure is its version.
DWORD credential_version(const void* auth_data)
{
    DWORD version = 0;
    std::memcpy(&version, auth_data, sizeof version);
    return version;
}

class SchannelInjection : public ::testing::Test {
protected:
    // Declared first, so that it outlives every session of the test.
    SspiInjection sspi;
};

} // namespace

// --- Post-handshake messages (Windows: TLS 1.3 NewSessionTicket, KeyUpdate) --

TEST_F(SchannelInjection, RenegotiateHandsLeftoverRecordsToInitializeContext)
{
    // As Windows 11 does for a TLS 1.3 NewSessionTicket: DecryptMessage
    // returns SEC_I_RENEGOTIATE and hands back the handshake record and
    // everything after it as EXTRA; InitializeSecurityContext then takes the
    // record and returns the application data after it as EXTRA again.
    Peer server = Peer::start(
        records_peer({"--record", "before", "--record", "TICKET", "--record", "after", "--close"}));
    auto client = connect_client(server.port());
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();

    bool ticket_next = false;
    bool post_handshake = false;
    std::vector<std::byte> leftover;
    std::vector<std::byte> token;
    std::string processed;
    schan_state state_during_exchange = SCHAN_STATE_FAILED;

    sspi.decrypt_message = [&](PCtxtHandle context, PSecBufferDesc message, ULONG sequence, ULONG* quality) {
        if (!ticket_next) {
            const SECURITY_STATUS status = sspi.real().DecryptMessage(context, message, sequence, quality);
            const SecBuffer* data = find_buffer(*message, SECBUFFER_DATA);
            ticket_next = status == SEC_E_OK && data != nullptr &&
                          std::string(static_cast<const char*>(data->pvBuffer), data->cbBuffer) == "before";
            return status;
        }
        ticket_next = false;
        post_handshake = true;
        SecBuffer& input = message->pBuffers[0];
        leftover = buffer_bytes(input);
        message->pBuffers[1] = SecBuffer{input.cbBuffer, SECBUFFER_EXTRA, input.pvBuffer};
        input.cbBuffer = 0;
        return SEC_I_RENEGOTIATE;
    };
    sspi.initialize_context = [&](PCredHandle credentials, PCtxtHandle context, SEC_WCHAR* target, ULONG request,
                                  ULONG reserved1, ULONG representation, PSecBufferDesc input, ULONG reserved2,
                                  PCtxtHandle new_context, PSecBufferDesc output, ULONG* attributes,
                                  PTimeStamp expiry) {
        if (!post_handshake)
            return sspi.real().InitializeSecurityContextW(credentials, context, target, request, reserved1,
                                                          representation, input, reserved2, new_context, output,
                                                          attributes, expiry);
        post_handshake = false;
        state_during_exchange = schan_get_state(client->session());
        token = buffer_bytes(input->pBuffers[0]);

        // Process the first record for real, so that the record sequence
        // numbers stay in step with the server.
        const std::size_t record_size = first_record_size(token);
        processed = decrypt_record(sspi.real(), context,
                                   std::vector<std::byte>(token.begin(), token.begin() + record_size));
        if (token.size() > record_size)
            input->pBuffers[1] = SecBuffer{static_cast<unsigned long>(token.size() - record_size), SECBUFFER_EXTRA,
                                           static_cast<std::byte*>(input->pBuffers[0].pvBuffer) + record_size};
        output->pBuffers[0].cbBuffer = 0;
        *attributes = request;
        return SEC_E_OK;
    };

    ASSERT_EQ(client->write("request\n"), SCHAN_OK) << client->error();
    schan_status status = SCHAN_OK;
    const std::string received = client->read_to_end(status);

    EXPECT_EQ(received, "beforeafter");
    EXPECT_EQ(status, SCHAN_CLOSED) << client->error();
    EXPECT_EQ(state_during_exchange, SCHAN_STATE_RENEGOTIATING);
    EXPECT_EQ(processed, "TICKET");
    EXPECT_FALSE(leftover.empty());
    EXPECT_EQ(token, leftover) << "InitializeSecurityContext did not get the bytes from EXTRA on";
}

TEST_F(SchannelInjection, RenegotiateWithApplicationDataInExtra)
{
    // The other order Windows may use: DecryptMessage processes the
    // handshake record itself, returns SEC_I_RENEGOTIATE and the records
    // after it as EXTRA, and InitializeSecurityContext hands all of them
    // back as EXTRA with SEC_E_OK.
    Peer server = Peer::start(
        records_peer({"--record", "before", "--record", "TICKET", "--record", "after", "--close"}));
    auto client = connect_client(server.port());
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();

    bool post_handshake = false;
    std::vector<std::byte> leftover;
    std::vector<std::byte> token;
    schan_state state_during_exchange = SCHAN_STATE_FAILED;

    sspi.decrypt_message = [&](PCtxtHandle context, PSecBufferDesc message, ULONG sequence, ULONG* quality) {
        const SECURITY_STATUS status = sspi.real().DecryptMessage(context, message, sequence, quality);
        const SecBuffer* data = find_buffer(*message, SECBUFFER_DATA);
        if (status != SEC_E_OK || data == nullptr ||
            std::string(static_cast<const char*>(data->pvBuffer), data->cbBuffer) != "TICKET")
            return status;
        post_handshake = true;
        const SecBuffer* extra = find_buffer(*message, SECBUFFER_EXTRA);
        leftover = extra == nullptr ? std::vector<std::byte>() : buffer_bytes(*extra);
        return SEC_I_RENEGOTIATE;
    };
    sspi.initialize_context = [&](PCredHandle credentials, PCtxtHandle context, SEC_WCHAR* target, ULONG request,
                                  ULONG reserved1, ULONG representation, PSecBufferDesc input, ULONG reserved2,
                                  PCtxtHandle new_context, PSecBufferDesc output, ULONG* attributes,
                                  PTimeStamp expiry) {
        if (!post_handshake)
            return sspi.real().InitializeSecurityContextW(credentials, context, target, request, reserved1,
                                                          representation, input, reserved2, new_context, output,
                                                          attributes, expiry);
        post_handshake = false;
        state_during_exchange = schan_get_state(client->session());
        token = buffer_bytes(input->pBuffers[0]);
        if (!token.empty())
            input->pBuffers[1] = SecBuffer{input->pBuffers[0].cbBuffer, SECBUFFER_EXTRA, input->pBuffers[0].pvBuffer};
        output->pBuffers[0].cbBuffer = 0;
        *attributes = request;
        return SEC_E_OK;
    };

    ASSERT_EQ(client->write("request\n"), SCHAN_OK) << client->error();
    schan_status status = SCHAN_OK;
    const std::string received = client->read_to_end(status);

    EXPECT_EQ(received, "beforeafter");
    EXPECT_EQ(status, SCHAN_CLOSED) << client->error();
    EXPECT_EQ(state_during_exchange, SCHAN_STATE_RENEGOTIATING);
    EXPECT_FALSE(leftover.empty()) << "the records after TICKET did not arrive in the same read";
    EXPECT_EQ(token, leftover);
}

TEST_F(SchannelInjection, Tls12RenegotiationUnderWineFailsClearly)
{
    // Not injected: Wine 8's DecryptMessage returns SEC_I_RENEGOTIATE for a
    // HelloRequest, and its InitializeSecurityContext then returns
    // SEC_E_INCOMPLETE_MESSAGE. That must be an error, not a wait for input.
    if (!schan::test::is_wine())
        GTEST_SKIP() << "Windows performs TLS 1.2 renegotiation";

    Peer server = Peer::start(s_server({"-tls1_2"}));
    auto client = connect_client(server.port());
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
    ASSERT_TRUE(server.wait_for_output("CIPHER is")) << server.output();

    server.write_stdin("r\n");
    schan_status status = SCHAN_OK;
    const auto started = std::chrono::steady_clock::now();
    const std::string received = client->read(1, status);

    EXPECT_EQ(received, "");
    EXPECT_EQ(status, SCHAN_E_UNSUPPORTED) << client->error();
    EXPECT_NE(client->error().find("renegotiation"), std::string::npos) << client->error();
    EXPECT_NE(client->error().find("SEC_E_INCOMPLETE_MESSAGE"), std::string::npos) << client->error();
    EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
}

// --- close_notify -------------------------------------------------------------

TEST_F(SchannelInjection, ContextExpiredIsCloseNotify)
{
    // Windows reports the peer's close_notify as SEC_I_CONTEXT_EXPIRED, Wine
    // 8 as SEC_E_OK with no data; the hook turns the second into the first.
    const std::string body = "the body before close_notify\n";
    Peer server = Peer::start(python_peer("{peers}/close_notify_server.py", {"--body", body}));
    auto client = connect_client(server.port());
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();

    int injected = 0;
    sspi.decrypt_message = [&](PCtxtHandle context, PSecBufferDesc message, ULONG sequence, ULONG* quality) {
        const auto content_type = static_cast<const unsigned char*>(message->pBuffers[0].pvBuffer)[0];
        const SECURITY_STATUS status = sspi.real().DecryptMessage(context, message, sequence, quality);
        const SecBuffer* data = find_buffer(*message, SECBUFFER_DATA);
        if (status == SEC_E_OK && content_type == 21 && (data == nullptr || data->cbBuffer == 0)) {
            ++injected;
            return SEC_I_CONTEXT_EXPIRED;
        }
        return status;
    };

    ASSERT_EQ(client->write("request\n"), SCHAN_OK) << client->error();
    schan_status status = SCHAN_OK;
    const std::string received = client->read_to_end(status);

    EXPECT_EQ(received, body);
    EXPECT_EQ(status, SCHAN_CLOSED) << client->error();
    EXPECT_EQ(injected, 1);
    EXPECT_EQ(schan_get_state(client->session()), SCHAN_STATE_CLOSING);
}

TEST_F(SchannelInjection, EmptyApplicationRecordIsNotCloseNotify)
{
    // An application_data record may carry no bytes; only an empty alert
    // record means close_notify. The hook empties one real record.
    Peer server = Peer::start(records_peer({"--record", "one", "--record", "EMPTY", "--record", "two", "--close"}));
    auto client = connect_client(server.port());
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();

    int emptied = 0;
    sspi.decrypt_message = [&](PCtxtHandle context, PSecBufferDesc message, ULONG sequence, ULONG* quality) {
        const SECURITY_STATUS status = sspi.real().DecryptMessage(context, message, sequence, quality);
        SecBuffer* data = find_buffer(*message, SECBUFFER_DATA);
        if (status == SEC_E_OK && data != nullptr &&
            std::string(static_cast<const char*>(data->pvBuffer), data->cbBuffer) == "EMPTY") {
            data->cbBuffer = 0;
            ++emptied;
        }
        return status;
    };

    ASSERT_EQ(client->write("request\n"), SCHAN_OK) << client->error();
    schan_status status = SCHAN_OK;
    const std::string received = client->read_to_end(status);

    EXPECT_EQ(received, "onetwo");
    EXPECT_EQ(status, SCHAN_CLOSED) << client->error();
    EXPECT_EQ(emptied, 1);
}

TEST_F(SchannelInjection, CorruptRecordIsProtocolError)
{
    // The hook flips one ciphertext byte of the first application-data
    // record before it reaches the real DecryptMessage, as a network fault or
    // an attacker would.
    const std::string body = "a body that arrives damaged\n";
    Peer server = Peer::start(python_peer("{peers}/close_notify_server.py", {"--body", body}));
    auto client = connect_client(server.port());
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();

    int corrupted = 0;
    sspi.decrypt_message = [&](PCtxtHandle context, PSecBufferDesc message, ULONG sequence, ULONG* quality) {
        auto* record = static_cast<unsigned char*>(message->pBuffers[0].pvBuffer);
        if (corrupted == 0 && record[0] == 23 && message->pBuffers[0].cbBuffer > 20) {
            record[message->pBuffers[0].cbBuffer / 2] ^= 0x01;
            ++corrupted;
        }
        return sspi.real().DecryptMessage(context, message, sequence, quality);
    };

    ASSERT_EQ(client->write("request\n"), SCHAN_OK) << client->error();
    schan_status status = SCHAN_OK;
    const std::string received = client->read_to_end(status);

    EXPECT_EQ(received, "");
    EXPECT_EQ(status, SCHAN_E_PROTOCOL) << client->error();
    EXPECT_EQ(corrupted, 1);
    EXPECT_NE(client->error().find("DecryptMessage failed"), std::string::npos) << client->error();
    EXPECT_EQ(schan_get_state(client->session()), SCHAN_STATE_FAILED);
}

// --- Cipher suite -------------------------------------------------------------

namespace {

struct CipherCase {
    const char* name;
    DWORD suite;                // reported by SECPKG_ATTR_CIPHER_INFO; 0 keeps the real result
    const wchar_t* suite_name;  // szCipherSuite
    const char* expected;
};

class CipherInfo : public SchannelInjection, public ::testing::WithParamInterface<CipherCase> {};

} // namespace

TEST_P(CipherInfo, NamesNegotiatedSuite)
{
    // The server negotiates TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (0xC02F).
    // A suite number from SChannel wins over the ServerHello, which is used
    // only when SChannel reports 0, as Wine 8 does.
    const CipherCase& cipher = GetParam();
    Peer server = Peer::start(python_peer("{peers}/echo_server.py", {"--tls12", "--ciphers", "ECDHE-RSA-AES128-GCM-SHA256"}));

    if (cipher.suite != 0) {
        sspi.query_context_attributes = [&](PCtxtHandle context, ULONG attribute, void* buffer) {
            if (attribute != SECPKG_ATTR_CIPHER_INFO)
                return sspi.real().QueryContextAttributesW(context, attribute, buffer);
            auto* info = static_cast<SecPkgContext_CipherInfo*>(buffer);
            *info = SecPkgContext_CipherInfo{};
            info->dwVersion = SECPKGCONTEXT_CIPHERINFO_V1;
            info->dwProtocol = SP_PROT_TLS1_2_CLIENT;
            info->dwCipherSuite = cipher.suite;
            wcsncpy(info->szCipherSuite, cipher.suite_name, SZ_ALG_MAX_SIZE - 1);
            return SEC_E_OK;
        };
    }

    auto client = connect_client(server.port());
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();

    const char* name = nullptr;
    ASSERT_EQ(schan_get_cipher(client->session(), &name), SCHAN_OK);
    EXPECT_STREQ(name, cipher.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Injection, CipherInfo,
    ::testing::Values(
        CipherCase{"FromServerHello", 0, L"", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
        CipherCase{"KnownNumber", 0xC030, L"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                   "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
        CipherCase{"UnknownNumberUsesSchannelName", 0xFF01, L"TLS_EXAMPLE_VENDOR_SUITE", "TLS_EXAMPLE_VENDOR_SUITE"},
        CipherCase{"UnknownNumberWithoutName", 0xFF02, L"", "0xFF02"}),
    [](const auto& case_info) { return std::string(case_info.param.name); });

// --- InitializeSecurityContext results ----------------------------------------

TEST_F(SchannelInjection, OutputTokenWithFinalOkIsSent)
{
    // On Windows the TLS 1.3 client Finished comes with SEC_E_OK. The hook
    // appends a real application-data record to the token of the final
    // step; the echo server must receive it before later data.
    Peer server = Peer::start(python_peer("{peers}/echo_server.py", {"--tls12"}));
    const std::string with_finished = "sent with SEC_E_OK\n";
    int injected = 0;

    sspi.initialize_context = [&](PCredHandle credentials, PCtxtHandle context, SEC_WCHAR* target, ULONG request,
                                  ULONG reserved1, ULONG representation, PSecBufferDesc input, ULONG reserved2,
                                  PCtxtHandle new_context, PSecBufferDesc output, ULONG* attributes,
                                  PTimeStamp expiry) {
        const SECURITY_STATUS status =
            sspi.real().InitializeSecurityContextW(credentials, context, target, request, reserved1, representation,
                                                   input, reserved2, new_context, output, attributes, expiry);
        if (status != SEC_E_OK || input == nullptr || injected > 0 || output->pBuffers[0].cbBuffer != 0)
            return status;
        ++injected;
        const auto record = encrypt_record(sspi.real(), context, with_finished);
        output->pBuffers[0] = SecBuffer{static_cast<unsigned long>(record.size()), SECBUFFER_TOKEN,
                                        sspi.allocate_token(record)};
        return status;
    };

    auto client = connect_client(server.port());
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
    ASSERT_EQ(injected, 1);
    ASSERT_EQ(client->write("later\n"), SCHAN_OK) << client->error();

    schan_status status = SCHAN_OK;
    const std::string echoed = client->read(with_finished.size() + 6, status);

    EXPECT_EQ(echoed, with_finished + "later\n") << client->error();
}

TEST_F(SchannelInjection, IncompleteCredentialsRetriesSameInput)
{
    // The server requests a client certificate (-verify 1 makes it
    // optional). Windows may return SEC_I_INCOMPLETE_CREDENTIALS before it
    // processes the server's flight. The client calls again with the same
    // input and continues without a certificate.
    Peer server = Peer::start(s_server({"-www", "-verify", "1", "-tls1_2"}));
    std::vector<std::vector<std::byte>> inputs;

    sspi.initialize_context = [&](PCredHandle credentials, PCtxtHandle context, SEC_WCHAR* target, ULONG request,
                                  ULONG reserved1, ULONG representation, PSecBufferDesc input, ULONG reserved2,
                                  PCtxtHandle new_context, PSecBufferDesc output, ULONG* attributes,
                                  PTimeStamp expiry) {
        if (context != nullptr && input != nullptr && inputs.size() < 2) {
            inputs.push_back(buffer_bytes(input->pBuffers[0]));
            if (inputs.size() == 1) {
                output->pBuffers[0].cbBuffer = 0;
                *attributes = request;
                return SEC_I_INCOMPLETE_CREDENTIALS;
            }
        }
        return sspi.real().InitializeSecurityContextW(credentials, context, target, request, reserved1,
                                                      representation, input, reserved2, new_context, output,
                                                      attributes, expiry);
    };

    auto client = connect_client(server.port());
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
    ASSERT_EQ(inputs.size(), 2u);
    EXPECT_FALSE(inputs[0].empty());
    EXPECT_EQ(inputs[1], inputs[0]);

    ASSERT_EQ(client->write("GET / HTTP/1.0\r\n\r\n"), SCHAN_OK) << client->error();
    schan_status status = SCHAN_OK;
    const std::string answer = client->read_to_end(status);
    EXPECT_EQ(answer.rfind("HTTP/1.0 200 ok", 0), 0u) << answer.substr(0, 200);
    EXPECT_EQ(status, SCHAN_CLOSED) << client->error();
}

TEST_F(SchannelInjection, RepeatedIncompleteCredentialsFails)
{
    Peer server = Peer::start(s_server({"-www", "-verify", "1", "-tls1_2"}));
    int calls = 0;

    sspi.initialize_context = [&](PCredHandle credentials, PCtxtHandle context, SEC_WCHAR* target, ULONG request,
                                  ULONG reserved1, ULONG representation, PSecBufferDesc input, ULONG reserved2,
                                  PCtxtHandle new_context, PSecBufferDesc output, ULONG* attributes,
                                  PTimeStamp expiry) {
        if (context != nullptr && input != nullptr) {
            ++calls;
            output->pBuffers[0].cbBuffer = 0;
            *attributes = request;
            return SEC_I_INCOMPLETE_CREDENTIALS;
        }
        return sspi.real().InitializeSecurityContextW(credentials, context, target, request, reserved1,
                                                      representation, input, reserved2, new_context, output,
                                                      attributes, expiry);
    };

    auto client = connect_client(server.port());
    EXPECT_EQ(client->handshake(), SCHAN_E_HANDSHAKE_FAILED);
    EXPECT_EQ(calls, 2);
    EXPECT_NE(client->error().find("SEC_I_INCOMPLETE_CREDENTIALS"), std::string::npos) << client->error();
}

namespace {

struct AlertCase {
    const char* name;
    unsigned long buffer_index;  // 0: the SECBUFFER_TOKEN buffer, 1: the SECBUFFER_ALERT buffer
};

class AlertToken : public SchannelInjection, public ::testing::WithParamInterface<AlertCase> {};

} // namespace

TEST_P(AlertToken, ReachesServerBeforeError)
{
    // A failing InitializeSecurityContext may return a fatal alert to send.
    // The hook fails the step that gets the server's first flight and
    // returns handshake_failure (40); the server must receive it.
    Peer server = Peer::start(python_peer("{peers}/echo_server.py", {"--tls12"}));
    const std::vector<std::byte> alert = {std::byte{21}, std::byte{3}, std::byte{3}, std::byte{0},
                                          std::byte{2},  std::byte{2}, std::byte{40}};
    bool injected = false;

    sspi.initialize_context = [&](PCredHandle credentials, PCtxtHandle context, SEC_WCHAR* target, ULONG request,
                                  ULONG reserved1, ULONG representation, PSecBufferDesc input, ULONG reserved2,
                                  PCtxtHandle new_context, PSecBufferDesc output, ULONG* attributes,
                                  PTimeStamp expiry) {
        if (context == nullptr || input == nullptr || injected)
            return sspi.real().InitializeSecurityContextW(credentials, context, target, request, reserved1,
                                                          representation, input, reserved2, new_context, output,
                                                          attributes, expiry);
        injected = true;
        SecBuffer& target_buffer = output->pBuffers[GetParam().buffer_index];
        target_buffer.cbBuffer = static_cast<unsigned long>(alert.size());
        target_buffer.pvBuffer = sspi.allocate_token(alert);
        *attributes = request | ISC_RET_EXTENDED_ERROR;
        return SEC_E_ILLEGAL_MESSAGE;
    };

    auto client = connect_client(server.port());
    EXPECT_EQ(client->handshake(), SCHAN_E_PROTOCOL);
    EXPECT_NE(client->error().find("SEC_E_ILLEGAL_MESSAGE"), std::string::npos) << client->error();
    EXPECT_TRUE(server.wait_for_output("alert handshake failure")) << server.output();
}

INSTANTIATE_TEST_SUITE_P(Injection, AlertToken,
                         ::testing::Values(AlertCase{"InToken", 0}, AlertCase{"InAlertBuffer", 1}),
                         [](const auto& case_info) { return std::string(case_info.param.name); });

TEST_F(SchannelInjection, ServerAlertIsNamed)
{
    // Not injected: SChannel reports a received alert only as a failure
    // status (Wine 8: SEC_E_INTERNAL_ERROR), so the client names the alert
    // from the plaintext alert record in the handshake input.
    Peer server = Peer::start(s_server({"-alpn", "http/1.1"}));
    auto config = schan::test::test_config();
    ASSERT_EQ(schan_config_add_alpn(config.get(), "h2"), SCHAN_OK);
    auto client = connect_client(server.port(), "localhost", config.get());

    EXPECT_EQ(client->handshake(), SCHAN_E_ALERT_RECEIVED) << client->error();
    EXPECT_NE(client->error().find("no_application_protocol (120)"), std::string::npos) << client->error();
}

TEST_F(SchannelInjection, ProtocolVersionAlertIsUnsupportedVersion)
{
    // Not injected: a TLS 1.3-only server responds to Wine 8's TLS 1.2
    // ClientHello with the alert protocol_version.
    if (!schan::test::is_wine())
        GTEST_SKIP() << "Windows 11 negotiates TLS 1.3";
    Peer server = Peer::start(s_server({"-www", "-tls1_3"}));
    auto client = connect_client(server.port());

    EXPECT_EQ(client->handshake(), SCHAN_E_UNSUPPORTED_VERSION) << client->error();
    EXPECT_NE(client->error().find("protocol_version (70)"), std::string::npos) << client->error();
}

TEST_F(SchannelInjection, RejectedCertificateRequestsAlert)
{
    // After a failed verification the client asks SChannel for a fatal
    // alert that names the reason (SCHANNEL_ALERT). Wine 8 does not support
    // the token, so the alert is sent only on Windows; the hook checks the
    // request itself.
    Peer server = Peer::start({"python3", "{peers}/echo_server.py", "--port", "{port}", "--cert",
                               "{pki}/self-signed.pem", "--key", "{pki}/self-signed.key"});
    std::vector<SCHANNEL_ALERT_TOKEN> alerts;
    sspi.apply_control_token = [&](PCtxtHandle context, PSecBufferDesc input) {
        SCHANNEL_ALERT_TOKEN token{};
        if (input->pBuffers[0].cbBuffer == sizeof token) {
            std::memcpy(&token, input->pBuffers[0].pvBuffer, sizeof token);
            alerts.push_back(token);
        }
        return sspi.real().ApplyControlToken(context, input);
    };

    auto client = connect_client(server.port());
    EXPECT_EQ(client->handshake(), SCHAN_E_CERT_UNTRUSTED) << client->error();
    ASSERT_EQ(alerts.size(), 1u);
    EXPECT_EQ(alerts[0].dwTokenType, static_cast<DWORD>(SCHANNEL_ALERT));
    EXPECT_EQ(alerts[0].dwAlertType, static_cast<DWORD>(TLS1_ALERT_FATAL));
    EXPECT_EQ(alerts[0].dwAlertNumber, static_cast<DWORD>(TLS1_ALERT_UNKNOWN_CA));
}

TEST_F(SchannelInjection, NoTargetNameForIpLiteral)
{
    // SNI carries host names only (RFC 6066), so an IP literal gives
    // InitializeSecurityContext no target name.
    struct NameCase {
        const char* server_name;
        const char* certificate;  // a PEM file with a ".key" next to it
        const wchar_t* expected_target;
    };
    for (const NameCase& name : {NameCase{"localhost", "leaf", L"localhost"},
                                 NameCase{"127.0.0.1", "leaf-ip", nullptr}}) {
        SCOPED_TRACE(name.server_name);
        const std::string files = std::string("{pki}/") + name.certificate;
        Peer server = Peer::start({"openssl", "s_server", "-accept", "127.0.0.1:{port}", "-www", "-cert",
                                   files + ".pem", "-key", files + ".key", "-cert_chain", "{pki}/inter.pem"});
        std::vector<std::wstring> targets;
        std::vector<bool> null_targets;
        sspi.initialize_context = [&](PCredHandle credentials, PCtxtHandle context, SEC_WCHAR* target, ULONG request,
                                      ULONG reserved1, ULONG representation, PSecBufferDesc input, ULONG reserved2,
                                      PCtxtHandle new_context, PSecBufferDesc output, ULONG* attributes,
                                      PTimeStamp expiry) {
            if (context == nullptr) {
                null_targets.push_back(target == nullptr);
                targets.emplace_back(target == nullptr ? L"" : target);
            }
            return sspi.real().InitializeSecurityContextW(credentials, context, target, request, reserved1,
                                                          representation, input, reserved2, new_context, output,
                                                          attributes, expiry);
        };

        auto client = connect_client(server.port(), name.server_name);
        EXPECT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
        ASSERT_EQ(targets.size(), 1u);
        EXPECT_EQ(null_targets[0], name.expected_target == nullptr);
        if (name.expected_target != nullptr) {
            EXPECT_EQ(targets[0], name.expected_target);
        }
    }
}

// --- Credentials ---------------------------------------------------------------

namespace {

// What AcquireCredentialsHandleW received, call by call.
struct CredentialCall {
    DWORD version = 0;
    DWORD enabled_protocols = 0;   // SCHANNEL_CRED
    DWORD disabled_protocols = 0;  // SCH_CREDENTIALS' TLS_PARAMETERS
    DWORD flags = 0;
};

CredentialCall describe_credentials(const void* auth_data)
{
    CredentialCall call;
    call.version = credential_version(auth_data);
    if (call.version == SCH_CREDENTIALS_VERSION) {
        const auto* credentials = static_cast<const SCH_CREDENTIALS*>(auth_data);
        call.flags = credentials->dwFlags;
        if (credentials->cTlsParameters > 0)
            call.disabled_protocols = credentials->pTlsParameters[0].grbitDisabledProtocols;
    } else if (call.version == SCHANNEL_CRED_VERSION) {
        const auto* credentials = static_cast<const SCHANNEL_CRED*>(auth_data);
        call.flags = credentials->dwFlags;
        call.enabled_protocols = credentials->grbitEnabledProtocols;
    }
    return call;
}

constexpr DWORD kExpectedFlags = SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS;
constexpr DWORD kTls12And13 = SP_PROT_TLS1_2_CLIENT | SP_PROT_TLS1_3_CLIENT;
constexpr DWORD kOlderThanTls12 = SP_PROT_SSL2_CLIENT | SP_PROT_SSL3_CLIENT | SP_PROT_TLS1_0_CLIENT | SP_PROT_TLS1_1_CLIENT;

} // namespace

TEST_F(SchannelInjection, RejectedSchCredentialsFallsBackToSchannelCred)
{
    // Windows 10 before version 1809 does not know SCH_CREDENTIALS.
    Peer server = Peer::start(python_peer("{peers}/echo_server.py"));
    std::vector<CredentialCall> calls;
    sspi.acquire_credentials = [&](SEC_WCHAR* principal, SEC_WCHAR* package, ULONG use, void* logon_id,
                                   void* auth_data, SEC_GET_KEY_FN get_key, void* argument, PCredHandle credentials,
                                   PTimeStamp expiry) {
        calls.push_back(describe_credentials(auth_data));
        if (calls.back().version == SCH_CREDENTIALS_VERSION)
            return SEC_E_UNKNOWN_CREDENTIALS;
        return sspi.real().AcquireCredentialsHandleW(principal, package, use, logon_id, auth_data, get_key, argument,
                                                     credentials, expiry);
    };

    auto client = connect_client(server.port());
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
    ASSERT_EQ(calls.size(), 2u);
    EXPECT_EQ(calls[0].version, static_cast<DWORD>(SCH_CREDENTIALS_VERSION));
    EXPECT_EQ(calls[1].version, static_cast<DWORD>(SCHANNEL_CRED_VERSION));
    EXPECT_EQ(calls[1].enabled_protocols, kTls12And13);
    EXPECT_EQ(calls[1].flags & kExpectedFlags, kExpectedFlags);

    ASSERT_EQ(client->write("ping\n"), SCHAN_OK) << client->error();
    schan_status status = SCHAN_OK;
    EXPECT_EQ(client->read(5, status), "ping\n") << client->error();
}

TEST_F(SchannelInjection, HonoredSchCredentialsIsKept)
{
    // A provider whose credentials report exactly the enabled versions
    // honors TLS_PARAMETERS, so no fallback happens.
    Peer server = Peer::start(python_peer("{peers}/echo_server.py"));
    std::vector<CredentialCall> calls;
    sspi.acquire_credentials = [&](SEC_WCHAR* principal, SEC_WCHAR* package, ULONG use, void* logon_id,
                                   void* auth_data, SEC_GET_KEY_FN get_key, void* argument, PCredHandle credentials,
                                   PTimeStamp expiry) {
        calls.push_back(describe_credentials(auth_data));
        return sspi.real().AcquireCredentialsHandleW(principal, package, use, logon_id, auth_data, get_key, argument,
                                                     credentials, expiry);
    };
    sspi.query_credentials_attributes = [&](PCredHandle credentials, ULONG attribute, void* buffer) {
        if (attribute != SECPKG_ATTR_SUPPORTED_PROTOCOLS)
            return sspi.real().QueryCredentialsAttributesW(credentials, attribute, buffer);
        static_cast<SecPkgCred_SupportedProtocols*>(buffer)->grbitProtocol = kTls12And13;
        return SEC_E_OK;
    };

    auto client = connect_client(server.port());
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0].version, static_cast<DWORD>(SCH_CREDENTIALS_VERSION));
    EXPECT_EQ(calls[0].disabled_protocols, kOlderThanTls12);
    EXPECT_EQ(calls[0].flags & kExpectedFlags, kExpectedFlags);
}

TEST_F(SchannelInjection, IgnoredTlsParametersFallsBackToSchannelCred)
{
    // Wine 8 accepts SCH_CREDENTIALS but ignores TLS_PARAMETERS: its
    // credentials report SSL 3.0 to TLS 1.2 enabled whatever was disabled.
    Peer server = Peer::start(python_peer("{peers}/echo_server.py"));
    std::vector<CredentialCall> calls;
    sspi.acquire_credentials = [&](SEC_WCHAR* principal, SEC_WCHAR* package, ULONG use, void* logon_id,
                                   void* auth_data, SEC_GET_KEY_FN get_key, void* argument, PCredHandle credentials,
                                   PTimeStamp expiry) {
        calls.push_back(describe_credentials(auth_data));
        return sspi.real().AcquireCredentialsHandleW(principal, package, use, logon_id, auth_data, get_key, argument,
                                                     credentials, expiry);
    };
    sspi.query_credentials_attributes = [&](PCredHandle credentials, ULONG attribute, void* buffer) {
        if (attribute != SECPKG_ATTR_SUPPORTED_PROTOCOLS)
            return sspi.real().QueryCredentialsAttributesW(credentials, attribute, buffer);
        static_cast<SecPkgCred_SupportedProtocols*>(buffer)->grbitProtocol =
            SP_PROT_SSL3_CLIENT | SP_PROT_TLS1_0_CLIENT | SP_PROT_TLS1_1_CLIENT | SP_PROT_TLS1_2_CLIENT;
        return SEC_E_OK;
    };

    auto client = connect_client(server.port());
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
    ASSERT_EQ(calls.size(), 2u);
    EXPECT_EQ(calls[0].version, static_cast<DWORD>(SCH_CREDENTIALS_VERSION));
    EXPECT_EQ(calls[1].version, static_cast<DWORD>(SCHANNEL_CRED_VERSION));
    EXPECT_EQ(calls[1].enabled_protocols, kTls12And13);
}

TEST_F(SchannelInjection, UnavailableVersionRangeNamesRangeAndStatus)
{
    // Windows returns SEC_E_ALGORITHM_MISMATCH when no requested version is
    // available (Wine 8: SEC_E_NO_AUTHENTICATING_AUTHORITY for TLS 1.3).
    std::vector<CredentialCall> calls;
    sspi.acquire_credentials = [&](SEC_WCHAR*, SEC_WCHAR*, ULONG, void*, void* auth_data, SEC_GET_KEY_FN, void*,
                                   PCredHandle, PTimeStamp) {
        calls.push_back(describe_credentials(auth_data));
        return SEC_E_ALGORITHM_MISMATCH;
    };
    auto config = schan::test::test_config();
    ASSERT_EQ(schan_config_set_versions(config.get(), SCHAN_TLS_1_3, SCHAN_TLS_1_3), SCHAN_OK);
    schan_session* session = nullptr;
    ASSERT_EQ(schan_client_new(config.get(), "localhost", &session), SCHAN_OK);

    EXPECT_EQ(schan_step(session), SCHAN_E_UNSUPPORTED_VERSION);
    const std::string error = schan_last_error(session);
    EXPECT_NE(error.find("TLS 1.3 only"), std::string::npos) << error;
    EXPECT_NE(error.find("SEC_E_ALGORITHM_MISMATCH"), std::string::npos) << error;
    EXPECT_EQ(schan_last_backend_error(session), static_cast<std::uint32_t>(SEC_E_ALGORITHM_MISMATCH));
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0].disabled_protocols, kOlderThanTls12 | SP_PROT_TLS1_2_CLIENT);
    schan_session_free(session);
}

TEST_F(SchannelInjection, Tls13OnlyUnderWineIsUnsupportedVersion)
{
    // Not injected: Wine 8 has no TLS 1.3, so a TLS 1.3 minimum fails when
    // the credentials are acquired, before any byte is sent.
    if (!schan::test::is_wine())
        GTEST_SKIP() << "Windows 11 supports TLS 1.3";
    auto config = schan::test::test_config();
    ASSERT_EQ(schan_config_set_versions(config.get(), SCHAN_TLS_1_3, SCHAN_TLS_DEFAULT), SCHAN_OK);
    schan_session* session = nullptr;
    ASSERT_EQ(schan_client_new(config.get(), "localhost", &session), SCHAN_OK);

    EXPECT_EQ(schan_step(session), SCHAN_E_UNSUPPORTED_VERSION);
    const std::string error = schan_last_error(session);
    EXPECT_NE(error.find("TLS 1.3 only"), std::string::npos) << error;
    EXPECT_NE(error.find("SEC_E_NO_AUTHENTICATING_AUTHORITY"), std::string::npos) << error;
    EXPECT_EQ(schan_output_size(session), 0u);
    schan_session_free(session);
}
