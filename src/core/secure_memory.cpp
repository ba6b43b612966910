#include "core/secure_memory.h"

#include <atomic>

#if defined(_WIN32)
#  include <windows.h>
#endif

namespace schan {

namespace {

std::atomic<ReleaseObserver> release_observer{nullptr};

} // namespace

void secure_wipe(void* data, std::size_t length) noexcept
{
    if (data == nullptr || length == 0)
        return;
#if defined(_WIN32)
    SecureZeroMemory(data, length);
#else
    // Stores through a volatile pointer count as observable behaviour, so
    // the compiler keeps them although the memory is freed right after.
    auto* bytes = static_cast<volatile unsigned char*>(data);
    for (std::size_t i = 0; i < length; ++i)
        bytes[i] = 0;
#endif
}

void set_release_observer(ReleaseObserver observer) noexcept
{
    release_observer.store(observer);
}

namespace detail {

void notify_release(const void* data, std::size_t length) noexcept
{
    const ReleaseObserver observer = release_observer.load();
    if (observer != nullptr)
        observer(static_cast<const std::byte*>(data), length);
}

} // namespace detail

} // namespace schan
