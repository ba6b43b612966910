// Record protection shared by the SChannel client and server: EncryptMessage,
// DecryptMessage and ApplyControlToken on an established context, and the
// SecBuffer helpers both roles use. Every SSPI call goes through sspi().
#pragma once

#include <windows.h>
#include <sspi.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include <gsl/gsl>

#include "core/backend.h"
#include "core/byte_queue.h"
#include "schan/schan.h"

namespace schan::schannel {

// Converts a size to a SecBuffer's 32-bit size. The core passes at most
// two records, so a larger size is a bug.
unsigned long buffer_size(std::size_t size);

// Returns the first buffer of `type` in `desc`, or nullptr.
const SecBuffer* find_buffer(const SecBufferDesc& desc, unsigned long type);

// Returns how many bytes at the end of `input_size` bytes an EXTRA buffer
// reports as unused (0 without one).
std::size_t extra_size(const SecBufferDesc& desc, std::size_t input_size);

// Returns "TLS 1.2" for 0x0303, and the hex value for an unknown version.
std::string protocol_label(std::uint16_t version);

// Returns the TLS alert that names why a peer's certificate was rejected
// with `status` (a status from certificate_verification.h).
unsigned long alert_for_certificate_error(schan_status status) noexcept;

// Appends the bytes of `buffer`, if any, to `output`.
void append_buffer(ByteQueue& output, const SecBuffer& buffer);

// Encrypts `plaintext` (at most sizes.cbMaximumMessage bytes) into one record
// appended to `output`, in place in the queue.
void encrypt_record(CtxtHandle* context, const SecPkgContext_StreamSizes& sizes,
                    gsl::span<const std::byte> plaintext, ByteQueue& output);

// Decrypts complete records from `input` in place into `plaintext` until the
// input ends or an event stops it. One event is the peer's close_notify
// (SEC_E_OK with no data for an alert record under Wine 8,
// SEC_I_CONTEXT_EXPIRED on Windows). The other is a handshake message
// (SEC_I_RENEGOTIATE), whose EXTRA bytes stay unconsumed for the next
// AcceptSecurityContext or InitializeSecurityContext call.
// `peer` names the other side in messages: "server" or "client".
DecryptProgress decrypt_records(CtxtHandle* context, gsl::span<std::byte> input, ByteQueue& plaintext,
                                const char* peer);

// Applies a SCHANNEL_SHUTDOWN or SCHANNEL_ALERT token; throws with `step`
// in the message when SChannel refuses it.
void apply_control_token(CtxtHandle* context, void* token, unsigned long size, const char* step);

} // namespace schan::schannel
