#include "counting_allocator.h"

#include <cstdlib>
#include <new>

#include <malloc.h>

namespace {

// Plain integers: every benchmark runs in one thread.
std::uint64_t call_count = 0;
std::int64_t live = 0;

void* allocate(std::size_t size)
{
    void* pointer = std::malloc(size == 0 ? 1 : size);
    if (pointer == nullptr)
        throw std::bad_alloc();
    ++call_count;
    live += static_cast<std::int64_t>(malloc_usable_size(pointer));
    return pointer;
}

void release(void* pointer) noexcept
{
    if (pointer == nullptr)
        return;
    live -= static_cast<std::int64_t>(malloc_usable_size(pointer));
    std::free(pointer);
}

} // namespace

namespace bench::allocations {

std::uint64_t calls()
{
    return call_count;
}

std::int64_t live_bytes()
{
    return live;
}

} // namespace bench::allocations

void* operator new(std::size_t size)
{
    return allocate(size);
}

void* operator new[](std::size_t size)
{
    return allocate(size);
}

void* operator new(std::size_t size, const std::nothrow_t&) noexcept
{
    try {
        return allocate(size);
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
}

void* operator new[](std::size_t size, const std::nothrow_t&) noexcept
{
    try {
        return allocate(size);
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
}

void operator delete(void* pointer) noexcept
{
    release(pointer);
}

void operator delete[](void* pointer) noexcept
{
    release(pointer);
}

void operator delete(void* pointer, std::size_t) noexcept
{
    release(pointer);
}

void operator delete[](void* pointer, std::size_t) noexcept
{
    release(pointer);
}
