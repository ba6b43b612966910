// A FIFO of bytes in one contiguous, reused buffer.
#pragma once

#include <cstddef>
#include <vector>

#include <gsl/gsl>

#include "core/secure_memory.h"

namespace schan {

// Bytes are appended at the tail and consumed at the head. The storage is
// compacted instead of reallocated, so once a connection has reached its
// working size, appending and consuming allocate nothing. The storage may
// hold plaintext, so every block is wiped before it is freed.
class ByteQueue {
public:
    ByteQueue() = default;
    explicit ByteQueue(std::size_t initial_capacity) { storage_.reserve(initial_capacity); }

    [[nodiscard]] std::size_t size() const noexcept { return end_ - begin_; }
    [[nodiscard]] bool empty() const noexcept { return begin_ == end_; }

    // Readable bytes, valid until the next non-const call.
    [[nodiscard]] gsl::span<std::byte> data() noexcept;
    [[nodiscard]] gsl::span<const std::byte> data() const noexcept;

    void append(gsl::span<const std::byte> bytes);

    // Returns writable space of exactly `length` bytes at the tail. Bytes
    // written there become readable only after commit().
    [[nodiscard]] gsl::span<std::byte> prepare(std::size_t length);
    void commit(std::size_t length);

    void consume(std::size_t length);

    // Copies up to destination.size() bytes out and consumes them.
    std::size_t read_into(gsl::span<std::byte> destination);

    void clear() noexcept { begin_ = end_ = 0; }

    [[nodiscard]] std::size_t capacity() const noexcept { return storage_.capacity(); }

private:
    void make_room(std::size_t length);

    std::vector<std::byte, WipingAllocator<std::byte>> storage_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::size_t prepared_ = 0;
};

} // namespace schan
