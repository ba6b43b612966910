#include "core/byte_queue.h"

#include <algorithm>
#include <cstring>

namespace schan {

gsl::span<std::byte> ByteQueue::data() noexcept
{
    return gsl::span<std::byte>(storage_.data() + begin_, size());
}

gsl::span<const std::byte> ByteQueue::data() const noexcept
{
    return gsl::span<const std::byte>(storage_.data() + begin_, size());
}

void ByteQueue::make_room(std::size_t length)
{
    if (storage_.size() - end_ >= length)
        return;

    // Move the unread bytes to the front before growing, so a queue that is
    // drained as fast as it is filled keeps its storage.
    if (begin_ > 0) {
        std::memmove(storage_.data(), storage_.data() + begin_, size());
        end_ -= begin_;
        begin_ = 0;
    }
    if (storage_.size() - end_ >= length)
        return;

    const std::size_t needed = end_ + length;
    std::size_t grown = std::max<std::size_t>(storage_.capacity(), 256);
    while (grown < needed)
        grown *= 2;
    storage_.reserve(grown);
    storage_.resize(grown);
}

void ByteQueue::append(gsl::span<const std::byte> bytes)
{
    if (bytes.empty())
        return;
    auto target = prepare(bytes.size());
    std::memcpy(target.data(), bytes.data(), bytes.size());
    commit(bytes.size());
}

gsl::span<std::byte> ByteQueue::prepare(std::size_t length)
{
    make_room(length);
    prepared_ = length;
    return gsl::span<std::byte>(storage_.data() + end_, length);
}

void ByteQueue::commit(std::size_t length)
{
    Expects(length <= prepared_);
    end_ += length;
    prepared_ = 0;
}

void ByteQueue::consume(std::size_t length)
{
    Expects(length <= size());
    begin_ += length;
    if (begin_ == end_)
        begin_ = end_ = 0;
}

std::size_t ByteQueue::read_into(gsl::span<std::byte> destination)
{
    const std::size_t count = std::min(destination.size(), size());
    if (count > 0)
        std::memcpy(destination.data(), storage_.data() + begin_, count);
    consume(count);
    return count;
}

} // namespace schan
