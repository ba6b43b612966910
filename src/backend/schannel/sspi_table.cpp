#include "backend/schannel/sspi_table.h"

#include <atomic>

#include "core/error.h"

namespace schan::schannel {

namespace {

std::atomic<const SecurityFunctionTableW*> g_test_table{nullptr};

} // namespace

const SecurityFunctionTableW& system_sspi_table()
{
    // InitSecurityInterfaceW returns a pointer to a table owned by secur32
    // that stays valid for the life of the process.
    static const SecurityFunctionTableW* const table = InitSecurityInterfaceW();
    if (table == nullptr)
        fail(SCHAN_E_UNSUPPORTED, "InitSecurityInterfaceW returned no SSPI function table (error " +
                                      std::to_string(GetLastError()) + ")");
    return *table;
}

const SecurityFunctionTableW& sspi()
{
    const SecurityFunctionTableW* table = g_test_table.load(std::memory_order_acquire);
    return table != nullptr ? *table : system_sspi_table();
}

void set_sspi_table_for_testing(const SecurityFunctionTableW* table) noexcept
{
    g_test_table.store(table, std::memory_order_release);
}

void reset_sspi_table_for_testing() noexcept
{
    g_test_table.store(nullptr, std::memory_order_release);
}

} // namespace schan::schannel
