#include "backend/schannel/stream_records.h"

#include <schannel.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>

#include "backend/schannel/sspi_error.h"
#include "backend/schannel/sspi_table.h"
#include "core/error.h"
#include "core/record.h"

namespace schan::schannel {

namespace {

// Moves the header, data and trailer that EncryptMessage wrote next to each
// other and returns the record's length. SChannel may report a shorter
// trailer than StreamSizes promised (block cipher padding), which would leave
// a gap before the next record.
std::size_t pack_record(gsl::span<std::byte> space, const SecBuffer* parts, std::size_t count)
{
    std::size_t length = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const auto* begin = static_cast<const std::byte*>(parts[i].pvBuffer);
        const std::size_t size = parts[i].cbBuffer;
        if (size == 0)
            continue;
        if (begin < space.data() || begin + size > space.data() + space.size() ||
            begin < space.data() + length)
            fail(SCHAN_E_INTERNAL, "EncryptMessage returned a buffer outside the record it was given");
        std::memmove(space.data() + length, begin, size);
        length += size;
    }
    return length;
}

// Returns the schan status for a failed DecryptMessage. Wine 8 returns
// SEC_E_INTERNAL_ERROR for every GnuTLS record error, a failed MAC check
// included; Windows returns SEC_E_DECRYPT_FAILURE or SEC_E_MESSAGE_ALTERED.
schan_status decrypt_failure_status(SECURITY_STATUS status) noexcept
{
    const schan_status mapped = map_sspi_status(status);
    if (status == SEC_E_INTERNAL_ERROR || mapped == SCHAN_E_HANDSHAKE_FAILED)
        return SCHAN_E_PROTOCOL;
    return mapped;
}

} // namespace

std::string protocol_label(std::uint16_t version)
{
    switch (version) {
    case 0x0300: return "SSL 3.0";
    case 0x0301: return "TLS 1.0";
    case 0x0302: return "TLS 1.1";
    case 0x0303: return "TLS 1.2";
    case 0x0304: return "TLS 1.3";
    default: return hex(version, 4);
    }
}

unsigned long alert_for_certificate_error(schan_status status) noexcept
{
    switch (status) {
    case SCHAN_E_CERT_UNTRUSTED: return TLS1_ALERT_UNKNOWN_CA;
    case SCHAN_E_CERT_EXPIRED: return TLS1_ALERT_CERTIFICATE_EXPIRED;
    case SCHAN_E_CERT_REVOKED: return TLS1_ALERT_CERTIFICATE_REVOKED;
    case SCHAN_E_CERT_NAME_MISMATCH:
    case SCHAN_E_CERT_INVALID: return TLS1_ALERT_BAD_CERTIFICATE;
    default: return TLS1_ALERT_CERTIFICATE_UNKNOWN;
    }
}

unsigned long buffer_size(std::size_t size)
{
    Expects(size <= ULONG_MAX);
    return static_cast<unsigned long>(size);
}

const SecBuffer* find_buffer(const SecBufferDesc& desc, unsigned long type)
{
    for (unsigned long i = 0; i < desc.cBuffers; ++i)
        if (desc.pBuffers[i].BufferType == type)
            return &desc.pBuffers[i];
    return nullptr;
}

std::size_t extra_size(const SecBufferDesc& desc, std::size_t input_size)
{
    const SecBuffer* extra = find_buffer(desc, SECBUFFER_EXTRA);
    return extra == nullptr ? 0 : std::min<std::size_t>(extra->cbBuffer, input_size);
}

void append_buffer(ByteQueue& output, const SecBuffer& buffer)
{
    if (buffer.pvBuffer != nullptr && buffer.cbBuffer > 0)
        output.append(gsl::span<const std::byte>(static_cast<const std::byte*>(buffer.pvBuffer), buffer.cbBuffer));
}

void encrypt_record(CtxtHandle* context, const SecPkgContext_StreamSizes& sizes,
                    gsl::span<const std::byte> plaintext, ByteQueue& output)
{
    Expects(plaintext.size() <= sizes.cbMaximumMessage);

    const std::size_t header = sizes.cbHeader;
    const std::size_t trailer = sizes.cbTrailer;
    const auto record = output.prepare(header + plaintext.size() + trailer);
    std::memcpy(record.data() + header, plaintext.data(), plaintext.size());

    // EncryptMessage works in place: the record is written straight into the
    // output queue, so no record needs a buffer of its own.
    SecBuffer buffers[4] = {
        {buffer_size(header), SECBUFFER_STREAM_HEADER, record.data()},
        {buffer_size(plaintext.size()), SECBUFFER_DATA, record.data() + header},
        {buffer_size(trailer), SECBUFFER_STREAM_TRAILER, record.data() + header + plaintext.size()},
        {0, SECBUFFER_EMPTY, nullptr},
    };
    SecBufferDesc message{SECBUFFER_VERSION, 4, buffers};
    const SECURITY_STATUS status = sspi().EncryptMessage(context, 0, &message, 0);
    if (status != SEC_E_OK) {
        output.commit(0);
        const schan_status mapped = map_sspi_status(status);
        fail_sspi(mapped == SCHAN_E_HANDSHAKE_FAILED ? SCHAN_E_INTERNAL : mapped, "EncryptMessage", status);
    }
    output.commit(pack_record(record, buffers, 3));
}

DecryptProgress decrypt_records(CtxtHandle* context, gsl::span<std::byte> input, ByteQueue& plaintext,
                                const char* peer)
{
    std::size_t offset = 0;
    while (offset < input.size()) {
        const auto records = input.subspan(offset);
        // Read before DecryptMessage decrypts the record in place.
        const auto content_type = static_cast<ContentType>(std::to_integer<std::uint8_t>(records[0]));

        // Wine 8 requires exactly one DATA buffer and at least three EMPTY ones.
        SecBuffer buffers[4] = {
            {buffer_size(records.size()), SECBUFFER_DATA, records.data()},
            {0, SECBUFFER_EMPTY, nullptr},
            {0, SECBUFFER_EMPTY, nullptr},
            {0, SECBUFFER_EMPTY, nullptr},
        };
        SecBufferDesc message{SECBUFFER_VERSION, 4, buffers};
        const SECURITY_STATUS status = sspi().DecryptMessage(context, &message, 0, nullptr);
        const std::size_t used = records.size() - extra_size(message, records.size());

        switch (status) {
        case SEC_E_OK: {
            const SecBuffer* data = find_buffer(message, SECBUFFER_DATA);
            const bool empty = data == nullptr || data->cbBuffer == 0;
            // Wine 8 reports the peer's close_notify as an empty result with
            // SEC_E_OK. An empty application_data record is not close_notify.
            if (empty && content_type == ContentType::alert)
                return {offset + used, RecordEvent::close_notify};
            if (!empty)
                append_buffer(plaintext, *data);
            if (used == 0)
                fail(SCHAN_E_INTERNAL, "DecryptMessage returned SEC_E_OK but used no input");
            offset += used;
            break;
        }

        case SEC_E_INCOMPLETE_MESSAGE:
            // The core passes complete records only, so SChannel wants the
            // next one. A SECBUFFER_MISSING count, if any, is not used,
            // because Windows may leave it 0.
            return {offset, RecordEvent::none, true};

        case SEC_I_CONTEXT_EXPIRED:
            // Windows reports the peer's close_notify this way.
            return {offset + used, RecordEvent::close_notify};

        case SEC_I_RENEGOTIATE:
            // A TLS 1.3 NewSessionTicket or KeyUpdate, or a TLS 1.2
            // HelloRequest or ClientHello. The bytes from the EXTRA buffer on
            // go to the next handshake call. The DATA buffer is not
            // application data here.
            return {offset + used, RecordEvent::renegotiate};

        default:
            if (content_type == ContentType::alert)
                fail(SCHAN_E_ALERT_RECEIVED, std::string("the ") + peer +
                                                 " sent an alert, and DecryptMessage failed: " +
                                                 describe_status(status),
                     static_cast<std::uint32_t>(status));
            fail_sspi(decrypt_failure_status(status), "DecryptMessage", status);
        }
    }
    return {offset, RecordEvent::none};
}

void apply_control_token(CtxtHandle* context, void* token, unsigned long size, const char* step)
{
    SecBuffer buffer{size, SECBUFFER_TOKEN, token};
    SecBufferDesc desc{SECBUFFER_VERSION, 1, &buffer};
    const SECURITY_STATUS status = sspi().ApplyControlToken(context, &desc);
    if (status != SEC_E_OK)
        fail_sspi(step, status);
}

} // namespace schan::schannel
