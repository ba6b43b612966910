#include "schannel/injection_support.h"

#include <algorithm>
#include <stdexcept>

namespace {

std::string status_text(SECURITY_STATUS status)
{
    char text[16];
    std::snprintf(text, sizeof text, "0x%08lX", static_cast<unsigned long>(status));
    return text;
}

} // namespace

void PrintTo(schan_status status, std::ostream* out)
{
    *out << schan_status_name(status) << " (" << static_cast<int>(status) << ")";
}

namespace schan::test {

bool is_wine()
{
    // Wine's ntdll exports wine_get_version; Windows' does not.
    const HMODULE ntdll = GetModuleHandleA("ntdll.dll");
    return ntdll != nullptr && GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

ConfigPtr test_config()
{
    return ConfigPtr(make_test_client_config(), &schan_config_free);
}

std::vector<std::string> python_peer(const std::string& script, const std::vector<std::string>& extra)
{
    std::vector<std::string> argv = {"python3",          script, "--port", "{port}", "--cert", "{pki}/leaf.pem",
                                     "--key",            "{pki}/leaf.key",
                                     "--chain",          "{pki}/inter.pem"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
}

std::vector<std::string> records_peer(const std::vector<std::string>& extra)
{
    return python_peer(std::string(SCHAN_SCHANNEL_TESTS_DIR) + "/records_server.py", extra);
}

std::vector<std::string> s_server(const std::vector<std::string>& extra)
{
    std::vector<std::string> argv = {"openssl", "s_server",       "-accept", "127.0.0.1:{port}", "-cert",
                                     "{pki}/leaf.pem", "-key", "{pki}/leaf.key", "-cert_chain", "{pki}/inter.pem"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
}

std::unique_ptr<TlsConnection> connect_client(std::uint16_t port, const char* server_name,
                                              const schan_config* config)
{
    const ConfigPtr own_config = test_config();
    schan_session* session = nullptr;
    const schan_status status =
        schan_client_new(config != nullptr ? config : own_config.get(), server_name, &session);
    if (status != SCHAN_OK)
        throw std::runtime_error(std::string("schan_client_new failed with ") + schan_status_name(status));
    try {
        return std::make_unique<TlsConnection>(session, Socket::connect("127.0.0.1", port));
    } catch (...) {
        schan_session_free(session);
        throw;
    }
}

std::vector<std::byte> buffer_bytes(const SecBuffer& buffer)
{
    const auto* begin = static_cast<const std::byte*>(buffer.pvBuffer);
    return begin == nullptr ? std::vector<std::byte>() : std::vector<std::byte>(begin, begin + buffer.cbBuffer);
}

SecBuffer* find_buffer(SecBufferDesc& desc, unsigned long type)
{
    for (unsigned long i = 0; i < desc.cBuffers; ++i)
        if (desc.pBuffers[i].BufferType == type)
            return &desc.pBuffers[i];
    return nullptr;
}

std::size_t first_record_size(const std::vector<std::byte>& records)
{
    if (records.size() < 5)
        throw std::runtime_error("fewer than 5 bytes: no TLS record header");
    const std::size_t length = std::to_integer<std::size_t>(records[3]) << 8 | std::to_integer<std::size_t>(records[4]);
    if (records.size() < 5 + length)
        throw std::runtime_error("the first TLS record is incomplete");
    return 5 + length;
}

std::string decrypt_record(const SecurityFunctionTableW& table, PCtxtHandle context, std::vector<std::byte> record)
{
    SecBuffer buffers[4] = {
        {static_cast<unsigned long>(record.size()), SECBUFFER_DATA, record.data()},
        {0, SECBUFFER_EMPTY, nullptr},
        {0, SECBUFFER_EMPTY, nullptr},
        {0, SECBUFFER_EMPTY, nullptr},
    };
    SecBufferDesc message{SECBUFFER_VERSION, 4, buffers};
    const SECURITY_STATUS status = table.DecryptMessage(context, &message, 0, nullptr);
    if (status != SEC_E_OK)
        throw std::runtime_error("DecryptMessage failed with " + status_text(status));
    const SecBuffer* data = find_buffer(message, SECBUFFER_DATA);
    if (data == nullptr)
        return {};
    return std::string(static_cast<const char*>(data->pvBuffer), data->cbBuffer);
}

std::vector<std::byte> encrypt_record(const SecurityFunctionTableW& table, PCtxtHandle context,
                                      const std::string& plaintext)
{
    SecPkgContext_StreamSizes sizes{};
    SECURITY_STATUS status = table.QueryContextAttributesW(context, SECPKG_ATTR_STREAM_SIZES, &sizes);
    if (status != SEC_E_OK)
        throw std::runtime_error("QueryContextAttributes(SECPKG_ATTR_STREAM_SIZES) failed with " +
                                 status_text(status));

    std::vector<std::byte> record(sizes.cbHeader + plaintext.size() + sizes.cbTrailer);
    std::transform(plaintext.begin(), plaintext.end(), record.begin() + sizes.cbHeader,
                   [](char c) { return static_cast<std::byte>(c); });
    SecBuffer buffers[4] = {
        {sizes.cbHeader, SECBUFFER_STREAM_HEADER, record.data()},
        {static_cast<unsigned long>(plaintext.size()), SECBUFFER_DATA, record.data() + sizes.cbHeader},
        {sizes.cbTrailer, SECBUFFER_STREAM_TRAILER, record.data() + sizes.cbHeader + plaintext.size()},
        {0, SECBUFFER_EMPTY, nullptr},
    };
    SecBufferDesc message{SECBUFFER_VERSION, 4, buffers};
    status = table.EncryptMessage(context, 0, &message, 0);
    if (status != SEC_E_OK)
        throw std::runtime_error("EncryptMessage failed with " + status_text(status));
    record.resize(buffers[0].cbBuffer + buffers[1].cbBuffer + buffers[2].cbBuffer);
    return record;
}

} // namespace schan::test
