#include "backend/openssl/queue_bio.h"

#include <algorithm>
#include <cstring>
#include <new>

#include <openssl/bio.h>

#include "backend/openssl/openssl_error.h"
#include "core/error.h"

namespace schan::openssl {

namespace {

QueueBioBuffers& buffers_of(BIO* bio)
{
    return *static_cast<QueueBioBuffers*>(BIO_get_data(bio));
}

int read_input(BIO* bio, char* destination, int capacity)
{
    BIO_clear_retry_flags(bio);
    auto& input = buffers_of(bio).input;
    if (input.empty()) {
        BIO_set_retry_read(bio);
        return -1;
    }

    const std::size_t count = std::min(input.size(), static_cast<std::size_t>(capacity));
    std::memcpy(destination, input.data(), count);
    input = input.subspan(count);
    return static_cast<int>(count);
}

int write_output(BIO* bio, const char* data, int length)
{
    BIO_clear_retry_flags(bio);
    ByteQueue* output = buffers_of(bio).output;
    // NOTE: OpenSSL writes only inside the backend's calls, which lend an
    // output queue, so this retry is a guard that no known path takes.
    if (output == nullptr) {
        BIO_set_retry_write(bio);
        return -1;
    }

    try {
        output->append(gsl::span(reinterpret_cast<const std::byte*>(data), static_cast<std::size_t>(length)));
    } catch (const std::bad_alloc&) {
        return -1;
    }
    return length;
}

long control(BIO* /*bio*/, int command, long /*number*/, void* /*pointer*/)
{
    // OpenSSL flushes after each flight and treats a failed flush as an error.
    return command == BIO_CTRL_FLUSH ? 1 : 0;
}

int create(BIO* bio)
{
    BIO_set_init(bio, 1);
    return 1;
}

const BIO_METHOD* queue_bio_method()
{
    static const BIO_METHOD* const method = [] {
        BIO_METHOD* made = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "schan queues");
        if (made == nullptr || BIO_meth_set_read(made, read_input) != 1 ||
            BIO_meth_set_write(made, write_output) != 1 || BIO_meth_set_ctrl(made, control) != 1 ||
            BIO_meth_set_create(made, create) != 1)
            return static_cast<BIO_METHOD*>(nullptr);
        return made;
    }();
    return method;
}

} // namespace

BioPtr make_queue_bio(QueueBioBuffers& buffers)
{
    const BIO_METHOD* method = queue_bio_method();
    BioPtr bio(method == nullptr ? nullptr : BIO_new(method));
    if (!bio)
        fail_with_queue(SCHAN_E_OUT_OF_MEMORY, "creating the BIO over schan's buffers (BIO_new)");
    BIO_set_data(bio.get(), &buffers);
    return bio;
}

} // namespace schan::openssl
