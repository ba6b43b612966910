#include "kit_environment.h"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "memory_pair.h"

#ifdef _WIN32
#include <windows.h>
#else
#include <sys/utsname.h>
#endif

namespace schan::kit {

namespace {

// The first Windows build whose SChannel negotiates TLS 1.3 (Windows Server 2022;
// Windows 11 is build 22000).
constexpr unsigned long kFirstTls13Build = 20348;

std::string folder_from(const char* variable)
{
    const char* value = std::getenv(variable);
    if (value == nullptr || *value == '\0')
        throw std::runtime_error(std::string(variable) + " is not set: run the kit through run-tests.cmd");
    std::string folder = value;
#ifdef _WIN32
    const char separator = '\\';
#else
    const char separator = '/';
#endif
    if (folder.back() != '/' && folder.back() != '\\')
        folder += separator;
    return folder;
}

#ifdef _WIN32
const char* wine_version()
{
    using WineGetVersion = const char*(__cdecl*)();
    const HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    if (ntdll == nullptr)
        return nullptr;
    const auto function = reinterpret_cast<WineGetVersion>(
        reinterpret_cast<void*>(GetProcAddress(ntdll, "wine_get_version")));
    return function != nullptr ? function() : nullptr;
}

// RtlGetVersion returns the real version, but GetVersionEx returns 6.2
// (Windows 8) to programs without a compatibility manifest.
RTL_OSVERSIONINFOW windows_version()
{
    using RtlGetVersion = LONG(WINAPI*)(RTL_OSVERSIONINFOW*);
    RTL_OSVERSIONINFOW info{};
    info.dwOSVersionInfoSize = sizeof info;
    const HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    const auto function = ntdll != nullptr ? reinterpret_cast<RtlGetVersion>(reinterpret_cast<void*>(
                                                 GetProcAddress(ntdll, "RtlGetVersion")))
                                           : nullptr;
    if (function != nullptr)
        function(&info);
    return info;
}
#endif

ConfigPtr new_config()
{
    schan_config* config = nullptr;
    if (schan_config_new(&config) != SCHAN_OK)
        throw std::runtime_error("schan_config_new failed");
    return ConfigPtr(config);
}

} // namespace

std::string pki_file(const std::string& name)
{
    return folder_from("SCHAN_TEST_PKI") + name;
}

std::string read_pki_file(const std::string& name)
{
    const std::string path = pki_file(name);
    std::ifstream stream(path, std::ios::binary);
    if (!stream)
        throw std::runtime_error("cannot open the PKI file " + path);
    return std::string(std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>());
}

std::string tool_file(const std::string& name)
{
#ifdef _WIN32
    return folder_from("SCHAN_KIT_TOOLS") + name + ".exe";
#else
    return folder_from("SCHAN_KIT_TOOLS") + name;
#endif
}

bool is_wine()
{
#ifdef _WIN32
    return wine_version() != nullptr;
#else
    return false;
#endif
}

std::string system_description()
{
#ifdef _WIN32
    const RTL_OSVERSIONINFOW info = windows_version();
    std::string text = "Windows " + std::to_string(info.dwMajorVersion) + "." + std::to_string(info.dwMinorVersion) +
                       " build " + std::to_string(info.dwBuildNumber);
    if (const char* wine = wine_version())
        text += " as reported by Wine " + std::string(wine);
    return text;
#else
    utsname name{};
    uname(&name);
    return std::string(name.sysname) + " " + name.release;
#endif
}

std::string server_role_gap()
{
    ConfigPtr server_config = new_config();
    const std::string pfx = pki_file("leaf.p12");
    const schan_status loaded = schan_config_load_pkcs12_file(server_config.get(), pfx.c_str(), kPkcs12Password);
    if (loaded != SCHAN_OK)
        throw std::runtime_error("loading " + pfx + " failed with " + schan_status_name(loaded) + ": " +
                                 schan_config_last_error(server_config.get()));

    schan_session* server = nullptr;
    const schan_status created = schan_server_new(server_config.get(), &server);
    if (created == SCHAN_E_UNSUPPORTED)
        return "this build has no server role: schan_server_new returns SCHAN_E_UNSUPPORTED";
    if (created != SCHAN_OK)
        return "";  // the tests report the failure

    ConfigPtr client_config = new_config();
    schan_config_set_verify_mode(client_config.get(), SCHAN_VERIFY_NONE);
    schan_session* client = nullptr;
    schan_client_new(client_config.get(), "localhost", &client);
    MemoryPair pair{SessionPtr(client), SessionPtr(server)};
    if (!pair.handshake() && pair.server_status() < 0 && is_wine())
        return "Wine's SChannel has no server role: the server's schan_step returned " +
               std::string(schan_status_name(pair.server_status()));
    return "";
}

std::string tls13_gap()
{
#ifdef _WIN32
    if (is_wine())
        return "Wine 8's SChannel has no TLS 1.3";
    const RTL_OSVERSIONINFOW info = windows_version();
    if (info.dwBuildNumber < kFirstTls13Build)
        return "SChannel on Windows build " + std::to_string(info.dwBuildNumber) +
               " has no TLS 1.3 (it needs Windows 11 or Server 2022, build 20348 or later)";
#endif
    return "";
}

} // namespace schan::kit
