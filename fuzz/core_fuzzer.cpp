// The core's own parsing and buffering, without a TLS provider. The first
// input byte selects the part:
//   0  record framing over the bounded input queue, fed in arbitrary pieces
//      and drained record by record as the session does. A plain string
//      models the queue, and a second walk over the headers checks framing.
//   1  the ServerHello scanner, over the complete records of the input.
//   2  the PEM certificate parser.
//   3  the SChannel backend's CertificateRequest scanner (portable code).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include <gsl/gsl>

#include "backend/schannel/certificate_request.h"
#include "core/byte_queue.h"
#include "core/error.h"
#include "core/pem.h"
#include "core/record.h"
#include "core/server_hello.h"
#include "core/session.h"

namespace {

[[noreturn]] void report(const char* property)
{
    std::fprintf(stderr, "core invariant broken: %s\n", property);
    std::abort();
}

// Checks that `complete` is the length of the longest prefix of whole
// records, by walking the headers again one by one.
void check_complete_length(gsl::span<const std::byte> queued, std::size_t complete)
{
    if (complete > queued.size())
        report("complete_records_length exceeds the queued bytes");

    std::size_t offset = 0;
    while (offset < complete) {
        const auto header = schan::parse_record_header(queued.subspan(offset));
        if (!header)
            report("a record inside the complete prefix has no header");
        offset += schan::kRecordHeaderSize + header->length;
    }
    if (offset != complete)
        report("the complete prefix does not end at a record boundary");

    const auto next = schan::parse_record_header(queued.subspan(complete));
    if (next && queued.size() - complete >= schan::kRecordHeaderSize + next->length)
        report("a whole record follows the complete prefix");
}

// Feeds the input into a queue bounded like the session's input queue, in
// pieces chosen by control bytes, and consumes whole records after each piece.
void fuzz_record_queue(gsl::span<const std::byte> input)
{
    schan::ByteQueue queue(schan::kInputCapacity);
    std::string model;
    std::size_t offset = 0;
    while (offset < input.size()) {
        const auto control = std::to_integer<unsigned>(input[offset++]);
        const std::size_t wanted = control < 128 ? control : (control - 127) * 331;
        const std::size_t piece = std::min({wanted, input.size() - offset, schan::kInputCapacity - queue.size()});
        const auto bytes = input.subspan(offset, piece);
        offset += piece;

        if ((control & 1) != 0) {
            queue.append(bytes);
        } else {
            auto target = queue.prepare(piece + 7);
            std::memcpy(target.data(), bytes.data(), piece);
            queue.commit(piece);
        }
        model.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        if (queue.size() != model.size() || std::memcmp(queue.data().data(), model.data(), model.size()) != 0)
            report("the queue's bytes differ from the bytes appended");

        std::size_t complete = 0;
        try {
            complete = schan::complete_records_length(queue.data(), (control & 2) != 0 ? 1 : SIZE_MAX);
        } catch (const schan::Error& error) {
            if (error.status() != SCHAN_E_PROTOCOL)
                report("record framing failed with a status other than SCHAN_E_PROTOCOL");
            return;  // the session fails here
        }
        if ((control & 2) == 0)
            check_complete_length(queue.data(), complete);

        queue.consume(complete);
        model.erase(0, complete);
        if (queue.size() > schan::kInputCapacity)
            report("the queue grew past the input capacity");
        if (piece == 0 && complete == 0)
            return;  // the queue is full of an incomplete record, as a stalled session's would be
    }
}

void fuzz_server_hello(gsl::span<const std::byte> input)
{
    try {
        const std::size_t complete = schan::complete_records_length(input);
        schan::ServerHelloScanner scanner;
        scanner.scan(input.first(complete / 2));
        scanner.scan(input.first(complete).subspan(complete / 2));
        if (scanner.result())
            (void)schan::cipher_suite_name(scanner.result()->cipher_suite);
    } catch (const schan::Error&) {
    }
}

void fuzz_pem(gsl::span<const std::byte> input)
{
    try {
        const std::string_view pem(reinterpret_cast<const char*>(input.data()), input.size());
        for (const auto& der : schan::parse_pem_certificates(pem)) {
            if (der.empty())
                report("the PEM parser returned an empty certificate");
        }
    } catch (const schan::Error& error) {
        if (error.status() != SCHAN_E_BAD_FORMAT)
            report("the PEM parser failed with a status other than SCHAN_E_BAD_FORMAT");
    }
}

void fuzz_certificate_request(gsl::span<const std::byte> input)
{
    try {
        const std::size_t complete = schan::complete_records_length(input);
        schan::schannel::CertificateRequestScanner scanner;
        std::size_t offset = 0;
        while (offset < complete) {
            const auto header = schan::parse_record_header(input.subspan(offset));
            const std::size_t length = schan::kRecordHeaderSize + header->length;
            scanner.scan(input.subspan(offset, length));
            offset += length;
        }
        (void)scanner.requested();
    } catch (const schan::Error&) {
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    const auto input = gsl::as_bytes(gsl::span<const std::uint8_t>(data + 1, size - 1));
    switch (data[0] % 4) {
    case 0: fuzz_record_queue(input); break;
    case 1: fuzz_server_hello(input); break;
    case 2: fuzz_pem(input); break;
    default: fuzz_certificate_request(input); break;
    }
    return 0;
}
