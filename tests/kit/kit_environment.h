// What the kit tests know about the system they run on: where the kit's PKI
// and tools are, whether this is Wine, which Windows build, and whether the
// server role and TLS 1.3 can run here.
#pragma once

#include <string>

#include "schan/schan.h"

namespace schan::kit {

// The path of a PKI file in the folder named by SCHAN_TEST_PKI.
std::string pki_file(const std::string& name);

// The content of a PKI file; throws std::runtime_error when it cannot be read.
std::string read_pki_file(const std::string& name);

// The path of a tool (schan-client, schan-server) in the folder named by
// SCHAN_KIT_TOOLS, with ".exe" on Windows.
std::string tool_file(const std::string& name);

// True when the process runs under Wine (ntdll exports wine_get_version).
bool is_wine();

// "Windows 10.0 build 22631", "Windows 6.1 build 7601 as reported by Wine
// 8.0", or the kernel name and release of another system.
std::string system_description();

// Returns why the server role cannot run here, or "" when it can. The reason
// is a skip reason only where the gap is known: the build has no server role
// (schan_server_new returns SCHAN_E_UNSUPPORTED), or Wine, whose SChannel
// rejects the first ClientHello in AcceptSecurityContext. On Windows and with
// OpenSSL, a server that fails is a test failure, not a reason.
std::string server_role_gap();

// Returns why TLS 1.3 cannot run here, or "" when it can: Wine 8 and Windows
// before Windows 11 and Server 2022 (build 20348) have no TLS 1.3 in SChannel.
std::string tls13_gap();

// The PKCS#12 password of every .p12 file of the test PKI.
inline constexpr const char* kPkcs12Password = "secret";

} // namespace schan::kit
