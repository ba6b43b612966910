#include "schannel/accept_model.h"

#include <schannel.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "backend/schannel/sspi_table.h"

namespace schan::test {

namespace {

AcceptModel* g_model = nullptr;

constexpr std::size_t kHeaderSize = 5;
constexpr std::size_t kTagSize = 16;
constexpr std::byte kTagByte{0xA5};
constexpr ULONG_PTR kContextValue = 0x5C;
constexpr unsigned long kAlertControl = 0x100;

AcceptModel& model()
{
    if (g_model == nullptr)
        throw std::logic_error("an accept model entry ran without an AcceptModel");
    return *g_model;
}

std::size_t record_size(const std::byte* data, std::size_t size)
{
    if (size < kHeaderSize)
        return 0;
    const std::size_t length = (std::to_integer<std::size_t>(data[3]) << 8) | std::to_integer<std::size_t>(data[4]);
    return size < kHeaderSize + length ? 0 : kHeaderSize + length;
}

SecBuffer* buffer_of(PSecBufferDesc desc, unsigned long type)
{
    if (desc == nullptr)
        return nullptr;
    for (unsigned long i = 0; i < desc->cBuffers; ++i)
        if (desc->pBuffers[i].BufferType == type)
            return &desc->pBuffers[i];
    return nullptr;
}

// Turns the first EMPTY buffer of `desc` into one of `type`.
void report(PSecBufferDesc desc, unsigned long type, unsigned long size, void* data)
{
    if (SecBuffer* empty = buffer_of(desc, SECBUFFER_EMPTY))
        *empty = SecBuffer{size, type, data};
}

std::vector<std::string> decode_alpn(const SecBuffer& buffer)
{
    // SEC_APPLICATION_PROTOCOLS: ProtocolListsSize, then one list with its
    // extension, size and RFC 7301 names.
    std::vector<std::string> names;
    const auto* protocols = static_cast<const SEC_APPLICATION_PROTOCOLS*>(buffer.pvBuffer);
    const SEC_APPLICATION_PROTOCOL_LIST& list = protocols->ProtocolLists[0];
    const auto* wire = reinterpret_cast<const unsigned char*>(list.ProtocolList);
    for (std::size_t i = 0; i < list.ProtocolListSize;) {
        const std::size_t length = wire[i];
        names.emplace_back(reinterpret_cast<const char*>(wire + i + 1), length);
        i += 1 + length;
    }
    return names;
}

} // namespace

Bytes plain_record(std::uint8_t type, const Bytes& body)
{
    Bytes record{std::byte{type}, std::byte{3}, std::byte{3}, std::byte(body.size() >> 8),
                 std::byte(body.size() & 0xFF)};
    record.insert(record.end(), body.begin(), body.end());
    return record;
}

Bytes protected_record(std::uint8_t inner_type, const std::string& content)
{
    Bytes body = bytes_of(content);
    body.push_back(std::byte{inner_type});
    body.insert(body.end(), kTagSize, kTagByte);
    return plain_record(kApplicationDataType, body);
}

Bytes bytes_of(const std::string& text)
{
    Bytes bytes(text.size());
    std::memcpy(bytes.data(), text.data(), text.size());
    return bytes;
}

Bytes concat(const std::vector<Bytes>& parts)
{
    Bytes all;
    for (const Bytes& part : parts)
        all.insert(all.end(), part.begin(), part.end());
    return all;
}

std::vector<ModelRecord> parse_records(const Bytes& stream)
{
    std::vector<ModelRecord> records;
    std::size_t offset = 0;
    while (offset < stream.size()) {
        const std::size_t size = record_size(stream.data() + offset, stream.size() - offset);
        if (size == 0)
            throw std::runtime_error("the output ends inside a record");
        ModelRecord record;
        record.type = std::to_integer<std::uint8_t>(stream[offset]);
        const std::byte* body = stream.data() + offset + kHeaderSize;
        std::size_t length = size - kHeaderSize;
        if (record.type == kApplicationDataType && length > kTagSize) {
            length -= kTagSize + 1;
            record.inner_type = std::to_integer<std::uint8_t>(body[length]);
        }
        record.content.assign(reinterpret_cast<const char*>(body), length);
        records.push_back(std::move(record));
        offset += size;
    }
    return records;
}

AcceptModel::AcceptModel() : table_(schannel::system_sspi_table())
{
    if (g_model != nullptr)
        throw std::logic_error("only one AcceptModel may exist at a time");
    table_.AcquireCredentialsHandleW = &acquire_entry;
    table_.AcceptSecurityContext = &accept_entry;
    table_.QueryContextAttributesW = &query_entry;
    table_.EncryptMessage = &encrypt_entry;
    table_.DecryptMessage = &decrypt_entry;
    table_.ApplyControlToken = &control_entry;
    table_.FreeContextBuffer = &free_entry;
    table_.DeleteSecurityContext = &delete_entry;
    g_model = this;
    schannel::set_sspi_table_for_testing(&table_);
}

AcceptModel::~AcceptModel()
{
    schannel::reset_sspi_table_for_testing();
    g_model = nullptr;
    for (void* buffer : buffers_)
        delete[] static_cast<std::byte*>(buffer);
}

void* AcceptModel::hand_out(const Bytes& bytes)
{
    auto* buffer = new std::byte[bytes.empty() ? 1 : bytes.size()];
    std::memcpy(buffer, bytes.data(), bytes.size());
    buffers_.insert(buffer);
    return buffer;
}

SECURITY_STATUS AcceptModel::accept(PCtxtHandle context, PSecBufferDesc input, ULONG request,
                                    PCtxtHandle new_context, PSecBufferDesc output)
{
    if (input == nullptr && pending_control_ != 0)
        return control_output(output);

    Call call;
    call.null_context = context == nullptr;
    call.null_input = input == nullptr;
    call.request = request;
    if (const SecBuffer* token = buffer_of(input, SECBUFFER_TOKEN)) {
        const auto* begin = static_cast<const std::byte*>(token->pvBuffer);
        call.input.assign(begin, begin + token->cbBuffer);
    }
    if (const SecBuffer* protocols = buffer_of(input, SECBUFFER_APPLICATION_PROTOCOLS))
        call.alpn_offer = decode_alpn(*protocols);
    calls.push_back(call);

    if (steps_.empty()) {
        unexpected.push_back("AcceptSecurityContext after the script ended");
        return SEC_E_INTERNAL_ERROR;
    }
    Step step = std::move(steps_.front());
    steps_.pop_front();
    if (step.expect_input != kAnySize && step.expect_input != call.input.size())
        unexpected.push_back("AcceptSecurityContext got " + std::to_string(call.input.size()) + " bytes, expected " +
                             std::to_string(step.expect_input));
    if (context != nullptr && (context->dwLower != kContextValue || !context_created_))
        unexpected.push_back("AcceptSecurityContext got a context the model did not create");

    // Windows creates the context on the first call that does not fail
    // for lack of input, and writes it to phNewContext.
    if (context == nullptr && step.status != SEC_E_INCOMPLETE_MESSAGE && new_context != nullptr) {
        new_context->dwLower = kContextValue;
        new_context->dwUpper = kContextValue;
        context_created_ = true;
    }

    if (SecBuffer* token = buffer_of(output, SECBUFFER_TOKEN); token != nullptr && !step.token.empty())
        *token = SecBuffer{static_cast<unsigned long>(step.token.size()), SECBUFFER_TOKEN, hand_out(step.token)};
    if (SecBuffer* alert = buffer_of(output, SECBUFFER_ALERT); alert != nullptr && !step.alert.empty())
        *alert = SecBuffer{static_cast<unsigned long>(step.alert.size()), SECBUFFER_ALERT, hand_out(step.alert)};

    std::size_t extra = step.extra;
    if (extra == kAfterFirstRecord)
        extra = call.input.size() - record_size(call.input.data(), call.input.size());
    else if (extra == kAllInput)
        extra = call.input.size();
    if (extra > 0 && input != nullptr) {
        auto* token = static_cast<std::byte*>(buffer_of(input, SECBUFFER_TOKEN)->pvBuffer);
        report(input, SECBUFFER_EXTRA, static_cast<unsigned long>(extra), token + call.input.size() - extra);
    }
    if (step.missing >= 0)
        report(input, SECBUFFER_MISSING, static_cast<unsigned long>(step.missing), nullptr);
    return step.status;
}

SECURITY_STATUS AcceptModel::control_output(PSecBufferDesc output)
{
    // After ApplyControlToken, the next call without input returns the
    // close_notify or alert record with SEC_E_OK.
    const unsigned long control = pending_control_;
    pending_control_ = 0;
    Bytes record;
    if (control == SCHANNEL_SHUTDOWN)
        record = protected_record(kAlertType, std::string("\x01\x00", 2));
    else
        record = plain_record(kAlertType, {std::byte{2}, std::byte(control - kAlertControl)});
    if (SecBuffer* token = buffer_of(output, SECBUFFER_TOKEN))
        *token = SecBuffer{static_cast<unsigned long>(record.size()), SECBUFFER_TOKEN, hand_out(record)};
    return SEC_E_OK;
}

SECURITY_STATUS AcceptModel::query(ULONG attribute, void* buffer)
{
    switch (attribute) {
    case SECPKG_ATTR_STREAM_SIZES: {
        auto* sizes = static_cast<SecPkgContext_StreamSizes*>(buffer);
        *sizes = SecPkgContext_StreamSizes{kHeaderSize, kTagSize + 1, 16384, 4, 16};
        return SEC_E_OK;
    }
    case SECPKG_ATTR_CONNECTION_INFO: {
        auto* info = static_cast<SecPkgContext_ConnectionInfo*>(buffer);
        *info = SecPkgContext_ConnectionInfo{};
        info->dwProtocol = protocol;
        return SEC_E_OK;
    }
    case SECPKG_ATTR_CIPHER_INFO: {
        auto* info = static_cast<SecPkgContext_CipherInfo*>(buffer);
        info->dwCipherSuite = cipher_suite;
        return SEC_E_OK;
    }
    case SECPKG_ATTR_APPLICATION_PROTOCOL: {
        auto* selected = static_cast<SecPkgContext_ApplicationProtocol*>(buffer);
        *selected = SecPkgContext_ApplicationProtocol{};
        selected->ProtoNegoExt = SecApplicationProtocolNegotiationExt_ALPN;
        selected->ProtoNegoStatus = alpn.empty() ? SecApplicationProtocolNegotiationStatus_None
                                                 : SecApplicationProtocolNegotiationStatus_Success;
        selected->ProtocolIdSize = static_cast<unsigned char>(alpn.size());
        std::memcpy(selected->ProtocolId, alpn.data(), alpn.size());
        return SEC_E_OK;
    }
    case SECPKG_ATTR_REMOTE_CERT_CONTEXT:
        // Windows fails the query when the client sent no certificate.
        if (client_certificate == nullptr)
            return SEC_E_NO_CREDENTIALS;
        *static_cast<PCCERT_CONTEXT*>(buffer) = CertDuplicateCertificateContext(client_certificate);
        return SEC_E_OK;
    default:
        return SEC_E_UNSUPPORTED_FUNCTION;
    }
}

SECURITY_STATUS AcceptModel::encrypt(PSecBufferDesc message)
{
    SecBuffer* header = buffer_of(message, SECBUFFER_STREAM_HEADER);
    SecBuffer* data = buffer_of(message, SECBUFFER_DATA);
    SecBuffer* trailer = buffer_of(message, SECBUFFER_STREAM_TRAILER);
    if (header == nullptr || data == nullptr || trailer == nullptr || header->cbBuffer != kHeaderSize ||
        trailer->cbBuffer != kTagSize + 1) {
        unexpected.push_back("EncryptMessage got buffers of the wrong layout");
        return SEC_E_INVALID_TOKEN;
    }
    encrypted.emplace_back(static_cast<const char*>(data->pvBuffer), data->cbBuffer);
    const std::size_t length = data->cbBuffer + kTagSize + 1;
    const Bytes record_header = plain_record(kApplicationDataType, Bytes(length));
    std::memcpy(header->pvBuffer, record_header.data(), kHeaderSize);
    auto* tail = static_cast<std::byte*>(trailer->pvBuffer);
    tail[0] = std::byte{kApplicationDataType};
    std::fill(tail + 1, tail + 1 + kTagSize, kTagByte);
    return SEC_E_OK;
}

SECURITY_STATUS AcceptModel::decrypt(PSecBufferDesc message)
{
    SecBuffer* data = buffer_of(message, SECBUFFER_DATA);
    if (data == nullptr)
        return SEC_E_INVALID_TOKEN;
    auto* begin = static_cast<std::byte*>(data->pvBuffer);
    const std::size_t available = data->cbBuffer;
    const std::size_t size = record_size(begin, available);
    if (size == 0)
        return SEC_E_INCOMPLETE_MESSAGE;
    if (std::to_integer<std::uint8_t>(begin[0]) != kApplicationDataType || size < kHeaderSize + kTagSize + 1)
        return SEC_E_DECRYPT_FAILURE;

    const std::size_t content = size - kHeaderSize - kTagSize - 1;
    const auto inner_type = std::to_integer<std::uint8_t>(begin[kHeaderSize + content]);
    const std::size_t rest = available - size;

    if (inner_type == kHandshakeType) {
        // The EXTRA buffer starts at the handshake record or after it.
        const std::size_t extra = renegotiate_returns_record ? available : rest;
        *data = SecBuffer{0, SECBUFFER_DATA, begin + kHeaderSize};
        if (extra > 0)
            report(message, SECBUFFER_EXTRA, static_cast<unsigned long>(extra), begin + available - extra);
        return SEC_I_RENEGOTIATE;
    }

    message->pBuffers[0] = SecBuffer{kHeaderSize, SECBUFFER_STREAM_HEADER, begin};
    message->pBuffers[1] = SecBuffer{static_cast<unsigned long>(content), SECBUFFER_DATA, begin + kHeaderSize};
    message->pBuffers[2] = SecBuffer{kTagSize + 1, SECBUFFER_STREAM_TRAILER, begin + kHeaderSize + content};
    if (rest > 0)
        message->pBuffers[3] = SecBuffer{static_cast<unsigned long>(rest), SECBUFFER_EXTRA, begin + size};

    if (inner_type == kAlertType) {
        // Windows reports the client's close_notify as SEC_I_CONTEXT_EXPIRED.
        message->pBuffers[1].cbBuffer = 0;
        return SEC_I_CONTEXT_EXPIRED;
    }
    decrypted.emplace_back(reinterpret_cast<const char*>(begin + kHeaderSize), content);
    return SEC_E_OK;
}

SECURITY_STATUS SEC_ENTRY AcceptModel::acquire_entry(SEC_WCHAR* principal, SEC_WCHAR* package, ULONG use,
                                                     void* logon_id, void* auth_data, SEC_GET_KEY_FN get_key,
                                                     void* get_key_argument, PCredHandle credentials,
                                                     PTimeStamp expiry)
{
    Acquire call;
    call.use = use;
    if (auth_data != nullptr)
        call.version = *static_cast<const DWORD*>(auth_data);
    if (call.version == SCH_CREDENTIALS_VERSION) {
        const auto* data = static_cast<const SCH_CREDENTIALS*>(auth_data);
        call.flags = data->dwFlags;
        call.certificates.assign(data->paCred, data->paCred + data->cCreds);
        if (data->cTlsParameters > 0)
            call.disabled_protocols = data->pTlsParameters[0].grbitDisabledProtocols;
    } else if (call.version == SCHANNEL_CRED_VERSION) {
        const auto* data = static_cast<const SCHANNEL_CRED*>(auth_data);
        call.flags = data->dwFlags;
        call.certificates.assign(data->paCred, data->paCred + data->cCreds);
        call.enabled_protocols = data->grbitEnabledProtocols;
    }

    call.status = schannel::system_sspi_table().AcquireCredentialsHandleW(
        principal, package, use, logon_id, auth_data, get_key, get_key_argument, credentials, expiry);
    model().acquired.push_back(call);
    return call.status;
}

SECURITY_STATUS SEC_ENTRY AcceptModel::accept_entry(PCredHandle, PCtxtHandle context, PSecBufferDesc input,
                                                    ULONG request, ULONG, PCtxtHandle new_context,
                                                    PSecBufferDesc output, ULONG* attributes, PTimeStamp)
{
    if (attributes != nullptr)
        *attributes = request;
    return model().accept(context, input, request, new_context, output);
}

SECURITY_STATUS SEC_ENTRY AcceptModel::query_entry(PCtxtHandle, ULONG attribute, void* buffer)
{
    return model().query(attribute, buffer);
}

SECURITY_STATUS SEC_ENTRY AcceptModel::encrypt_entry(PCtxtHandle, ULONG, PSecBufferDesc message, ULONG)
{
    return model().encrypt(message);
}

SECURITY_STATUS SEC_ENTRY AcceptModel::decrypt_entry(PCtxtHandle, PSecBufferDesc message, ULONG, ULONG*)
{
    return model().decrypt(message);
}

SECURITY_STATUS SEC_ENTRY AcceptModel::control_entry(PCtxtHandle, PSecBufferDesc input)
{
    AcceptModel& self = model();
    const SecBuffer* token = buffer_of(input, SECBUFFER_TOKEN);
    if (token == nullptr || token->cbBuffer < sizeof(DWORD))
        return SEC_E_INVALID_TOKEN;
    const DWORD type = *static_cast<const DWORD*>(token->pvBuffer);
    if (type == SCHANNEL_ALERT && token->cbBuffer >= sizeof(SCHANNEL_ALERT_TOKEN))
        self.pending_control_ = kAlertControl + static_cast<const SCHANNEL_ALERT_TOKEN*>(token->pvBuffer)->dwAlertNumber;
    else
        self.pending_control_ = type;
    self.control_tokens.push_back(self.pending_control_);
    return SEC_E_OK;
}

SECURITY_STATUS SEC_ENTRY AcceptModel::free_entry(void* buffer)
{
    AcceptModel& self = model();
    if (self.buffers_.erase(buffer) == 0) {
        self.unexpected.push_back("FreeContextBuffer got memory the model did not hand out");
        return SEC_E_INVALID_HANDLE;
    }
    delete[] static_cast<std::byte*>(buffer);
    return SEC_E_OK;
}

SECURITY_STATUS SEC_ENTRY AcceptModel::delete_entry(PCtxtHandle context)
{
    AcceptModel& self = model();
    if (context == nullptr || context->dwLower != kContextValue)
        self.unexpected.push_back("DeleteSecurityContext got a context the model did not create");
    ++self.deleted_contexts;
    return SEC_E_OK;
}

} // namespace schan::test
