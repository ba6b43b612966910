// Tests of the SChannel client with status sequences that only Windows
// produces. TLS 1.3 post-handshake messages come as SEC_I_RENEGOTIATE, one
// after another and mixed with application data. SEC_E_INCOMPLETE_MESSAGE
// comes with and without a SECBUFFER_MISSING count. A TLS 1.2 renegotiation
// is started by the server, also while a write is pending, and a TLS 1.3
// KeyUpdate response follows records queued before it.
//
// Wine 8 negotiates TLS 1.2 only, so the handshake messages of these
// sequences travel as application-data records whose plaintext names them
// (for example "TICKET-1" or "SERVER-HELLO"). The hooks decrypt such records
// with the real DecryptMessage and report them with the statuses Windows
// uses, so every record on the wire is real and the record sequence numbers
// of both sides stay in step. docs/windows-notes.md lists the tests.
#include <gtest/gtest.h>

#include <windows.h>
#include <sspi.h>
#include <schannel.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "schannel/injection_support.h"
#include "schannel/sspi_injection.h"

using schan::test::buffer_bytes;
using schan::test::decrypt_record;
using schan::test::encrypt_record;
using schan::test::first_record_size;
using schan::test::Peer;
using schan::test::records_peer;
using schan::test::Socket;
using schan::test::SspiInjection;
using schan::test::TlsConnection;

namespace {

constexpr std::uint8_t kApplicationData = 23;

bool starts_with(const std::string& text, const std::string& prefix)
{
    return text.rfind(prefix, 0) == 0;
}

std::string as_text(const std::vector<std::byte>& bytes)
{
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::vector<std::byte> first_record(const std::vector<std::byte>& records)
{
    return std::vector<std::byte>(records.begin(), records.begin() + first_record_size(records));
}

// Counts the complete TLS records at the start of `bytes`.
std::size_t count_records(const std::vector<std::byte>& bytes)
{
    std::size_t count = 0;
    std::size_t offset = 0;
    while (bytes.size() - offset >= 5) {
        const std::vector<std::byte> rest(bytes.begin() + offset, bytes.end());
        offset += first_record_size(rest);
        ++count;
    }
    return count;
}

// Creates a client session for "localhost" with the test config and
// connects it to 127.0.0.1:port; each schan_feed gets at most `chunk` bytes.
std::unique_ptr<TlsConnection> connect_in_chunks(std::uint16_t port, std::size_t chunk)
{
    const auto config = schan::test::test_config();
    schan_session* session = nullptr;
    if (schan_client_new(config.get(), "localhost", &session) != SCHAN_OK)
        throw std::runtime_error("schan_client_new failed");
    try {
        return std::make_unique<TlsConnection>(session, Socket::connect("127.0.0.1", port),
                                               schan::test::FeedPlan{chunk, 0});
    } catch (...) {
        schan_session_free(session);
        throw;
    }
}

// Fills the buffers of `message` as an in-place DecryptMessage does for the
// first record of its input, whose plaintext the hook already has: header,
// data, trailer, and the records after it as EXTRA.
SECURITY_STATUS report_decrypted(PSecBufferDesc message, std::size_t record_size, const std::string& plaintext)
{
    auto* base = static_cast<std::byte*>(message->pBuffers[0].pvBuffer);
    const std::size_t total = message->pBuffers[0].cbBuffer;
    const auto length = static_cast<unsigned long>(plaintext.size());
    std::memcpy(base + 5, plaintext.data(), plaintext.size());

    message->pBuffers[0] = SecBuffer{5, SECBUFFER_STREAM_HEADER, base};
    message->pBuffers[1] = SecBuffer{length, SECBUFFER_DATA, base + 5};
    message->pBuffers[2] =
        SecBuffer{static_cast<unsigned long>(record_size - 5 - plaintext.size()), SECBUFFER_STREAM_TRAILER,
                  base + 5 + plaintext.size()};
    message->pBuffers[3] = total > record_size
                               ? SecBuffer{static_cast<unsigned long>(total - record_size), SECBUFFER_EXTRA,
                                           base + record_size}
                               : SecBuffer{0, SECBUFFER_EMPTY, nullptr};
    return SEC_E_OK;
}

// Marks the bytes of the token buffer after its first `used` bytes as EXTRA.
void report_extra(PSecBufferDesc input, std::size_t used)
{
    SecBuffer& token = input->pBuffers[0];
    if (token.cbBuffer > used)
        input->pBuffers[1] = SecBuffer{static_cast<unsigned long>(token.cbBuffer - used), SECBUFFER_EXTRA,
                                       static_cast<std::byte*>(token.pvBuffer) + used};
}

// Sets an InitializeSecurityContext result without an output token.
SECURITY_STATUS finish_without_token(SECURITY_STATUS status, PSecBufferDesc output, ULONG request,
                                     ULONG* attributes)
{
    output->pBuffers[0].cbBuffer = 0;
    output->pBuffers[0].pvBuffer = nullptr;
    *attributes = request;
    return status;
}

class InjectedSequence : public ::testing::Test {
protected:
    // Declared first, so that it outlives every session of the test.
    SspiInjection sspi;

    SECURITY_STATUS real_initialize(PCredHandle credentials, PCtxtHandle context, SEC_WCHAR* target, ULONG request,
                                    ULONG reserved1, ULONG representation, PSecBufferDesc input, ULONG reserved2,
                                    PCtxtHandle new_context, PSecBufferDesc output, ULONG* attributes,
                                    PTimeStamp expiry)
    {
        return sspi.real().InitializeSecurityContextW(credentials, context, target, request, reserved1,
                                                      representation, input, reserved2, new_context, output,
                                                      attributes, expiry);
    }
};

} // namespace

// --- TLS 1.3 post-handshake messages in a row ---------------------------------

namespace {

// How Windows 11 hands a post-handshake message back.
enum class Delivery {
    // DecryptMessage returns SEC_I_RENEGOTIATE with the handshake record and
    // everything after it as EXTRA; InitializeSecurityContext processes the
    // record and returns the rest as EXTRA.
    leftover_to_initialize,
    // DecryptMessage processes the handshake record itself and returns the
    // records after it as EXTRA; InitializeSecurityContext gets those and
    // returns them all as EXTRA.
    processed_by_decrypt,
};

// When the client closes the connection.
enum class Closing {
    by_server,             // the records end with the server's close_notify
    after_reading,         // the client reads a later echo, then sends close_notify
    before_the_messages,   // the client sends close_notify before it reads anything
};

struct SequenceCase {
    std::string name;
    std::vector<std::string> records;  // in the server's order; "TICKET-*" stands for a handshake message
    Delivery delivery;
    Closing closing = Closing::by_server;
};

class PostHandshakeSequence : public InjectedSequence, public ::testing::WithParamInterface<SequenceCase> {};

std::vector<std::string> tickets(int count)
{
    std::vector<std::string> names;
    for (int i = 1; i <= count; ++i)
        names.push_back("TICKET-" + std::to_string(i));
    return names;
}

std::vector<std::string> around(const std::vector<std::string>& middle)
{
    std::vector<std::string> records = {"before"};
    records.insert(records.end(), middle.begin(), middle.end());
    records.push_back("after");
    return records;
}

std::vector<SequenceCase> sequence_cases()
{
    // Eight messages: first in the read, between data records and last
    // before close_notify.
    const std::vector<std::string> mixed = {"TICKET-1", "data-a",   "TICKET-2", "TICKET-3",
                                            "data-b",   "TICKET-4", "TICKET-5", "TICKET-6",
                                            "TICKET-7", "data-c",   "TICKET-8"};
    std::vector<SequenceCase> cases;
    for (const auto& [suffix, delivery] : {std::pair{"LeftoverToInitialize", Delivery::leftover_to_initialize},
                                           std::pair{"ProcessedByDecrypt", Delivery::processed_by_decrypt}}) {
        const std::string tail = std::string("_") + suffix;
        cases.push_back({"OneBetweenData" + tail, around(tickets(1)), delivery});
        cases.push_back({"TwoInARow" + tail, around(tickets(2)), delivery});
        cases.push_back({"EightInARow" + tail, around(tickets(8)), delivery});
        cases.push_back({"EightAroundData" + tail, mixed, delivery});
        // Nothing follows the messages in their read; data comes in a later one.
        cases.push_back({"TwoAloneInRead" + tail, tickets(2), delivery, Closing::after_reading});
        cases.push_back({"TwoAfterShutdown" + tail, tickets(2), delivery, Closing::before_the_messages});
    }
    return cases;
}

std::string sequence_name(const ::testing::TestParamInfo<SequenceCase>& info)
{
    return info.param.name;
}

} // namespace

TEST_P(PostHandshakeSequence, DeliversDataInOrder)
{
    // All records and close_notify reach the client in one TCP write, so the
    // handshake messages share each DecryptMessage input with application data.
    const SequenceCase& sequence = GetParam();
    std::vector<std::string> arguments;
    std::string expected_data;
    std::vector<std::string> expected_messages;
    for (const std::string& record : sequence.records) {
        arguments.insert(arguments.end(), {"--record", record});
        if (starts_with(record, "TICKET"))
            expected_messages.push_back(record);
        else
            expected_data += record;
    }
    if (sequence.closing == Closing::by_server)
        arguments.push_back("--close");
    Peer server = Peer::start(records_peer(arguments));
    auto client = schan::test::connect_client(server.port());
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
    // The state in which each message arrives: SCHAN_STATE_CLOSING once the
    // client has sent close_notify.
    const schan_state state_between_messages =
        sequence.closing == Closing::before_the_messages ? SCHAN_STATE_CLOSING : SCHAN_STATE_OPEN;

    std::string pending_message;        // decrypted by the DecryptMessage hook, not yet processed
    std::vector<std::byte> leftover;    // the EXTRA bytes DecryptMessage returned with SEC_I_RENEGOTIATE
    std::vector<std::string> processed;  // messages InitializeSecurityContext processed, in order
    std::vector<schan_state> states_at_decrypt;
    std::vector<schan_state> states_at_initialize;
    int token_mismatches = 0;

    sspi.decrypt_message = [&](PCtxtHandle context, PSecBufferDesc message, ULONG sequence_number, ULONG* quality) {
        const std::vector<std::byte> input = buffer_bytes(message->pBuffers[0]);
        if (std::to_integer<std::uint8_t>(input[0]) != kApplicationData)
            return sspi.real().DecryptMessage(context, message, sequence_number, quality);

        if (sequence.delivery == Delivery::processed_by_decrypt) {
            const SECURITY_STATUS status = sspi.real().DecryptMessage(context, message, sequence_number, quality);
            const SecBuffer* data = schan::test::find_buffer(*message, SECBUFFER_DATA);
            const std::string text = data == nullptr ? std::string() : as_text(buffer_bytes(*data));
            if (status != SEC_E_OK || !starts_with(text, "TICKET"))
                return status;
            states_at_decrypt.push_back(schan_get_state(client->session()));
            pending_message = text;
            const SecBuffer* extra = schan::test::find_buffer(*message, SECBUFFER_EXTRA);
            leftover = extra == nullptr ? std::vector<std::byte>() : buffer_bytes(*extra);
            return SEC_I_RENEGOTIATE;
        }

        // The hook decrypts a copy of the first record to see what it is,
        // which advances the real read sequence number exactly once.
        const std::size_t record_size = first_record_size(input);
        const std::string text = decrypt_record(sspi.real(), context, first_record(input));
        if (!starts_with(text, "TICKET"))
            return report_decrypted(message, record_size, text);
        states_at_decrypt.push_back(schan_get_state(client->session()));
        pending_message = text;
        leftover = input;
        message->pBuffers[1] = SecBuffer{message->pBuffers[0].cbBuffer, SECBUFFER_EXTRA,
                                         message->pBuffers[0].pvBuffer};
        message->pBuffers[0].cbBuffer = 0;
        return SEC_I_RENEGOTIATE;
    };
    sspi.initialize_context = [&](PCredHandle credentials, PCtxtHandle context, SEC_WCHAR* target, ULONG request,
                                  ULONG reserved1, ULONG representation, PSecBufferDesc input, ULONG reserved2,
                                  PCtxtHandle new_context, PSecBufferDesc output, ULONG* attributes,
                                  PTimeStamp expiry) {
        if (pending_message.empty())
            return real_initialize(credentials, context, target, request, reserved1, representation, input,
                                   reserved2, new_context, output, attributes, expiry);
        states_at_initialize.push_back(schan_get_state(client->session()));
        const std::vector<std::byte> token = buffer_bytes(input->pBuffers[0]);
        // More records may have arrived since, but the leftover bytes come first.
        if (token.size() < leftover.size() || !std::equal(leftover.begin(), leftover.end(), token.begin()))
            ++token_mismatches;

        const std::size_t used =
            sequence.delivery == Delivery::leftover_to_initialize ? first_record_size(token) : 0;
        report_extra(input, used);
        processed.push_back(pending_message);
        pending_message.clear();
        return finish_without_token(SEC_E_OK, output, request, attributes);
    };

    ASSERT_EQ(client->write("request\n"), SCHAN_OK) << client->error();
    schan_status status = SCHAN_OK;
    std::string received;
    switch (sequence.closing) {
    case Closing::by_server:
        received = client->read_to_end(status);
        break;
    case Closing::after_reading:
        ASSERT_EQ(client->write("ping\n"), SCHAN_OK) << client->error();
        expected_data += "ping\n";
        received = client->read(expected_data.size(), status);
        ASSERT_EQ(client->shutdown(), SCHAN_OK) << client->error();
        received += client->read_to_end(status);
        break;
    case Closing::before_the_messages:
        ASSERT_EQ(client->shutdown(), SCHAN_OK) << client->error();
        received = client->read_to_end(status);
        break;
    }

    EXPECT_EQ(received, expected_data);
    EXPECT_EQ(status, SCHAN_CLOSED) << client->error();
    EXPECT_EQ(processed, expected_messages);
    EXPECT_EQ(token_mismatches, 0) << "InitializeSecurityContext did not get the EXTRA bytes first";
    EXPECT_EQ(states_at_decrypt, std::vector<schan_state>(expected_messages.size(), state_between_messages))
        << "a message arrived before the session returned to its state before the previous one";
    EXPECT_EQ(states_at_initialize,
              std::vector<schan_state>(expected_messages.size(), SCHAN_STATE_RENEGOTIATING));
    EXPECT_EQ(schan_get_state(client->session()),
              sequence.closing == Closing::by_server ? SCHAN_STATE_CLOSING : SCHAN_STATE_CLOSED);
}

INSTANTIATE_TEST_SUITE_P(Injection, PostHandshakeSequence, ::testing::ValuesIn(sequence_cases()), sequence_name);

// --- SEC_E_INCOMPLETE_MESSAGE -------------------------------------------------

namespace {

struct IncompleteCase {
    const char* name;
    bool missing_count;  // whether SChannel fills a SECBUFFER_MISSING buffer
};

class IncompleteMessage : public InjectedSequence, public ::testing::WithParamInterface<IncompleteCase> {};

// Sets the second buffer to SECBUFFER_MISSING with a count, as Windows does
// for some incomplete input and not for other; Wine 8 never does.
void report_missing(PSecBufferDesc desc, bool missing_count)
{
    if (missing_count)
        desc->pBuffers[1] = SecBuffer{5, SECBUFFER_MISSING, nullptr};
}

// True when `flight` ends with ServerHelloDone, the last message of a TLS
// 1.2 server's first flight.
bool ends_with_server_hello_done(const std::vector<std::byte>& flight)
{
    static const std::byte kServerHelloDone[] = {std::byte{14}, std::byte{0}, std::byte{0}, std::byte{0}};
    return flight.size() >= 4 && std::equal(std::begin(kServerHelloDone), std::end(kServerHelloDone), flight.end() - 4);
}

// The records that records_server.py sends in the incomplete-message tests.
std::vector<std::string> numbered_records(int count)
{
    std::vector<std::string> records;
    for (int i = 0; i < count; ++i)
        records.push_back("record " + std::to_string(i) + " of the body, ");
    return records;
}

} // namespace

TEST_P(IncompleteMessage, HandshakeWaitsForMoreInput)
{
    // The client feeds the server's first flight in chunks of 100 bytes, and
    // InitializeSecurityContext reports SEC_E_INCOMPLETE_MESSAGE until the
    // flight is complete, as Windows does for a handshake message that spans
    // records. Each call must get more input than the one before.
    Peer server = Peer::start(records_peer({"--tls12", "--record", "one", "--record", "two", "--close"}));
    std::vector<std::size_t> incomplete_sizes;
    bool flight_complete = false;
    sspi.initialize_context = [&](PCredHandle credentials, PCtxtHandle context, SEC_WCHAR* target, ULONG request,
                                  ULONG reserved1, ULONG representation, PSecBufferDesc input, ULONG reserved2,
                                  PCtxtHandle new_context, PSecBufferDesc output, ULONG* attributes,
                                  PTimeStamp expiry) {
        if (context != nullptr && !flight_complete) {
            const std::vector<std::byte> token = buffer_bytes(input->pBuffers[0]);
            flight_complete = ends_with_server_hello_done(token);
            if (!flight_complete) {
                incomplete_sizes.push_back(token.size());
                report_missing(input, GetParam().missing_count);
                return finish_without_token(SEC_E_INCOMPLETE_MESSAGE, output, request, attributes);
            }
        }
        return real_initialize(credentials, context, target, request, reserved1, representation, input, reserved2,
                               new_context, output, attributes, expiry);
    };

    auto client = connect_in_chunks(server.port(), 100);
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
    ASSERT_EQ(client->write("request\n"), SCHAN_OK) << client->error();
    schan_status status = SCHAN_OK;
    const std::string received = client->read_to_end(status);

    EXPECT_EQ(received, "onetwo");
    EXPECT_EQ(status, SCHAN_CLOSED) << client->error();
    EXPECT_TRUE(flight_complete);
    ASSERT_FALSE(incomplete_sizes.empty()) << "the first flight arrived in one chunk";
    for (std::size_t i = 1; i < incomplete_sizes.size(); ++i)
        EXPECT_GT(incomplete_sizes[i], incomplete_sizes[i - 1]) << "InitializeSecurityContext got the same input again";
}

TEST_P(IncompleteMessage, DecryptWaitsForMoreInput)
{
    // DecryptMessage reports SEC_E_INCOMPLETE_MESSAGE whenever its input is
    // one complete record, so every record waits for the next one to arrive.
    // schan_decrypt must return SCHAN_NEED_INPUT and call DecryptMessage again
    // only with more input, and no plaintext may be lost.
    const std::vector<std::string> records = numbered_records(6);
    std::vector<std::string> arguments;
    std::string expected;
    for (const std::string& record : records) {
        arguments.insert(arguments.end(), {"--record", record});
        expected += record;
    }
    arguments.push_back("--close");
    Peer server = Peer::start(records_peer(arguments));
    auto client = connect_in_chunks(server.port(), 40);
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
    ASSERT_EQ(client->write("request\n"), SCHAN_OK) << client->error();

    std::vector<std::size_t> input_sizes;   // of every DecryptMessage call
    std::vector<bool> reported_incomplete;  // per call
    sspi.decrypt_message = [&](PCtxtHandle context, PSecBufferDesc message, ULONG sequence_number, ULONG* quality) {
        const std::vector<std::byte> input = buffer_bytes(message->pBuffers[0]);
        input_sizes.push_back(input.size());
        const bool incomplete =
            std::to_integer<std::uint8_t>(input[0]) == kApplicationData && first_record_size(input) == input.size();
        reported_incomplete.push_back(incomplete);
        if (!incomplete)
            return sspi.real().DecryptMessage(context, message, sequence_number, quality);
        report_missing(message, GetParam().missing_count);
        return SEC_E_INCOMPLETE_MESSAGE;
    };

    // Drives schan_decrypt by hand to see each status it returns.
    std::string received;
    std::vector<schan_status> statuses;
    std::vector<std::uint8_t> buffer(4096);
    std::vector<std::uint8_t> unfed;
    bool ended = false;
    for (int round = 0; round < 10000; ++round) {
        std::size_t written = 0;
        const schan_status status = schan_decrypt(client->session(), buffer.data(), buffer.size(), &written);
        statuses.push_back(status);
        if (status == SCHAN_OK) {
            received.append(reinterpret_cast<const char*>(buffer.data()), written);
            continue;
        }
        if (status != SCHAN_NEED_INPUT || ended)
            break;
        if (unfed.empty()) {
            std::vector<std::uint8_t> chunk(65536);
            const std::size_t length = client->socket().receive(chunk.data(), chunk.size());
            if (length == 0) {
                ended = true;
                schan_feed_eof(client->session());
                continue;
            }
            unfed.assign(chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(length));
        }
        std::size_t consumed = 0;
        ASSERT_EQ(schan_feed(client->session(), unfed.data(), std::min<std::size_t>(unfed.size(), 40), &consumed),
                  SCHAN_OK);
        unfed.erase(unfed.begin(), unfed.begin() + static_cast<std::ptrdiff_t>(consumed));
    }

    EXPECT_EQ(received, expected);
    ASSERT_FALSE(statuses.empty());
    EXPECT_EQ(statuses.back(), SCHAN_CLOSED) << client->error();
    for (const schan_status status : statuses)
        EXPECT_TRUE(status == SCHAN_OK || status == SCHAN_NEED_INPUT || status == SCHAN_CLOSED) << status;
    EXPECT_GE(std::count(reported_incomplete.begin(), reported_incomplete.end(), true), 6);
    for (std::size_t i = 1; i < input_sizes.size(); ++i) {
        if (reported_incomplete[i - 1]) {
            EXPECT_GT(input_sizes[i], input_sizes[i - 1]) << "DecryptMessage got the same input again, call " << i;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Injection, IncompleteMessage,
                         ::testing::Values(IncompleteCase{"WithMissingCount", true},
                                           IncompleteCase{"WithoutMissingCount", false}),
                         [](const auto& case_info) { return std::string(case_info.param.name); });

// --- TLS 1.2 renegotiation started by the server ------------------------------

namespace {

// Replays a TLS 1.2 renegotiation as Windows runs it. The server's
// "HELLO-REQUEST" record makes DecryptMessage return SEC_I_RENEGOTIATE;
// InitializeSecurityContext with an empty token then returns the
// "CLIENT-HELLO" token, with "SERVER-HELLO" the "CLIENT-FINISHED" token, and
// with "SERVER-FINISHED" SEC_E_OK. Tokens are real records from the real
// EncryptMessage, and records_server.py --exchange replies to them.
class RenegotiationReplay {
public:
    RenegotiationReplay(SspiInjection& sspi, const schan_session* session) : sspi_(sspi), session_(session)
    {
        sspi.decrypt_message = [this](PCtxtHandle context, PSecBufferDesc message, ULONG sequence, ULONG* quality) {
            return decrypt(context, message, sequence, quality);
        };
        sspi.initialize_context = [this](PCredHandle credentials, PCtxtHandle context, SEC_WCHAR* target,
                                         ULONG request, ULONG reserved1, ULONG representation, PSecBufferDesc input,
                                         ULONG reserved2, PCtxtHandle new_context, PSecBufferDesc output,
                                         ULONG* attributes, PTimeStamp expiry) {
            if (!running_)
                return sspi_.real().InitializeSecurityContextW(credentials, context, target, request, reserved1,
                                                               representation, input, reserved2, new_context,
                                                               output, attributes, expiry);
            return initialize(context, request, input, output, attributes);
        };
    }

    // Server messages that InitializeSecurityContext processed, in order.
    std::vector<std::string> processed;
    // Tokens it returned, by name.
    std::vector<std::string> sent;
    // Token sizes seen at each call: 0 for the first call.
    std::vector<std::size_t> token_sizes;
    std::vector<schan_state> states;
    int completed = 0;

private:
    SECURITY_STATUS decrypt(PCtxtHandle context, PSecBufferDesc message, ULONG sequence, ULONG* quality)
    {
        const SECURITY_STATUS status = sspi_.real().DecryptMessage(context, message, sequence, quality);
        const SecBuffer* data = schan::test::find_buffer(*message, SECBUFFER_DATA);
        if (status != SEC_E_OK || data == nullptr || as_text(buffer_bytes(*data)) != "HELLO-REQUEST")
            return status;
        running_ = true;
        return SEC_I_RENEGOTIATE;
    }

    SECURITY_STATUS initialize(PCtxtHandle context, ULONG request, PSecBufferDesc input, PSecBufferDesc output,
                               ULONG* attributes)
    {
        states.push_back(schan_get_state(session_));
        const std::vector<std::byte> token = buffer_bytes(input->pBuffers[0]);
        token_sizes.push_back(token.size());
        if (processed.empty() && sent.empty()) {
            if (!token.empty())
                return SEC_E_ILLEGAL_MESSAGE;  // data before the ServerHello, which Windows may handle otherwise
            return send(context, "CLIENT-HELLO", request, output, attributes);
        }

        const std::size_t used = first_record_size(token);
        const std::string text = decrypt_record(sspi_.real(), context, first_record(token));
        processed.push_back(text);
        report_extra(input, used);
        if (text == "SERVER-HELLO")
            return send(context, "CLIENT-FINISHED", request, output, attributes);
        if (text != "SERVER-FINISHED")
            return SEC_E_ILLEGAL_MESSAGE;
        running_ = false;
        ++completed;
        return finish_without_token(SEC_E_OK, output, request, attributes);
    }

    SECURITY_STATUS send(PCtxtHandle context, const std::string& name, ULONG request, PSecBufferDesc output,
                         ULONG* attributes)
    {
        const std::vector<std::byte> record = encrypt_record(sspi_.real(), context, name);
        output->pBuffers[0].cbBuffer = static_cast<unsigned long>(record.size());
        output->pBuffers[0].pvBuffer = sspi_.allocate_token(record);
        *attributes = request;
        sent.push_back(name);
        return SEC_I_CONTINUE_NEEDED;
    }

    SspiInjection& sspi_;
    const schan_session* session_;
    bool running_ = false;
};

std::vector<std::string> renegotiation_server_arguments()
{
    return {"--record",   "before",
            "--record",   "HELLO-REQUEST",
            "--exchange", "CLIENT-HELLO=SERVER-HELLO",
            "--exchange", "CLIENT-FINISHED=SERVER-FINISHED"};
}

// Takes every queued output byte of `session`.
std::vector<std::byte> take_all_output(schan_session* session)
{
    std::vector<std::byte> bytes(schan_output_size(session));
    std::size_t written = 0;
    schan_take_output(session, reinterpret_cast<std::uint8_t*>(bytes.data()), bytes.size(), &written);
    bytes.resize(written);
    return bytes;
}

} // namespace

TEST_F(InjectedSequence, ServerRenegotiationStartsWithEmptyToken)
{
    // Windows reports a HelloRequest as SEC_I_RENEGOTIATE, and the first
    // InitializeSecurityContext call, with an empty token, returns the new
    // ClientHello. Wine 8 fails that call instead (see
    // Tls12RenegotiationUnderWineFailsClearly).
    Peer server = Peer::start(records_peer(renegotiation_server_arguments()));
    auto client = schan::test::connect_client(server.port());
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
    RenegotiationReplay replay(sspi, client->session());

    ASSERT_EQ(client->write("request\n"), SCHAN_OK) << client->error();
    schan_status status = SCHAN_OK;
    EXPECT_EQ(client->read(6, status), "before") << client->error();
    ASSERT_EQ(client->write("after renegotiation\n"), SCHAN_OK) << client->error();
    EXPECT_EQ(client->read(20, status), "after renegotiation\n") << client->error() << "\n" << server.output();
    ASSERT_EQ(client->shutdown(), SCHAN_OK) << client->error();
    EXPECT_EQ(client->read_to_end(status), "");
    EXPECT_EQ(status, SCHAN_CLOSED) << client->error();

    EXPECT_EQ(replay.completed, 1);
    EXPECT_EQ(replay.sent, (std::vector<std::string>{"CLIENT-HELLO", "CLIENT-FINISHED"}));
    EXPECT_EQ(replay.processed, (std::vector<std::string>{"SERVER-HELLO", "SERVER-FINISHED"}));
    ASSERT_FALSE(replay.token_sizes.empty());
    EXPECT_EQ(replay.token_sizes[0], 0u) << "the first call after SEC_I_RENEGOTIATE must get an empty token";
    EXPECT_EQ(replay.states, std::vector<schan_state>(replay.states.size(), SCHAN_STATE_RENEGOTIATING));
    EXPECT_TRUE(server.wait_for_output("answered CLIENT-FINISHED with SERVER-FINISHED")) << server.output();
}

TEST_F(InjectedSequence, WriteDuringRenegotiationIsSentOnceAfterIt)
{
    // A record queued before the HelloRequest arrived stays ahead of the
    // ClientHello, and data written while the renegotiation runs is taken
    // only after it completed (schan_encrypt returns SCHAN_NEED_INPUT and
    // takes nothing meanwhile). A record sent twice would fail the server's
    // record MAC check, and the echo shows each byte once and in order.
    Peer server = Peer::start(records_peer(renegotiation_server_arguments()));
    auto client = schan::test::connect_client(server.port());
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
    RenegotiationReplay replay(sspi, client->session());
    ASSERT_EQ(client->write("request\n"), SCHAN_OK) << client->error();
    schan_session* session = client->session();

    // Queue a record and leave it in the output.
    const std::string queued = "queued before\n";
    std::size_t consumed = 0;
    ASSERT_EQ(schan_encrypt(session, reinterpret_cast<const std::uint8_t*>(queued.data()), queued.size(), &consumed),
              SCHAN_HAVE_OUTPUT);
    ASSERT_EQ(consumed, queued.size());

    // Feed the server's "before" and HelloRequest without sending anything.
    std::string received;
    std::vector<std::uint8_t> buffer(4096);
    schan_status status = SCHAN_OK;
    for (int round = 0; round < 100 && schan_get_state(session) == SCHAN_STATE_OPEN; ++round) {
        std::size_t written = 0;
        status = schan_decrypt(session, buffer.data(), buffer.size(), &written);
        received.append(reinterpret_cast<const char*>(buffer.data()), written);
        if (status == SCHAN_HAVE_OUTPUT)
            status = SCHAN_NEED_INPUT;  // the queued record; taken below
        if (status != SCHAN_OK && status != SCHAN_NEED_INPUT)
            break;
        if (status == SCHAN_NEED_INPUT) {
            std::vector<std::uint8_t> chunk(65536);
            const std::size_t length = client->socket().receive(chunk.data(), chunk.size());
            ASSERT_GT(length, 0u) << server.output();
            std::size_t fed = 0;
            ASSERT_EQ(schan_feed(session, chunk.data(), length, &fed), SCHAN_OK);
            ASSERT_EQ(fed, length);
        }
    }
    ASSERT_EQ(schan_get_state(session), SCHAN_STATE_RENEGOTIATING) << client->error();

    // The next schan_decrypt call starts the exchange and queues the ClientHello.
    std::size_t written = 0;
    status = schan_decrypt(session, buffer.data(), buffer.size(), &written);
    received.append(reinterpret_cast<const char*>(buffer.data()), written);
    EXPECT_EQ(status, SCHAN_HAVE_OUTPUT) << client->error();
    EXPECT_EQ(received, "before");

    const std::string during = "written during renegotiation\n";
    consumed = 1;
    const schan_status refused =
        schan_encrypt(session, reinterpret_cast<const std::uint8_t*>(during.data()), during.size(), &consumed);
    EXPECT_TRUE(refused == SCHAN_NEED_INPUT || refused == SCHAN_HAVE_OUTPUT) << refused;
    EXPECT_EQ(consumed, 0u);

    // The output contains the queued record, then the ClientHello, once each.
    const std::vector<std::byte> output = take_all_output(session);
    EXPECT_EQ(count_records(output), 2u);
    ASSERT_EQ(replay.sent, std::vector<std::string>{"CLIENT-HELLO"});
    client->socket().send_all(reinterpret_cast<const std::uint8_t*>(output.data()), output.size());

    // TlsConnection::write finishes the exchange before it encrypts.
    ASSERT_EQ(client->write(during), SCHAN_OK) << client->error();
    EXPECT_EQ(replay.completed, 1);
    const std::string echo = client->read(queued.size() + during.size(), status);
    EXPECT_EQ(echo, queued + during) << client->error() << "\n" << server.output();
    ASSERT_EQ(client->shutdown(), SCHAN_OK) << client->error();
    EXPECT_EQ(client->read_to_end(status), "");
    EXPECT_EQ(status, SCHAN_CLOSED) << client->error();
    EXPECT_TRUE(server.wait_for_output("echoed " + std::to_string(during.size()) + " bytes")) << server.output();
    EXPECT_EQ(server.output().find("connection failed"), std::string::npos) << server.output();
}

TEST_F(InjectedSequence, KeyUpdateResponseFollowsQueuedRecord)
{
    // A TLS 1.3 KeyUpdate that requests an update: InitializeSecurityContext
    // returns SEC_E_OK with the client's own KeyUpdate as the token
    // (Windows 11 and Server 2022 and later). A record the caller encrypted
    // before must stay ahead of that token, because the token's record uses
    // the next sequence number. The token here is a real record named
    // "KEY-UPDATE-RESPONSE" that the server echoes.
    Peer server = Peer::start(records_peer({"--record", "before", "--record", "KEY-UPDATE", "--record", "after"}));
    auto client = schan::test::connect_client(server.port());
    ASSERT_EQ(client->handshake(), SCHAN_OK) << client->error() << "\n" << server.output();
    schan_session* session = client->session();

    bool update_requested = false;
    int responses = 0;
    sspi.decrypt_message = [&](PCtxtHandle context, PSecBufferDesc message, ULONG sequence_number, ULONG* quality) {
        const SECURITY_STATUS status = sspi.real().DecryptMessage(context, message, sequence_number, quality);
        const SecBuffer* data = schan::test::find_buffer(*message, SECBUFFER_DATA);
        if (status != SEC_E_OK || data == nullptr || as_text(buffer_bytes(*data)) != "KEY-UPDATE")
            return status;
        update_requested = true;
        return SEC_I_RENEGOTIATE;
    };
    sspi.initialize_context = [&](PCredHandle credentials, PCtxtHandle context, SEC_WCHAR* target, ULONG request,
                                  ULONG reserved1, ULONG representation, PSecBufferDesc input, ULONG reserved2,
                                  PCtxtHandle new_context, PSecBufferDesc output, ULONG* attributes,
                                  PTimeStamp expiry) {
        if (!update_requested)
            return real_initialize(credentials, context, target, request, reserved1, representation, input,
                                   reserved2, new_context, output, attributes, expiry);
        update_requested = false;
        ++responses;
        report_extra(input, 0);
        const std::vector<std::byte> record = encrypt_record(sspi.real(), context, "KEY-UPDATE-RESPONSE");
        output->pBuffers[0].cbBuffer = static_cast<unsigned long>(record.size());
        output->pBuffers[0].pvBuffer = sspi.allocate_token(record);
        *attributes = request;
        return SEC_E_OK;
    };

    ASSERT_EQ(client->write("request\n"), SCHAN_OK) << client->error();
    const std::string queued = "queued before\n";
    std::size_t consumed = 0;
    ASSERT_EQ(schan_encrypt(session, reinterpret_cast<const std::uint8_t*>(queued.data()), queued.size(), &consumed),
              SCHAN_HAVE_OUTPUT);

    // Read "before" and "after" without sending the queued record.
    std::string received;
    std::vector<std::uint8_t> buffer(4096);
    for (int round = 0; round < 100 && received.size() < 11; ++round) {
        std::size_t written = 0;
        const schan_status status = schan_decrypt(session, buffer.data(), buffer.size(), &written);
        received.append(reinterpret_cast<const char*>(buffer.data()), written);
        if (status == SCHAN_OK)
            continue;
        ASSERT_TRUE(status == SCHAN_NEED_INPUT || status == SCHAN_HAVE_OUTPUT) << status << ": " << client->error();
        std::vector<std::uint8_t> chunk(65536);
        const std::size_t length = client->socket().receive(chunk.data(), chunk.size());
        ASSERT_GT(length, 0u) << server.output();
        std::size_t fed = 0;
        ASSERT_EQ(schan_feed(session, chunk.data(), length, &fed), SCHAN_OK);
    }
    EXPECT_EQ(received, "beforeafter");
    EXPECT_EQ(responses, 1);
    EXPECT_EQ(schan_get_state(session), SCHAN_STATE_OPEN);

    const std::vector<std::byte> output = take_all_output(session);
    EXPECT_EQ(count_records(output), 2u);
    client->socket().send_all(reinterpret_cast<const std::uint8_t*>(output.data()), output.size());
    const std::string later = "written after the update\n";
    ASSERT_EQ(client->write(later), SCHAN_OK) << client->error();

    const std::string expected = queued + "KEY-UPDATE-RESPONSE" + later;
    schan_status status = SCHAN_OK;
    EXPECT_EQ(client->read(expected.size(), status), expected) << client->error() << "\n" << server.output();
    EXPECT_EQ(server.output().find("connection failed"), std::string::npos) << server.output();
}
