// Wiping of memory that may hold secrets (plaintext, private keys,
// passwords) before it is returned to the allocator.
#pragma once

#include <cstddef>
#include <new>
#include <string>
#include <vector>

namespace schan {

// Overwrites `length` bytes at `data` with zeros in a way the compiler cannot
// remove as a dead store.
void secure_wipe(void* data, std::size_t length) noexcept;

// Called with every block a WipingAllocator releases, after the wipe and
// before the memory is freed. Tests install one to check the wipe; nullptr
// (the default) disables it. The observer must not throw.
using ReleaseObserver = void (*)(const std::byte* data, std::size_t length);
void set_release_observer(ReleaseObserver observer) noexcept;

namespace detail {
void notify_release(const void* data, std::size_t length) noexcept;
} // namespace detail

// A standard allocator that wipes each block before freeing it, so that
// containers using it leave no copy of their contents behind, also when
// they grow and move to a larger block.
template <typename T>
struct WipingAllocator {
    using value_type = T;

    WipingAllocator() noexcept = default;
    template <typename U>
    WipingAllocator(const WipingAllocator<U>& /*other*/) noexcept
    {
    }

    T* allocate(std::size_t count) { return static_cast<T*>(::operator new(count * sizeof(T))); }

    void deallocate(T* block, std::size_t count) noexcept
    {
        secure_wipe(block, count * sizeof(T));
        detail::notify_release(block, count * sizeof(T));
        ::operator delete(block);
    }

    template <typename U>
    bool operator==(const WipingAllocator<U>& /*other*/) const noexcept
    {
        return true;
    }
};

// Bytes that are wiped when released. A std::string would keep short
// contents in its own object (the small-string buffer), outside the
// allocator's reach, so secrets live in a vector.
using SecretBytes = std::vector<char, WipingAllocator<char>>;

} // namespace schan
