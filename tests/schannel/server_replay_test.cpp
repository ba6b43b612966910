// Replays of the SChannel server role through the accept model
// (accept_model.h). Each test scripts the AcceptSecurityContext results that
// Windows produces for one behaviour. It checks through the C ABI what schan
// does with them: statuses, output records, plaintext, and that no record is
// lost or sent twice. Credentials are real: leaf.p12 acquired inbound.
#include <gtest/gtest.h>

#include <windows.h>
#include <sspi.h>
#include <schannel.h>

#include <memory>
#include <string>
#include <vector>

#include "backend/schannel/certificate_credentials.h"
#include "core/credentials.h"
#include "schannel/accept_model.h"
#include "schannel/injection_support.h"

// Each scripted step names only the fields it sets; the others keep their
// default member initializers, which GCC 12 still reports.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

using schan::test::AcceptModel;
using schan::test::Bytes;
using schan::test::bytes_of;
using schan::test::concat;
using schan::test::ConfigPtr;
using schan::test::kAlertType;
using schan::test::kApplicationDataType;
using schan::test::kHandshakeType;
using schan::test::parse_records;
using schan::test::Pki;
using schan::test::plain_record;
using schan::test::protected_record;

namespace {

Bytes handshake_record(const std::string& content)
{
    return plain_record(kHandshakeType, bytes_of(content));
}

Bytes application_record(const std::string& content)
{
    return protected_record(kApplicationDataType, content);
}

Bytes close_notify_record()
{
    return protected_record(kAlertType, std::string("\x01\x00", 2));
}

const Bytes kClientHello = handshake_record("ClientHello");
const Bytes kServerFlight = handshake_record("ServerHello Certificate ServerHelloDone");
const Bytes kClientFlight = handshake_record("ClientKeyExchange ChangeCipherSpec Finished");
const Bytes kServerFinished = handshake_record("ChangeCipherSpec Finished");

ConfigPtr server_config(schan_client_auth client_auth = SCHAN_CLIENT_AUTH_NONE)
{
    ConfigPtr config = schan::test::test_config();
    const std::string pfx = Pki::path("leaf.p12");
    if (schan_config_load_pkcs12_file(config.get(), pfx.c_str(), "secret") != SCHAN_OK)
        throw std::runtime_error(std::string("loading leaf.p12 failed: ") + schan_config_last_error(config.get()));
    if (schan_config_set_client_auth(config.get(), client_auth) != SCHAN_OK)
        throw std::runtime_error("schan_config_set_client_auth failed");
    return config;
}

// A server session driven by hand: bytes in, statuses and bytes out.
class Server {
public:
    explicit Server(const schan_config* config)
    {
        if (schan_server_new(config, &session_) != SCHAN_OK)
            throw std::runtime_error("schan_server_new failed");
    }
    ~Server() { schan_session_free(session_); }
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    [[nodiscard]] schan_session* get() const { return session_; }
    [[nodiscard]] std::string error() const { return schan_last_error(session_); }

    void feed(const Bytes& bytes)
    {
        std::size_t consumed = 0;
        const schan_status status =
            schan_feed(session_, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), &consumed);
        if (status != SCHAN_OK || consumed != bytes.size())
            throw std::runtime_error("schan_feed failed with " + std::string(schan_status_name(status)));
    }

    schan_status step() { return schan_step(session_); }

    // Takes every pending output byte; everything taken is kept in sent().
    Bytes take()
    {
        Bytes output(schan_output_size(session_));
        std::size_t written = 0;
        schan_take_output(session_, reinterpret_cast<std::uint8_t*>(output.data()), output.size(), &written);
        output.resize(written);
        sent_.insert(sent_.end(), output.begin(), output.end());
        return output;
    }

    // Decrypts until schan_decrypt returns something other than SCHAN_OK,
    // appending plaintext to `received`.
    schan_status read(std::string& received)
    {
        for (;;) {
            char buffer[256];
            std::size_t written = 0;
            const schan_status status =
                schan_decrypt(session_, reinterpret_cast<std::uint8_t*>(buffer), sizeof buffer, &written);
            received.append(buffer, written);
            if (status != SCHAN_OK || written == 0)
                return status;
        }
    }

    schan_status write(const std::string& text, std::size_t& consumed)
    {
        return schan_encrypt(session_, reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), &consumed);
    }

    // Runs a TLS 1.2 full handshake whose steps the test scripted.
    schan_status handshake()
    {
        feed(kClientHello);
        schan_status status = step();
        if (status != SCHAN_HAVE_OUTPUT)
            return status;
        take();
        feed(kClientFlight);
        status = step();
        take();
        return status == SCHAN_HAVE_OUTPUT ? step() : status;
    }

    [[nodiscard]] const Bytes& sent() const { return sent_; }

private:
    schan_session* session_ = nullptr;
    Bytes sent_;
};

// Scripts the two AcceptSecurityContext steps of a TLS 1.2 full handshake.
void script_full_handshake(AcceptModel& model, std::size_t extra_after_finished = 0)
{
    model.script({.status = SEC_I_CONTINUE_NEEDED, .token = kServerFlight, .expect_input = kClientHello.size()});
    model.script({.status = SEC_E_OK, .token = kServerFinished, .extra = extra_after_finished});
}

std::vector<std::string> application_contents(const Bytes& stream)
{
    std::vector<std::string> contents;
    for (const auto& record : parse_records(stream))
        if (record.type == kApplicationDataType && record.inner_type == kApplicationDataType)
            contents.push_back(record.content);
    return contents;
}

class SchannelServerReplay : public ::testing::Test {
protected:
    void TearDown() override
    {
        EXPECT_TRUE(model.unexpected.empty()) << model.unexpected.front();
    }

    AcceptModel model;
};

} // namespace

TEST_F(SchannelServerReplay, FirstCallHasNullContext)
{
    script_full_handshake(model);
    {
        const ConfigPtr config = server_config();
        Server server(config.get());
        ASSERT_EQ(server.handshake(), SCHAN_OK) << server.error();

        ASSERT_EQ(model.calls.size(), 2U);
        EXPECT_TRUE(model.calls[0].null_context);
        EXPECT_EQ(model.calls[0].input, kClientHello);
        EXPECT_FALSE(model.calls[1].null_context);
        EXPECT_EQ(model.calls[1].input, kClientFlight);
        EXPECT_EQ(model.calls[0].request & ASC_REQ_MUTUAL_AUTH, 0U);
        EXPECT_NE(model.calls[0].request & ASC_REQ_ALLOCATE_MEMORY, 0U);
        EXPECT_NE(model.calls[0].request & ASC_REQ_STREAM, 0U);
        EXPECT_EQ(schan_get_state(server.get()), SCHAN_STATE_OPEN);
    }
    EXPECT_EQ(model.deleted_contexts, 1);
    EXPECT_EQ(model.outstanding_buffers(), 0U);
}

TEST_F(SchannelServerReplay, InboundCredentialsEnableServerVersions)
{
    // Inbound credentials enable the server bits of TLS 1.2 and 1.3 and
    // nothing older, with SCH_CREDENTIALS first and SCHANNEL_CRED where the
    // provider rejects or ignores it (Wine 8 ignores its TLS_PARAMETERS).
    script_full_handshake(model);
    const ConfigPtr config = server_config();
    Server server(config.get());
    ASSERT_EQ(server.handshake(), SCHAN_OK) << server.error();

    ASSERT_FALSE(model.acquired.empty());
    constexpr DWORD kEnabled = SP_PROT_TLS1_2_SERVER | SP_PROT_TLS1_3_SERVER;
    const AcceptModel::Acquire& first = model.acquired.front();
    EXPECT_EQ(first.version, static_cast<DWORD>(SCH_CREDENTIALS_VERSION));
    EXPECT_EQ(first.disabled_protocols & kEnabled, 0U);
    EXPECT_NE(first.disabled_protocols & SP_PROT_TLS1_1_SERVER, 0U);
    for (const AcceptModel::Acquire& call : model.acquired) {
        EXPECT_EQ(call.use, static_cast<ULONG>(SECPKG_CRED_INBOUND));
        EXPECT_NE(call.flags & SCH_CRED_NO_SYSTEM_MAPPER, 0U);
        ASSERT_EQ(call.certificates.size(), 1U);
        EXPECT_NE(call.certificates[0], nullptr);
        if (call.version == SCHANNEL_CRED_VERSION) {
            EXPECT_EQ(call.enabled_protocols, kEnabled);
        }
    }
    EXPECT_EQ(model.acquired.back().status, SEC_E_OK);
}

TEST_F(SchannelServerReplay, Tls13OnlyEnablesOnlyTls13)
{
    model.script({.status = SEC_E_UNSUPPORTED_FUNCTION});
    const ConfigPtr config = server_config();
    ASSERT_EQ(schan_config_set_versions(config.get(), SCHAN_TLS_1_3, SCHAN_TLS_1_3), SCHAN_OK);
    Server server(config.get());

    server.feed(kClientHello);
    static_cast<void>(server.step());

    ASSERT_FALSE(model.acquired.empty());
    for (const AcceptModel::Acquire& call : model.acquired) {
        if (call.version == SCHANNEL_CRED_VERSION) {
            EXPECT_EQ(call.enabled_protocols, static_cast<DWORD>(SP_PROT_TLS1_3_SERVER));
        } else {
            EXPECT_EQ(call.disabled_protocols & (SP_PROT_TLS1_2_SERVER | SP_PROT_TLS1_3_SERVER),
                      static_cast<DWORD>(SP_PROT_TLS1_2_SERVER));
        }
    }
}

TEST_F(SchannelServerReplay, TokenWithFinalOk)
{
    script_full_handshake(model);
    const ConfigPtr config = server_config();
    Server server(config.get());

    server.feed(kClientHello);
    ASSERT_EQ(server.step(), SCHAN_HAVE_OUTPUT) << server.error();
    EXPECT_EQ(server.take(), kServerFlight);
    ASSERT_EQ(server.step(), SCHAN_NEED_INPUT);

    server.feed(kClientFlight);
    ASSERT_EQ(server.step(), SCHAN_HAVE_OUTPUT) << server.error();
    EXPECT_EQ(schan_get_state(server.get()), SCHAN_STATE_OPEN);
    EXPECT_EQ(server.take(), kServerFinished);
    EXPECT_EQ(server.step(), SCHAN_OK);

    schan_tls_version version{};
    ASSERT_EQ(schan_get_protocol(server.get(), &version), SCHAN_OK);
    EXPECT_EQ(version, SCHAN_TLS_1_2);
    const char* cipher = nullptr;
    ASSERT_EQ(schan_get_cipher(server.get(), &cipher), SCHAN_OK);
    EXPECT_STREQ(cipher, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    std::size_t count = 1;
    ASSERT_EQ(schan_get_peer_cert_count(server.get(), &count), SCHAN_OK);
    EXPECT_EQ(count, 0U);
}

TEST_F(SchannelServerReplay, IncompleteClientHelloWaitsForMissingBytes)
{
    // A ClientHello in three records: SChannel requests the bytes of the
    // other two at once (SECBUFFER_MISSING), so one more record is no reason
    // to call again.
    const Bytes first = handshake_record("ClientHello part 1");
    const Bytes second = handshake_record("ClientHello part 2");
    const Bytes third = handshake_record("ClientHello part 3");
    model.script({.status = SEC_E_INCOMPLETE_MESSAGE,
                  .missing = static_cast<long>(second.size() + third.size()),
                  .expect_input = first.size()});
    model.script({.status = SEC_I_CONTINUE_NEEDED,
                  .token = kServerFlight,
                  .expect_input = first.size() + second.size() + third.size()});
    const ConfigPtr config = server_config();
    Server server(config.get());

    server.feed(first);
    EXPECT_EQ(server.step(), SCHAN_NEED_INPUT) << server.error();
    server.feed(second);
    EXPECT_EQ(server.step(), SCHAN_NEED_INPUT) << server.error();
    EXPECT_EQ(model.calls.size(), 1U);

    server.feed(third);
    ASSERT_EQ(server.step(), SCHAN_HAVE_OUTPUT) << server.error();
    EXPECT_EQ(server.take(), kServerFlight);
    ASSERT_EQ(model.calls.size(), 2U);
    EXPECT_TRUE(model.calls[1].null_context);
    EXPECT_EQ(model.calls[1].input, concat({first, second, third}));
}

TEST_F(SchannelServerReplay, IncompleteWithoutMissingCount)
{
    // Without SECBUFFER_MISSING every new complete record is worth a call.
    const Bytes first = handshake_record("ClientHello part 1");
    const Bytes second = handshake_record("ClientHello part 2");
    model.script({.status = SEC_E_INCOMPLETE_MESSAGE, .expect_input = first.size()});
    model.script(
        {.status = SEC_I_CONTINUE_NEEDED, .token = kServerFlight, .expect_input = first.size() + second.size()});
    const ConfigPtr config = server_config();
    Server server(config.get());

    server.feed(first);
    EXPECT_EQ(server.step(), SCHAN_NEED_INPUT) << server.error();
    EXPECT_EQ(server.step(), SCHAN_NEED_INPUT) << server.error();
    EXPECT_EQ(model.calls.size(), 1U);
    server.feed(second);
    ASSERT_EQ(server.step(), SCHAN_HAVE_OUTPUT) << server.error();

    EXPECT_EQ(server.take(), kServerFlight);
    ASSERT_EQ(model.calls.size(), 2U);
    EXPECT_TRUE(model.calls[0].null_context);
    EXPECT_TRUE(model.calls[1].null_context);
}

TEST_F(SchannelServerReplay, ExtraAfterFinishedIsApplicationData)
{
    // The client's first request arrives in the same read as its Finished;
    // SChannel returns it as SECBUFFER_EXTRA with the final SEC_E_OK.
    const Bytes request = application_record("GET / HTTP/1.1\r\n\r\n");
    script_full_handshake(model, request.size());
    const ConfigPtr config = server_config();
    Server server(config.get());

    server.feed(kClientHello);
    ASSERT_EQ(server.step(), SCHAN_HAVE_OUTPUT) << server.error();
    server.take();
    server.feed(concat({kClientFlight, request}));
    ASSERT_EQ(server.step(), SCHAN_HAVE_OUTPUT) << server.error();
    EXPECT_EQ(server.take(), kServerFinished);

    std::string received;
    EXPECT_EQ(server.read(received), SCHAN_NEED_INPUT) << server.error();
    EXPECT_EQ(received, "GET / HTTP/1.1\r\n\r\n");
    EXPECT_EQ(model.decrypted.size(), 1U);
}

TEST_F(SchannelServerReplay, AlertTokenBeforeError)
{
    // Depending on the Windows version, SChannel returns the alert for a
    // failed handshake in SECBUFFER_ALERT or in the token. Both go out
    // before the error.
    const Bytes alert = plain_record(kAlertType, {std::byte{2}, std::byte{40}});
    model.script({.status = SEC_E_ALGORITHM_MISMATCH, .alert = alert});
    const ConfigPtr config = server_config();
    Server server(config.get());

    server.feed(kClientHello);
    const schan_status status = server.step();
    EXPECT_LT(status, 0);
    EXPECT_NE(status, SCHAN_E_INTERNAL) << server.error();
    EXPECT_EQ(server.take(), alert);
    EXPECT_EQ(schan_get_state(server.get()), SCHAN_STATE_FAILED);
    EXPECT_EQ(schan_last_backend_error(server.get()), static_cast<std::uint32_t>(SEC_E_ALGORITHM_MISMATCH));
}

TEST_F(SchannelServerReplay, AlertInTokenBeforeError)
{
    const Bytes alert = plain_record(kAlertType, {std::byte{2}, std::byte{70}});
    model.script({.status = SEC_E_ILLEGAL_MESSAGE, .token = alert});
    const ConfigPtr config = server_config();
    Server server(config.get());

    server.feed(kClientHello);
    EXPECT_LT(server.step(), 0);
    EXPECT_EQ(server.take(), alert);
}

TEST_F(SchannelServerReplay, UnsupportedAcceptIsUnsupported)
{
    // What Wine 8 returns for the first ClientHello.
    model.script({.status = SEC_E_UNSUPPORTED_FUNCTION});
    const ConfigPtr config = server_config();
    Server server(config.get());

    server.feed(kClientHello);
    EXPECT_EQ(server.step(), SCHAN_E_UNSUPPORTED);
    EXPECT_NE(server.error().find("cannot act as a TLS server"), std::string::npos) << server.error();
}

TEST_F(SchannelServerReplay, AlpnSelected)
{
    script_full_handshake(model);
    model.alpn = "http/1.1";
    const ConfigPtr config = server_config();
    ASSERT_EQ(schan_config_add_alpn(config.get(), "h2"), SCHAN_OK);
    ASSERT_EQ(schan_config_add_alpn(config.get(), "http/1.1"), SCHAN_OK);
    Server server(config.get());

    ASSERT_EQ(server.handshake(), SCHAN_OK) << server.error();

    ASSERT_EQ(model.calls.size(), 2U);
    EXPECT_EQ(model.calls[0].alpn_offer, (std::vector<std::string>{"h2", "http/1.1"}));
    EXPECT_TRUE(model.calls[1].alpn_offer.empty());
    const char* selected = nullptr;
    ASSERT_EQ(schan_get_alpn(server.get(), &selected), SCHAN_OK);
    EXPECT_STREQ(selected, "http/1.1");
}

TEST_F(SchannelServerReplay, ClientCertificateRequiredButMissing)
{
    script_full_handshake(model);
    const ConfigPtr config = server_config(SCHAN_CLIENT_AUTH_REQUIRED);
    Server server(config.get());

    EXPECT_EQ(server.handshake(), SCHAN_E_CERT_REQUIRED) << server.error();

    EXPECT_NE(model.calls[0].request & ASC_REQ_MUTUAL_AUTH, 0U);
    // TLS 1.2 has no certificate_required alert, so handshake_failure follows the Finished.
    EXPECT_EQ(model.control_tokens, (std::vector<unsigned long>{0x100 + 40}));
    const Bytes alert = plain_record(kAlertType, {std::byte{2}, std::byte{40}});
    EXPECT_EQ(server.sent(), concat({kServerFlight, kServerFinished, alert}));
}

TEST_F(SchannelServerReplay, ClientCertificateOptionalAndMissing)
{
    script_full_handshake(model);
    const ConfigPtr config = server_config(SCHAN_CLIENT_AUTH_OPTIONAL);
    Server server(config.get());

    EXPECT_EQ(server.handshake(), SCHAN_OK) << server.error();
    EXPECT_NE(model.calls[0].request & ASC_REQ_MUTUAL_AUTH, 0U);
    std::size_t count = 1;
    ASSERT_EQ(schan_get_peer_cert_count(server.get(), &count), SCHAN_OK);
    EXPECT_EQ(count, 0U);
}

namespace {

// A certificate context loaded by the project's own PKCS#12 loader, as
// SChannel hands one over from QueryContextAttributes: its store contains
// the intermediate the client sent.
schan::CredentialsPtr load_certificate(const char* file)
{
    const std::string data = Pki::read(file);
    return schan::load_pkcs12_credentials(
        gsl::span<const std::byte>(reinterpret_cast<const std::byte*>(data.data()), data.size()), "secret");
}

PCCERT_CONTEXT context_of(const schan::CredentialsPtr& credentials)
{
    return schan::schannel::credentials_certificate(credentials);
}

} // namespace

TEST_F(SchannelServerReplay, ClientCertificateVerifiedWithCaBundle)
{
    const schan::CredentialsPtr client = load_certificate("client.p12");
    model.client_certificate = context_of(client);
    script_full_handshake(model);
    const ConfigPtr config = server_config(SCHAN_CLIENT_AUTH_REQUIRED);
    Server server(config.get());

    ASSERT_EQ(server.handshake(), SCHAN_OK) << server.error();

    std::size_t count = 0;
    ASSERT_EQ(schan_get_peer_cert_count(server.get(), &count), SCHAN_OK);
    ASSERT_GE(count, 1U);
    const std::uint8_t* der = nullptr;
    std::size_t size = 0;
    ASSERT_EQ(schan_get_peer_cert(server.get(), 0, &der, &size), SCHAN_OK);
    const PCCERT_CONTEXT leaf = context_of(client);
    EXPECT_EQ(std::vector<std::uint8_t>(der, der + size),
              std::vector<std::uint8_t>(leaf->pbCertEncoded, leaf->pbCertEncoded + leaf->cbCertEncoded));
    EXPECT_TRUE(model.control_tokens.empty());
}

TEST_F(SchannelServerReplay, ServerOnlyCertificateRejectedAsClient)
{
    // leaf.p12's extended key usage allows TLS server authentication only.
    const schan::CredentialsPtr client = load_certificate("leaf.p12");
    model.client_certificate = context_of(client);
    script_full_handshake(model);
    const ConfigPtr config = server_config(SCHAN_CLIENT_AUTH_OPTIONAL);
    Server server(config.get());

    EXPECT_EQ(server.handshake(), SCHAN_E_CERT_INVALID) << server.error();
    EXPECT_NE(server.error().find("client authentication"), std::string::npos) << server.error();
    EXPECT_EQ(model.control_tokens, (std::vector<unsigned long>{0x100 + TLS1_ALERT_BAD_CERTIFICATE}));
}

TEST_F(SchannelServerReplay, UntrustedClientCertificateRejected)
{
    const schan::CredentialsPtr client = load_certificate("client.p12");
    model.client_certificate = context_of(client);
    script_full_handshake(model);
    schan_config* raw = nullptr;
    ASSERT_EQ(schan_config_new(&raw), SCHAN_OK);
    const ConfigPtr config(raw, &schan_config_free);
    const std::string foreign = Pki::path("foreign-root.pem");
    const std::string pfx = Pki::path("leaf.p12");
    ASSERT_EQ(schan_config_set_verify_mode(config.get(), SCHAN_VERIFY_CUSTOM_ONLY), SCHAN_OK);
    ASSERT_EQ(schan_config_load_ca_file(config.get(), foreign.c_str()), SCHAN_OK);
    ASSERT_EQ(schan_config_load_pkcs12_file(config.get(), pfx.c_str(), "secret"), SCHAN_OK);
    ASSERT_EQ(schan_config_set_client_auth(config.get(), SCHAN_CLIENT_AUTH_REQUIRED), SCHAN_OK);
    Server server(config.get());

    EXPECT_EQ(server.handshake(), SCHAN_E_CERT_UNTRUSTED) << server.error();
    EXPECT_EQ(model.control_tokens, (std::vector<unsigned long>{0x100 + TLS1_ALERT_UNKNOWN_CA}));
}

TEST_F(SchannelServerReplay, CloseNotifyBothWays)
{
    script_full_handshake(model);
    const ConfigPtr config = server_config();
    Server server(config.get());
    ASSERT_EQ(server.handshake(), SCHAN_OK) << server.error();

    ASSERT_EQ(schan_shutdown(server.get()), SCHAN_HAVE_OUTPUT) << server.error();
    EXPECT_EQ(model.control_tokens, (std::vector<unsigned long>{SCHANNEL_SHUTDOWN}));
    EXPECT_EQ(server.take(), close_notify_record());
    EXPECT_EQ(schan_get_state(server.get()), SCHAN_STATE_CLOSING);

    server.feed(close_notify_record());
    std::string received;
    EXPECT_EQ(server.read(received), SCHAN_CLOSED) << server.error();
    EXPECT_EQ(schan_get_state(server.get()), SCHAN_STATE_CLOSED);
    EXPECT_EQ(model.outstanding_buffers(), 0U);
}

TEST_F(SchannelServerReplay, ContextExpiredIsCloseNotify)
{
    // Windows reports the client's close_notify as SEC_I_CONTEXT_EXPIRED.
    // Data in the same read before it is delivered first.
    script_full_handshake(model);
    const ConfigPtr config = server_config();
    Server server(config.get());
    ASSERT_EQ(server.handshake(), SCHAN_OK) << server.error();

    server.feed(concat({application_record("last words"), close_notify_record()}));
    std::string received;
    EXPECT_EQ(server.read(received), SCHAN_CLOSED) << server.error();
    EXPECT_EQ(received, "last words");
    EXPECT_EQ(schan_get_state(server.get()), SCHAN_STATE_CLOSING);

    ASSERT_EQ(schan_shutdown(server.get()), SCHAN_HAVE_OUTPUT) << server.error();
    EXPECT_EQ(server.take(), close_notify_record());
    EXPECT_EQ(schan_get_state(server.get()), SCHAN_STATE_CLOSED);
}

namespace {

// How the post-handshake messages reach the server.
struct TicketCase {
    int count;                        // messages in a row
    bool renegotiate_returns_record;  // see AcceptModel
};

std::string case_name(const ::testing::TestParamInfo<TicketCase>& info)
{
    return std::to_string(info.param.count) + (info.param.renegotiate_returns_record ? "RecordInExtra" : "RecordUsed");
}

class SchannelServerTickets : public ::testing::TestWithParam<TicketCase> {
protected:
    void TearDown() override
    {
        EXPECT_TRUE(model.unexpected.empty()) << model.unexpected.front();
    }

    AcceptModel model;
};

} // namespace

TEST_P(SchannelServerTickets, TicketsAsRenegotiate)
{
    // TLS 1.3 on Windows 11: every post-handshake message makes
    // DecryptMessage return SEC_I_RENEGOTIATE, and AcceptSecurityContext
    // processes it and returns what follows as SECBUFFER_EXTRA. Here the
    // messages sit between application data in one read.
    const TicketCase param = GetParam();
    model.protocol = SP_PROT_TLS1_3_SERVER;
    model.cipher_suite = 0x1302;
    model.renegotiate_returns_record = param.renegotiate_returns_record;
    script_full_handshake(model);
    const std::size_t extra = param.renegotiate_returns_record ? AcceptModel::kAfterFirstRecord
                                                               : AcceptModel::kAllInput;
    for (int i = 0; i < param.count; ++i)
        model.script({.status = SEC_E_OK, .extra = extra});

    const ConfigPtr config = server_config();
    Server server(config.get());
    ASSERT_EQ(server.handshake(), SCHAN_OK) << server.error();

    std::vector<Bytes> stream{application_record("before ")};
    for (int i = 0; i < param.count; ++i)
        stream.push_back(protected_record(kHandshakeType, "KeyUpdate " + std::to_string(i)));
    stream.push_back(application_record("after"));
    stream.push_back(close_notify_record());
    server.feed(concat(stream));

    std::string received;
    EXPECT_EQ(server.read(received), SCHAN_CLOSED) << server.error();
    EXPECT_EQ(received, "before after");
    EXPECT_EQ(model.decrypted, (std::vector<std::string>{"before ", "after"}));
    EXPECT_EQ(model.calls.size(), 2U + param.count);
    EXPECT_EQ(model.remaining_steps(), 0U);
    EXPECT_TRUE(server.take().empty());
}

INSTANTIATE_TEST_SUITE_P(SchannelServerReplay, SchannelServerTickets,
                         ::testing::Values(TicketCase{1, true}, TicketCase{2, true}, TicketCase{8, true},
                                           TicketCase{1, false}, TicketCase{2, false}, TicketCase{8, false}),
                         case_name);

TEST_F(SchannelServerReplay, PendingWriteDuringRenegotiationSentOnce)
{
    // A TLS 1.2 renegotiation started by the client: its ClientHello makes
    // DecryptMessage return SEC_I_RENEGOTIATE. A write while the exchange
    // runs is refused without consuming anything and sent once afterwards.
    script_full_handshake(model);
    model.script({.status = SEC_I_CONTINUE_NEEDED, .token = kServerFlight});
    model.script({.status = SEC_E_OK, .token = kServerFinished});
    const ConfigPtr config = server_config();
    Server server(config.get());
    ASSERT_EQ(server.handshake(), SCHAN_OK) << server.error();

    std::size_t consumed = 0;
    ASSERT_EQ(server.write("first", consumed), SCHAN_HAVE_OUTPUT) << server.error();
    server.take();

    server.feed(protected_record(kHandshakeType, "ClientHello"));
    std::string received;
    EXPECT_EQ(server.read(received), SCHAN_HAVE_OUTPUT) << server.error();
    EXPECT_EQ(schan_get_state(server.get()), SCHAN_STATE_RENEGOTIATING);

    consumed = 99;
    EXPECT_EQ(server.write("pending", consumed), SCHAN_HAVE_OUTPUT);
    EXPECT_EQ(consumed, 0U);
    EXPECT_EQ(server.take(), kServerFlight);

    server.feed(kClientFlight);
    EXPECT_EQ(server.read(received), SCHAN_HAVE_OUTPUT) << server.error();
    EXPECT_EQ(schan_get_state(server.get()), SCHAN_STATE_OPEN);
    EXPECT_EQ(server.take(), kServerFinished);

    ASSERT_EQ(server.write("pending", consumed), SCHAN_HAVE_OUTPUT) << server.error();
    EXPECT_EQ(consumed, 7U);
    server.take();

    EXPECT_EQ(model.encrypted, (std::vector<std::string>{"first", "pending"}));
    EXPECT_EQ(application_contents(server.sent()), (std::vector<std::string>{"first", "pending"}));
    EXPECT_TRUE(received.empty());
}
