// The API-misuse matrix: every exported function with NULL for each pointer,
// lengths of 0 and SIZE_MAX, and every session call in each state where it
// is wrong. Each call must return the status schan.h documents and leave
// the session as it was (or cleanly failed), which the sanitizer builds
// check for memory errors too.
//
// The peerless states (a new client, a client waiting for the server, a
// failed client) run on every backend, also under Wine. The states after a
// handshake need schan's server role, so they run with OpenSSL only
// (SCHAN_MISUSE_MEMORY_LINK), over tests/openssl/memory_link.h.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "schan/schan.h"
#include "support/peers.h"

#if defined(SCHAN_MISUSE_MEMORY_LINK)
#include "memory_link.h"
#endif

namespace {

// The states a session is put in before a misused call.
enum class Phase {
    new_client,        // created, schan_step never called
    client_hello_sent, // the ClientHello was taken; waiting for the server
    ended_client,      // client_hello_sent, then schan_feed_eof
    failed_client,     // the server's bytes were not TLS
    new_server,        // waiting for the ClientHello
    open_client,       // handshake complete
    open_server,
    shut_down_client,  // our close_notify sent, the peer's not received
    closed_client,     // close_notify sent and received
    truncated_client,  // the transport ended without close_notify
};

std::string phase_name(Phase phase)
{
    switch (phase) {
    case Phase::new_client: return "new_client";
    case Phase::client_hello_sent: return "client_hello_sent";
    case Phase::ended_client: return "ended_client";
    case Phase::failed_client: return "failed_client";
    case Phase::new_server: return "new_server";
    case Phase::open_client: return "open_client";
    case Phase::open_server: return "open_server";
    case Phase::shut_down_client: return "shut_down_client";
    case Phase::closed_client: return "closed_client";
    case Phase::truncated_client: return "truncated_client";
    }
    return "unknown";
}

bool handshake_done(Phase phase)
{
    return phase == Phase::open_client || phase == Phase::open_server || phase == Phase::shut_down_client ||
           phase == Phase::closed_client || phase == Phase::truncated_client;
}

bool failed(Phase phase)
{
    return phase == Phase::failed_client || phase == Phase::truncated_client;
}

// What a valid call in `phase` returns on a failed session: the status of
// the failure.
schan_status failure_status(Phase phase)
{
    return phase == Phase::truncated_client ? SCHAN_E_TRUNCATED : SCHAN_E_PROTOCOL;
}

void drain(schan_session* session)
{
    std::uint8_t buffer[4096];
    std::size_t written = 0;
    while (schan_output_size(session) > 0)
        schan_take_output(session, buffer, sizeof buffer, &written);
}

schan_config* new_client_config()
{
    schan_config* config = nullptr;
    EXPECT_EQ(schan_config_new(&config), SCHAN_OK);
    EXPECT_EQ(schan_config_set_verify_mode(config, SCHAN_VERIFY_CUSTOM_ONLY), SCHAN_OK);
    EXPECT_EQ(schan_config_load_ca_file(config, schan::test::Pki::path("root.pem").c_str()), SCHAN_OK)
        << schan_config_last_error(config);
    return config;
}

// A session in one Phase, with its peer when the phase needs one.
class Subject {
public:
    explicit Subject(Phase phase)
    {
        if (handshake_done(phase) || phase == Phase::new_server)
            make_with_peer(phase);
        else
            make_peerless(phase);
    }

    ~Subject() { schan_session_free(own_); }
    Subject(const Subject&) = delete;
    Subject& operator=(const Subject&) = delete;

    [[nodiscard]] schan_session* session() const { return session_; }

    // Whether the session still carries data both ways and closes cleanly.
    // Returns "" when it does or when the phase cannot show it.
    std::string check_usable(Phase phase)
    {
#if defined(SCHAN_MISUSE_MEMORY_LINK)
        if (link_ && (phase == Phase::open_client || phase == Phase::open_server)) {
            std::string problem = link_->exchange(4096);
            return problem.empty() ? link_->close() : problem;
        }
#endif
        (void)phase;
        return "";
    }

private:
    void make_peerless(Phase phase)
    {
        schan_config* config = new_client_config();
        EXPECT_EQ(schan_client_new(config, "localhost", &own_), SCHAN_OK);
        schan_config_free(config);
        session_ = own_;
        if (phase == Phase::new_client)
            return;

        EXPECT_EQ(schan_step(own_), SCHAN_HAVE_OUTPUT);
        drain(own_);
        if (phase == Phase::ended_client) {
            EXPECT_EQ(schan_feed_eof(own_), SCHAN_OK);
        }
        if (phase == Phase::failed_client)
            fail_with_plain_text();
    }

    // A server that replies in plain text, as an HTTP server on the TLS
    // port would.
    void fail_with_plain_text()
    {
        const std::string reply = "HTTP/1.1 400 Bad Request\r\n\r\n";
        std::size_t consumed = 0;
        EXPECT_EQ(schan_feed(own_, reinterpret_cast<const std::uint8_t*>(reply.data()), reply.size(), &consumed),
                  SCHAN_OK);
        EXPECT_EQ(schan_step(own_), SCHAN_E_PROTOCOL);
    }

#if defined(SCHAN_MISUSE_MEMORY_LINK)
    void make_with_peer(Phase phase)
    {
        schan::test::ConfigHandle client_config;
        schan::test::ConfigHandle server_config;
        schan::test::configure_test_client(client_config.get());
        schan::test::configure_test_server(server_config.get());

        schan_session* client = nullptr;
        schan_session* server = nullptr;
        EXPECT_EQ(schan_client_new(client_config.get(), "localhost", &client), SCHAN_OK);
        EXPECT_EQ(schan_server_new(server_config.get(), &server), SCHAN_OK);
        link_ = std::make_unique<schan::test::MemoryLink>(client, server, 7);
        session_ = phase == Phase::new_server || phase == Phase::open_server ? server : client;
        if (phase == Phase::new_server)
            return;

        EXPECT_TRUE(link_->handshake());
        if (phase == Phase::shut_down_client) {
            EXPECT_EQ(schan_shutdown(client), SCHAN_HAVE_OUTPUT);
            drain(client);
        }
        if (phase == Phase::closed_client) {
            EXPECT_EQ(link_->close(), "");
        }
        if (phase == Phase::truncated_client)
            truncate(client);
    }

    static void truncate(schan_session* client)
    {
        std::uint8_t buffer[16];
        std::size_t written = 0;
        EXPECT_EQ(schan_feed_eof(client), SCHAN_OK);
        EXPECT_EQ(schan_decrypt(client, buffer, sizeof buffer, &written), SCHAN_E_TRUNCATED);
    }

    std::unique_ptr<schan::test::MemoryLink> link_;
#else
    void make_with_peer(Phase /*phase*/) {}
#endif

    schan_session* own_ = nullptr;      // freed here; a link frees its own sessions
    schan_session* session_ = nullptr;  // the session under test
};

// One misused call: what it does and which status it must return in a phase.
struct Misuse {
    const char* name;
    std::function<schan_status(schan_session*)> call;
    std::function<schan_status(Phase)> expected;
};

// An out-of-range enum value as an FFI caller might pass it.
template <typename Enum>
Enum out_of_range(int value)
{
    volatile int raw = value;
    return static_cast<Enum>(raw);
}

std::uint8_t g_buffer[64];
std::size_t g_size = 0;
const std::size_t kHuge = SIZE_MAX;

schan_status invalid_argument(Phase /*phase*/)
{
    return SCHAN_E_INVALID_ARGUMENT;
}

// A query before the handshake, or with a NULL output pointer.
schan_status query_status(Phase phase)
{
    return handshake_done(phase) ? SCHAN_OK : SCHAN_E_INVALID_STATE;
}

schan_status data_call_status(Phase phase, schan_status when_open)
{
    if (failed(phase))
        return failure_status(phase);
    if (!handshake_done(phase))
        return SCHAN_E_INVALID_STATE;
    return when_open;
}

const std::vector<Misuse>& misuses()
{
    static const std::vector<Misuse> table = {
        // schan_feed
        {"feed NULL data", [](schan_session* s) { return schan_feed(s, nullptr, 5, &g_size); }, invalid_argument},
        {"feed NULL consumed", [](schan_session* s) { return schan_feed(s, g_buffer, 5, nullptr); }, invalid_argument},
        {"feed SIZE_MAX", [](schan_session* s) { return schan_feed(s, g_buffer, kHuge, &g_size); }, invalid_argument},
        {"feed NULL empty", [](schan_session* s) { return schan_feed(s, nullptr, 0, &g_size); },
         [](Phase p) {
             if (failed(p))
                 return failure_status(p);
             return p == Phase::ended_client ? SCHAN_E_INVALID_STATE : SCHAN_OK;
         }},
        // schan_take_output
        {"take_output NULL buffer", [](schan_session* s) { return schan_take_output(s, nullptr, 5, &g_size); },
         invalid_argument},
        {"take_output NULL written", [](schan_session* s) { return schan_take_output(s, g_buffer, 5, nullptr); },
         invalid_argument},
        {"take_output SIZE_MAX", [](schan_session* s) { return schan_take_output(s, g_buffer, kHuge, &g_size); },
         invalid_argument},
        {"take_output NULL empty", [](schan_session* s) { return schan_take_output(s, nullptr, 0, &g_size); },
         [](Phase) { return SCHAN_OK; }},
        // schan_encrypt
        {"encrypt NULL plaintext", [](schan_session* s) { return schan_encrypt(s, nullptr, 5, &g_size); },
         invalid_argument},
        {"encrypt NULL consumed", [](schan_session* s) { return schan_encrypt(s, g_buffer, 5, nullptr); },
         invalid_argument},
        {"encrypt SIZE_MAX", [](schan_session* s) { return schan_encrypt(s, g_buffer, kHuge, &g_size); },
         invalid_argument},
        {"encrypt empty", [](schan_session* s) { return schan_encrypt(s, g_buffer, 0, &g_size); },
         [](Phase p) {
             const bool closing = p == Phase::shut_down_client || p == Phase::closed_client;
             return data_call_status(p, closing ? SCHAN_E_INVALID_STATE : SCHAN_OK);
         }},
        // schan_decrypt
        {"decrypt NULL buffer", [](schan_session* s) { return schan_decrypt(s, nullptr, 5, &g_size); },
         invalid_argument},
        {"decrypt capacity 0", [](schan_session* s) { return schan_decrypt(s, g_buffer, 0, &g_size); },
         invalid_argument},
        {"decrypt NULL written", [](schan_session* s) { return schan_decrypt(s, g_buffer, 5, nullptr); },
         invalid_argument},
        {"decrypt SIZE_MAX", [](schan_session* s) { return schan_decrypt(s, g_buffer, kHuge, &g_size); },
         invalid_argument},
        {"decrypt without input", [](schan_session* s) { return schan_decrypt(s, g_buffer, sizeof g_buffer, &g_size); },
         [](Phase p) { return data_call_status(p, p == Phase::closed_client ? SCHAN_CLOSED : SCHAN_NEED_INPUT); }},
        // schan_step and schan_shutdown where they change nothing
        {"step", [](schan_session* s) { return schan_step(s); },
         [](Phase p) {
             if (failed(p))
                 return failure_status(p);
             if (p == Phase::new_client)
                 return SCHAN_HAVE_OUTPUT;  // the ClientHello; not a misuse, but the state moves on
             if (p == Phase::ended_client)
                 return SCHAN_E_HANDSHAKE_FAILED;
             return handshake_done(p) ? SCHAN_OK : SCHAN_NEED_INPUT;
         }},
        {"shutdown", [](schan_session* s) { return schan_shutdown(s); },
         [](Phase p) {
             const bool sent = p == Phase::shut_down_client || p == Phase::closed_client;
             return data_call_status(p, sent ? SCHAN_OK : SCHAN_HAVE_OUTPUT);
         }},
        {"shutdown twice",
         [](schan_session* s) {
             const schan_status first = schan_shutdown(s);
             const schan_status second = schan_shutdown(s);
             return first == second ? second : SCHAN_E_INTERNAL;
         },
         [](Phase p) {
             const bool sent = p == Phase::shut_down_client || p == Phase::closed_client;
             return data_call_status(p, sent ? SCHAN_OK : SCHAN_HAVE_OUTPUT);
         }},
        // Queries
        {"get_protocol NULL", [](schan_session* s) { return schan_get_protocol(s, nullptr); }, invalid_argument},
        {"get_protocol",
         [](schan_session* s) {
             schan_tls_version version{};
             return schan_get_protocol(s, &version);
         },
         query_status},
        {"get_cipher NULL", [](schan_session* s) { return schan_get_cipher(s, nullptr); }, invalid_argument},
        {"get_cipher",
         [](schan_session* s) {
             const char* name = nullptr;
             return schan_get_cipher(s, &name);
         },
         query_status},
        {"get_alpn NULL", [](schan_session* s) { return schan_get_alpn(s, nullptr); }, invalid_argument},
        {"get_alpn",
         [](schan_session* s) {
             const char* protocol = nullptr;
             return schan_get_alpn(s, &protocol);
         },
         query_status},
        {"get_peer_cert_count NULL", [](schan_session* s) { return schan_get_peer_cert_count(s, nullptr); },
         invalid_argument},
        {"get_peer_cert_count", [](schan_session* s) { return schan_get_peer_cert_count(s, &g_size); }, query_status},
        {"get_peer_cert NULL der", [](schan_session* s) { return schan_get_peer_cert(s, 0, nullptr, &g_size); },
         invalid_argument},
        {"get_peer_cert NULL length",
         [](schan_session* s) {
             const std::uint8_t* der = nullptr;
             return schan_get_peer_cert(s, 0, &der, nullptr);
         },
         invalid_argument},
        {"get_peer_cert SIZE_MAX",
         [](schan_session* s) {
             const std::uint8_t* der = nullptr;
             return schan_get_peer_cert(s, kHuge, &der, &g_size);
         },
         [](Phase p) { return handshake_done(p) ? SCHAN_E_INVALID_ARGUMENT : SCHAN_E_INVALID_STATE; }},
        {"session_resumed NULL", [](schan_session* s) { return schan_session_resumed(s, nullptr); }, invalid_argument},
        {"session_resumed",
         [](schan_session* s) {
             int resumed = 0;
             return schan_session_resumed(s, &resumed);
         },
         query_status},
    };
    return table;
}

// Calls that change the state when they succeed; the others must leave it.
bool may_change_state(const std::string& name)
{
    return name == "step" || name == "shutdown" || name == "shutdown twice";
}

bool is_query(const std::string& name)
{
    return name.rfind("get_", 0) == 0 || name.rfind("session_resumed", 0) == 0;
}

class MisuseMatrix : public ::testing::TestWithParam<Phase> {};

TEST_P(MisuseMatrix, EveryCallReturnsDocumentedStatus)
{
    const Phase phase = GetParam();
    for (const Misuse& misuse : misuses()) {
        SCOPED_TRACE(std::string(misuse.name) + " in " + phase_name(phase));
        Subject subject(phase);
        schan_session* session = subject.session();
        ASSERT_NE(session, nullptr);
        const schan_state state_before = schan_get_state(session);

        const schan_status status = misuse.call(session);

        EXPECT_EQ(status, misuse.expected(phase)) << schan_status_name(status) << ": " << schan_last_error(session);
        EXPECT_NE(schan_last_error(session), nullptr);
        if (!may_change_state(misuse.name)) {
            EXPECT_EQ(schan_get_state(session), state_before);
        }
        const bool rejected = status == SCHAN_E_INVALID_ARGUMENT || status == SCHAN_E_INVALID_STATE;
        if (rejected && !failed(phase)) {
            if (!is_query(misuse.name)) {
                EXPECT_EQ(schan_last_status(session), status);
            }
            EXPECT_NE(schan_get_state(session), SCHAN_STATE_FAILED) << "a rejected call failed the session";
        }
        if (failed(phase)) {
            // A failed session keeps its state, status and message.
            EXPECT_EQ(schan_get_state(session), SCHAN_STATE_FAILED);
            EXPECT_EQ(schan_last_status(session), failure_status(phase));
            EXPECT_EQ(schan_step(session), failure_status(phase));
        }
        if (!may_change_state(misuse.name)) {
            EXPECT_EQ(subject.check_usable(phase), "");
        }
    }
}

std::vector<Phase> phases()
{
    std::vector<Phase> list = {Phase::new_client, Phase::client_hello_sent, Phase::ended_client, Phase::failed_client};
#if defined(SCHAN_MISUSE_MEMORY_LINK)
    list.insert(list.end(), {Phase::new_server, Phase::open_client, Phase::open_server, Phase::shut_down_client,
                             Phase::closed_client, Phase::truncated_client});
#endif
    return list;
}

INSTANTIATE_TEST_SUITE_P(Phases, MisuseMatrix, ::testing::ValuesIn(phases()),
                         [](const ::testing::TestParamInfo<Phase>& phase_info) { return phase_name(phase_info.param); });

// Every session function with a NULL session.
TEST(MisuseMatrix, NullSessionRejected)
{
    const std::uint8_t* der = nullptr;
    const char* text = nullptr;
    schan_tls_version version{};
    int resumed = 0;

    EXPECT_EQ(schan_feed(nullptr, g_buffer, 1, &g_size), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_feed_eof(nullptr), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_step(nullptr), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_output_size(nullptr), 0u);
    EXPECT_EQ(schan_take_output(nullptr, g_buffer, 1, &g_size), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_encrypt(nullptr, g_buffer, 1, &g_size), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_decrypt(nullptr, g_buffer, 1, &g_size), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_shutdown(nullptr), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_get_state(nullptr), SCHAN_STATE_FAILED);
    EXPECT_EQ(schan_get_protocol(nullptr, &version), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_get_cipher(nullptr, &text), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_get_alpn(nullptr, &text), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_get_peer_cert_count(nullptr, &g_size), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_get_peer_cert(nullptr, 0, &der, &g_size), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_session_resumed(nullptr, &resumed), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_STREQ(schan_last_error(nullptr), "");
    EXPECT_EQ(schan_last_status(nullptr), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_last_backend_error(nullptr), 0u);
    schan_session_free(nullptr);
}

// Every config function with a NULL config, NULL pointers and bad lengths.
// Each row gets a fresh config and must leave it usable for a session.
struct ConfigMisuse {
    const char* name;
    std::function<schan_status(schan_config*)> call;
    schan_status expected;
};

TEST(MisuseMatrix, ConfigCallsReturnDocumentedStatus)
{
    const char pem[] = "-----BEGIN CERTIFICATE-----";
    const bool openssl = std::string(schan_backend_name()) == "openssl";
    const std::vector<ConfigMisuse> rows = {
        {"set_versions unknown", [](schan_config* c) { return schan_config_set_versions(c, out_of_range<schan_tls_version>(0x0302), SCHAN_TLS_DEFAULT); }, SCHAN_E_INVALID_ARGUMENT},
        {"set_versions min above max", [](schan_config* c) { return schan_config_set_versions(c, SCHAN_TLS_1_3, SCHAN_TLS_1_2); }, SCHAN_E_INVALID_ARGUMENT},
        {"add_alpn NULL", [](schan_config* c) { return schan_config_add_alpn(c, nullptr); }, SCHAN_E_INVALID_ARGUMENT},
        {"add_alpn empty", [](schan_config* c) { return schan_config_add_alpn(c, ""); }, SCHAN_E_INVALID_ARGUMENT},
        {"add_alpn 256 bytes", [](schan_config* c) { return schan_config_add_alpn(c, std::string(256, 'a').c_str()); }, SCHAN_E_INVALID_ARGUMENT},
        {"set_verify_mode unknown", [](schan_config* c) { return schan_config_set_verify_mode(c, out_of_range<schan_verify_mode>(4)); }, SCHAN_E_INVALID_ARGUMENT},
        {"set_revocation_mode unknown", [](schan_config* c) { return schan_config_set_revocation_mode(c, out_of_range<schan_revocation_mode>(-1)); }, SCHAN_E_INVALID_ARGUMENT},
        {"set_client_auth unknown", [](schan_config* c) { return schan_config_set_client_auth(c, out_of_range<schan_client_auth>(3)); }, SCHAN_E_INVALID_ARGUMENT},
        {"load_ca_file NULL", [](schan_config* c) { return schan_config_load_ca_file(c, nullptr); }, SCHAN_E_INVALID_ARGUMENT},
        {"load_ca_pem NULL", [](schan_config* c) { return schan_config_load_ca_pem(c, nullptr, 5); }, SCHAN_E_INVALID_ARGUMENT},
        {"load_ca_pem empty", [&](schan_config* c) { return schan_config_load_ca_pem(c, pem, 0); }, SCHAN_E_BAD_FORMAT},
        {"load_ca_pem SIZE_MAX", [&](schan_config* c) { return schan_config_load_ca_pem(c, pem, kHuge); }, SCHAN_E_INVALID_ARGUMENT},
        {"load_cert_chain_file NULL", [](schan_config* c) { return schan_config_load_cert_chain_file(c, nullptr, nullptr, nullptr); }, SCHAN_E_INVALID_ARGUMENT},
        {"load_cert_chain_pem NULL", [](schan_config* c) { return schan_config_load_cert_chain_pem(c, nullptr, 5, nullptr, 0, nullptr); }, SCHAN_E_INVALID_ARGUMENT},
        {"load_cert_chain_pem NULL key", [&](schan_config* c) { return schan_config_load_cert_chain_pem(c, pem, sizeof pem, nullptr, 5, nullptr); }, SCHAN_E_INVALID_ARGUMENT},
        {"load_cert_chain_pem empty", [&](schan_config* c) { return schan_config_load_cert_chain_pem(c, pem, 0, nullptr, 0, nullptr); }, SCHAN_E_BAD_FORMAT},
        {"load_cert_chain_pem SIZE_MAX", [&](schan_config* c) { return schan_config_load_cert_chain_pem(c, pem, kHuge, nullptr, 0, nullptr); }, SCHAN_E_INVALID_ARGUMENT},
        {"load_cert_chain_pem key SIZE_MAX", [&](schan_config* c) { return schan_config_load_cert_chain_pem(c, pem, sizeof pem, pem, kHuge, nullptr); }, SCHAN_E_INVALID_ARGUMENT},
        {"load_pkcs12_file NULL", [](schan_config* c) { return schan_config_load_pkcs12_file(c, nullptr, nullptr); }, SCHAN_E_INVALID_ARGUMENT},
        {"load_pkcs12 NULL", [](schan_config* c) { return schan_config_load_pkcs12(c, nullptr, 5, nullptr); }, SCHAN_E_INVALID_ARGUMENT},
        {"load_pkcs12 empty", [](schan_config* c) { return schan_config_load_pkcs12(c, g_buffer, 0, nullptr); }, SCHAN_E_BAD_FORMAT},
        {"load_pkcs12 SIZE_MAX", [](schan_config* c) { return schan_config_load_pkcs12(c, g_buffer, kHuge, nullptr); }, SCHAN_E_INVALID_ARGUMENT},
        {"load_cert_store NULL", [](schan_config* c) { return schan_config_load_cert_store(c, nullptr); }, SCHAN_E_INVALID_ARGUMENT},
        {"load_cert_store", [](schan_config* c) { return schan_config_load_cert_store(c, "CurrentUser\\MY\\00"); },
         openssl ? SCHAN_E_UNSUPPORTED : SCHAN_E_INVALID_ARGUMENT},
    };

    for (const ConfigMisuse& row : rows) {
        SCOPED_TRACE(row.name);
        schan_config* config = nullptr;
        ASSERT_EQ(schan_config_new(&config), SCHAN_OK);

        EXPECT_EQ(row.call(nullptr), SCHAN_E_INVALID_ARGUMENT) << "with a NULL config";
        const schan_status status = row.call(config);
        EXPECT_EQ(status, row.expected) << schan_status_name(status) << ": " << schan_config_last_error(config);
        EXPECT_GT(std::string(schan_config_last_error(config)).size(), 0u);

        // The config is still usable: a client session can be created from it.
        schan_session* session = nullptr;
        EXPECT_EQ(schan_client_new(config, "localhost", &session), SCHAN_OK);
        schan_session_free(session);
        schan_config_free(config);
    }
}

TEST(MisuseMatrix, SessionConstructorsRejectBadArguments)
{
    schan_config* config = nullptr;
    schan_session* session = reinterpret_cast<schan_session*>(&g_buffer);
    ASSERT_EQ(schan_config_new(&config), SCHAN_OK);

    EXPECT_EQ(schan_config_new(nullptr), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_config_clear_alpn(nullptr), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_config_enable_resumption(nullptr, 1), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_STREQ(schan_config_last_error(nullptr), "");
    EXPECT_EQ(schan_client_new(config, "localhost", nullptr), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_client_new(nullptr, "localhost", &session), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(session, nullptr) << "*out is set to NULL on failure";
    EXPECT_EQ(schan_client_new(config, "", &session), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_server_new(config, nullptr), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(schan_server_new(nullptr, &session), SCHAN_E_INVALID_ARGUMENT);
    // A server session needs a certificate: a client's config has none.
    EXPECT_EQ(schan_server_new(config, &session), SCHAN_E_INVALID_ARGUMENT);
    EXPECT_EQ(session, nullptr);
    schan_config_free(nullptr);
    schan_config_free(config);
}

// A client fed a ClientHello, the bytes a server expects: the wrong role's
// input fails the session cleanly with an error status.
TEST(MisuseMatrix, ClientFedClientHelloFails)
{
    schan_config* config = new_client_config();
    schan_session* sender = nullptr;
    schan_session* receiver = nullptr;
    ASSERT_EQ(schan_client_new(config, "localhost", &sender), SCHAN_OK);
    ASSERT_EQ(schan_client_new(config, "localhost", &receiver), SCHAN_OK);
    schan_config_free(config);
    ASSERT_EQ(schan_step(sender), SCHAN_HAVE_OUTPUT);
    ASSERT_EQ(schan_step(receiver), SCHAN_HAVE_OUTPUT);
    drain(receiver);

    std::vector<std::uint8_t> hello(schan_output_size(sender));
    ASSERT_EQ(schan_take_output(sender, hello.data(), hello.size(), &g_size), SCHAN_OK);
    std::size_t consumed = 0;
    ASSERT_EQ(schan_feed(receiver, hello.data(), hello.size(), &consumed), SCHAN_OK);

    schan_status status = schan_step(receiver);
    while (status == SCHAN_HAVE_OUTPUT) {
        drain(receiver);
        status = schan_step(receiver);
    }
    EXPECT_LT(status, 0) << schan_status_name(status);
    EXPECT_EQ(schan_get_state(receiver), SCHAN_STATE_FAILED);
    EXPECT_EQ(schan_last_status(receiver), status);
    EXPECT_EQ(schan_step(receiver), status) << "a failed session repeats its status";
    EXPECT_EQ(schan_feed(receiver, hello.data(), 1, &consumed), status);
    schan_session_free(sender);
    schan_session_free(receiver);
}

} // namespace
