// A scripted model of SChannel's server side for tests, because Wine 8 cannot
// run AcceptSecurityContext. While an AcceptModel exists, every schan session
// calls a function table in which AcceptSecurityContext replays a script of
// statuses and buffers, the sequences that Microsoft documents for Windows.
// EncryptMessage, DecryptMessage, QueryContextAttributes, ApplyControlToken,
// FreeContextBuffer and DeleteSecurityContext act on model records.
// AcquireCredentialsHandle is recorded and goes to the real provider, like
// every other function.
//
// A model record is a TLS record header (type, 0x03 0x03, length) and a body.
// A protected record has type 23 and the body content, inner type, 16 tag
// bytes, like a TLS 1.3 TLSInnerPlaintext with a fake AEAD tag.
#pragma once

#include <windows.h>
#include <sspi.h>
#include <schannel.h>
#include <wincrypt.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <set>
#include <string>
#include <vector>

namespace schan::test {

using Bytes = std::vector<std::byte>;

constexpr std::uint8_t kAlertType = 21;
constexpr std::uint8_t kHandshakeType = 22;
constexpr std::uint8_t kApplicationDataType = 23;

// A record with `type` and `body` in the clear, such as a ClientHello.
Bytes plain_record(std::uint8_t type, const Bytes& body);

// A protected record whose content is `content` of `inner_type`.
Bytes protected_record(std::uint8_t inner_type, const std::string& content);

// Bytes from a string, and the concatenation of records.
Bytes bytes_of(const std::string& text);
Bytes concat(const std::vector<Bytes>& parts);

// The protected records in `stream`, decoded: the inner type and content of
// each. Throws std::runtime_error for bytes that are not whole model records.
struct ModelRecord {
    std::uint8_t type = 0;  // outer type
    std::uint8_t inner_type = 0;
    std::string content;
};
std::vector<ModelRecord> parse_records(const Bytes& stream);

class AcceptModel {
public:
    // Step::extra values: an EXTRA buffer from the end of the first record
    // of the input on, or one that covers the whole input.
    static constexpr std::size_t kAfterFirstRecord = static_cast<std::size_t>(-1);
    static constexpr std::size_t kAllInput = static_cast<std::size_t>(-2);
    // Step::expect_input value for no check of the input size.
    static constexpr std::size_t kAnySize = static_cast<std::size_t>(-3);

    // One scripted AcceptSecurityContext result.
    struct Step {
        SECURITY_STATUS status = SEC_I_CONTINUE_NEEDED;
        Bytes token;                  // SECBUFFER_TOKEN output
        Bytes alert;                  // SECBUFFER_ALERT output
        std::size_t extra = 0;        // SECBUFFER_EXTRA count, kAfterFirstRecord or kAllInput
        long missing = -1;            // SECBUFFER_MISSING count, -1 for none
        std::size_t expect_input = kAnySize;  // the input size the call must get
    };

    // What one AcquireCredentialsHandleW call received; the call itself goes
    // to the real provider.
    struct Acquire {
        ULONG use = 0;                 // SECPKG_CRED_INBOUND or SECPKG_CRED_OUTBOUND
        DWORD version = 0;             // SCH_CREDENTIALS_VERSION or SCHANNEL_CRED_VERSION
        DWORD flags = 0;               // dwFlags
        DWORD enabled_protocols = 0;   // SCHANNEL_CRED's grbitEnabledProtocols
        DWORD disabled_protocols = 0;  // SCH_CREDENTIALS' first TLS_PARAMETERS
        std::vector<PCCERT_CONTEXT> certificates;  // paCred
        SECURITY_STATUS status = SEC_E_OK;
    };

    // What one AcceptSecurityContext call received.
    struct Call {
        bool null_context = false;
        bool null_input = false;
        Bytes input;                  // the SECBUFFER_TOKEN input
        std::vector<std::string> alpn_offer;  // from SECBUFFER_APPLICATION_PROTOCOLS
        ULONG request = 0;
    };

    AcceptModel();
    ~AcceptModel();
    AcceptModel(const AcceptModel&) = delete;
    AcceptModel& operator=(const AcceptModel&) = delete;

    void script(Step step) { steps_.push_back(std::move(step)); }

    // Negotiated values that QueryContextAttributes reports.
    DWORD protocol = SP_PROT_TLS1_2_SERVER;
    DWORD cipher_suite = 0xC02F;  // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    std::string alpn;             // the selected protocol, "" for none
    PCCERT_CONTEXT client_certificate = nullptr;  // not owned; nullptr: the client sent none

    // How DecryptMessage reports a protected handshake message with
    // SEC_I_RENEGOTIATE. With true, the EXTRA buffer starts at the record
    // itself, as Windows 11 does for TLS 1.3 tickets. With false, the record
    // is consumed and the EXTRA buffer holds only what follows.
    bool renegotiate_returns_record = true;

    // What happened.
    std::vector<Acquire> acquired;
    std::vector<Call> calls;
    std::vector<std::string> decrypted;        // application data contents, in order
    std::vector<std::string> encrypted;        // plaintexts given to EncryptMessage
    std::vector<unsigned long> control_tokens; // SCHANNEL_SHUTDOWN, or 0x100 + alert description
    std::vector<std::string> unexpected;       // calls the script did not expect
    int deleted_contexts = 0;

    // Buffers handed out and not yet freed by FreeContextBuffer.
    [[nodiscard]] std::size_t outstanding_buffers() const { return buffers_.size(); }
    [[nodiscard]] std::size_t remaining_steps() const { return steps_.size(); }

private:
    static SECURITY_STATUS SEC_ENTRY acquire_entry(SEC_WCHAR*, SEC_WCHAR*, ULONG, void*, void*, SEC_GET_KEY_FN, void*,
                                                   PCredHandle, PTimeStamp);
    static SECURITY_STATUS SEC_ENTRY accept_entry(PCredHandle, PCtxtHandle, PSecBufferDesc, ULONG, ULONG, PCtxtHandle,
                                                  PSecBufferDesc, ULONG*, PTimeStamp);
    static SECURITY_STATUS SEC_ENTRY query_entry(PCtxtHandle, ULONG, void*);
    static SECURITY_STATUS SEC_ENTRY encrypt_entry(PCtxtHandle, ULONG, PSecBufferDesc, ULONG);
    static SECURITY_STATUS SEC_ENTRY decrypt_entry(PCtxtHandle, PSecBufferDesc, ULONG, ULONG*);
    static SECURITY_STATUS SEC_ENTRY control_entry(PCtxtHandle, PSecBufferDesc);
    static SECURITY_STATUS SEC_ENTRY free_entry(void*);
    static SECURITY_STATUS SEC_ENTRY delete_entry(PCtxtHandle);

    SECURITY_STATUS accept(PCtxtHandle context, PSecBufferDesc input, ULONG request, PCtxtHandle new_context,
                           PSecBufferDesc output);
    SECURITY_STATUS control_output(PSecBufferDesc output);
    SECURITY_STATUS query(ULONG attribute, void* buffer);
    SECURITY_STATUS encrypt(PSecBufferDesc message);
    SECURITY_STATUS decrypt(PSecBufferDesc message);
    void* hand_out(const Bytes& bytes);

    SecurityFunctionTableW table_;
    std::deque<Step> steps_;
    std::set<void*> buffers_;
    // The control token whose record the next call without input returns.
    unsigned long pending_control_ = 0;
    bool context_created_ = false;
};

} // namespace schan::test
