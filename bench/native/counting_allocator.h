// Counts the calls and live bytes of the global operator new. schan's C++
// code allocates through operator new, and OpenSSL through malloc, so these
// counters see schan's own heap use and nothing of the backend's.
// NOTE: the aligned forms of operator new are not replaced and not counted;
// schan declares no over-aligned type.
#pragma once

#include <cstddef>
#include <cstdint>

namespace bench::allocations {

std::uint64_t calls();
// Bytes currently allocated through operator new, by malloc_usable_size().
std::int64_t live_bytes();

} // namespace bench::allocations
