// The SSPI function table through which the SChannel backend makes every
// SSPI call, so that tests can put a wrapper in front of the real provider.
#pragma once

#include <windows.h>
#include <sspi.h>

namespace schan::schannel {

// Returns the table in effect: the one a test installed, else the system's.
// Throws SCHAN_E_UNSUPPORTED when InitSecurityInterfaceW returns no table.
const SecurityFunctionTableW& sspi();

// Returns the table from InitSecurityInterfaceW, loaded on first use and
// never replaced. A test wrapper forwards to it.
const SecurityFunctionTableW& system_sspi_table();

// Makes sspi() return `table` until reset_sspi_table_for_testing(). Internal:
// tests reach it through the static library; schan.dll does not export it.
// `table` must outlive every session that uses it, and sessions must not be
// running on other threads while the table changes.
void set_sspi_table_for_testing(const SecurityFunctionTableW* table) noexcept;

// Makes sspi() return the system's table again.
void reset_sspi_table_for_testing() noexcept;

} // namespace schan::schannel
