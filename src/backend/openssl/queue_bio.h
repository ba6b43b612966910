// A BIO that joins an SSL object to the core's buffers without copies of its
// own: OpenSSL reads records straight from the input the core lends for one
// backend call, and writes records straight into the core's output queue.
#pragma once

#include <cstddef>

#include <gsl/gsl>

#include "backend/openssl/openssl_handles.h"
#include "core/byte_queue.h"

namespace schan::openssl {

// The buffers that the BIO reads from and writes to. Both are set only while
// a backend call runs (see LentBuffers), so the BIO never reaches a buffer
// that the core may have moved.
struct QueueBioBuffers {
    gsl::span<const std::byte> input;  // records not yet read by OpenSSL
    ByteQueue* output = nullptr;
};

// Creates a BIO over `buffers`, which must outlive it. Empty input makes
// OpenSSL report SSL_ERROR_WANT_READ instead of the end of the stream,
// because the core, not OpenSSL, decides when the transport ended.
BioPtr make_queue_bio(QueueBioBuffers& buffers);

// Lends input and output to the BIO for the lifetime of the scope.
class LentBuffers {
public:
    LentBuffers(QueueBioBuffers& buffers, gsl::span<const std::byte> input, ByteQueue& output) noexcept
        : buffers_(buffers)
    {
        buffers_.input = input;
        buffers_.output = &output;
    }
    ~LentBuffers()
    {
        buffers_.input = {};
        buffers_.output = nullptr;
    }
    LentBuffers(const LentBuffers&) = delete;
    LentBuffers& operator=(const LentBuffers&) = delete;

    // Input bytes that OpenSSL has read so far.
    [[nodiscard]] std::size_t consumed(std::size_t lent) const noexcept { return lent - buffers_.input.size(); }

private:
    QueueBioBuffers& buffers_;
};

} // namespace schan::openssl
