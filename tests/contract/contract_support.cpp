#include "contract/contract_support.h"

#include <cstring>
#include <stdexcept>

#ifdef _WIN32
#include <windows.h>
#endif

void PrintTo(schan_status status, std::ostream* out)
{
    *out << schan_status_name(status) << " (" << static_cast<int>(status) << ")";
}

namespace schan::contract {

bool is_schannel()
{
    return std::strcmp(schan_backend_name(), "schannel") == 0;
}

bool is_wine()
{
#ifdef _WIN32
    // Wine's ntdll exports wine_get_version; Windows' does not.
    const HMODULE ntdll = GetModuleHandleA("ntdll.dll");
    return ntdll != nullptr && GetProcAddress(ntdll, "wine_get_version") != nullptr;
#else
    return false;
#endif
}

ConfigPtr test_config()
{
    return ConfigPtr(test::make_test_client_config(), &schan_config_free);
}

namespace {

std::string key_for(const std::string& cert)
{
    return cert.substr(0, cert.size() - 4) + ".key";  // leaf.pem -> leaf.key
}

} // namespace

std::vector<std::string> s_server(const std::string& cert, const std::string& chain,
                                  const std::vector<std::string>& extra)
{
    std::vector<std::string> argv = {"openssl", "s_server", "-accept", "127.0.0.1:{port}",
                                     "-cert", "{pki}/" + cert, "-key", "{pki}/" + key_for(cert)};
    if (!chain.empty()) {
        argv.push_back("-cert_chain");
        argv.push_back("{pki}/" + chain);
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
}

std::vector<std::string> python_server(const std::string& script, const std::string& cert, const std::string& chain,
                                       const std::vector<std::string>& extra)
{
    std::vector<std::string> argv = {"python3", "{peers}/" + script, "--port", "{port}",
                                     "--cert", "{pki}/" + cert, "--key", "{pki}/" + key_for(cert)};
    if (!chain.empty()) {
        argv.push_back("--chain");
        argv.push_back("{pki}/" + chain);
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
}

std::unique_ptr<test::TlsConnection> connect(std::uint16_t port, const char* server_name,
                                             const schan_config* config, test::FeedPlan plan)
{
    schan_session* session = nullptr;
    const schan_status status = schan_client_new(config, server_name, &session);
    if (status != SCHAN_OK)
        throw std::runtime_error(std::string("schan_client_new failed with ") + schan_status_name(status));
    try {
        return std::make_unique<test::TlsConnection>(session, test::Socket::connect("127.0.0.1", port), plan);
    } catch (...) {
        schan_session_free(session);
        throw;
    }
}

std::string test_data(std::size_t length, std::uint32_t seed)
{
    std::string data(length, '\0');
    std::uint32_t state = seed == 0 ? 1 : seed;
    for (char& c : data) {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        c = static_cast<char>(state & 0xFF);
    }
    return data;
}

std::vector<std::uint8_t> peer_certificate(schan_session* session, std::size_t index)
{
    const std::uint8_t* der = nullptr;
    std::size_t length = 0;
    if (schan_get_peer_cert(session, index, &der, &length) != SCHAN_OK)
        return {};
    return std::vector<std::uint8_t>(der, der + length);
}

bool same_bytes(const std::string& a, const std::string& b, std::string& difference)
{
    const std::size_t common = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < common; ++i) {
        if (a[i] != b[i]) {
            difference = "first difference at byte " + std::to_string(i) + " of " + std::to_string(a.size()) +
                         " and " + std::to_string(b.size());
            return false;
        }
    }
    if (a.size() != b.size()) {
        difference = "sizes differ: " + std::to_string(a.size()) + " and " + std::to_string(b.size()) +
                     " (equal up to the shorter)";
        return false;
    }
    return true;
}

} // namespace schan::contract
