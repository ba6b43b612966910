// Pki, the test client config and PEM decoding.
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/peers.h"

namespace schan::test {

namespace {

std::string pki_folder()
{
    const char* value = std::getenv("SCHAN_TEST_PKI");
    if (value == nullptr || *value == '\0')
        throw std::runtime_error("SCHAN_TEST_PKI is not set: run the test through tests/support/peer_host.py");
    return value;
}

int base64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

std::vector<std::uint8_t> base64_decode(const std::string& text)
{
    std::vector<std::uint8_t> bytes;
    std::uint32_t bits = 0;
    int bit_count = 0;
    for (const char c : text) {
        if (c == '=')
            break;
        const int value = base64_value(c);
        if (value < 0)
            continue;  // line breaks
        bits = (bits << 6) | static_cast<std::uint32_t>(value);
        bit_count += 6;
        if (bit_count >= 8) {
            bit_count -= 8;
            bytes.push_back(static_cast<std::uint8_t>((bits >> bit_count) & 0xFF));
        }
    }
    return bytes;
}

} // namespace

std::string Pki::host_path(const std::string& file)
{
    return pki_folder() + "/" + file;
}

std::string Pki::path(const std::string& file)
{
    std::string path = host_path(file);
#ifdef _WIN32
    // Under Wine the peer host passes a Unix path, and drive Z: maps the Unix root.
    if (!path.empty() && path[0] == '/') {
        for (char& c : path) {
            if (c == '/')
                c = '\\';
        }
        path = "Z:" + path;
    }
#endif
    return path;
}

std::string Pki::read(const std::string& file)
{
    const std::string file_path = path(file);
    std::ifstream stream(file_path, std::ios::binary);
    if (!stream)
        throw std::runtime_error("cannot open the PKI file " + file_path);
    return std::string(std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>());
}

schan_config* make_test_client_config()
{
    schan_config* config = nullptr;
    if (schan_config_new(&config) != SCHAN_OK)
        throw std::runtime_error("schan_config_new failed");

    const std::string root = Pki::path("root.pem");
    const schan_status verify = schan_config_set_verify_mode(config, SCHAN_VERIFY_CUSTOM_ONLY);
    const schan_status load = verify == SCHAN_OK ? schan_config_load_ca_file(config, root.c_str()) : verify;
    if (load != SCHAN_OK) {
        const std::string message = schan_config_last_error(config);
        schan_config_free(config);
        throw std::runtime_error(std::string("configuring the test client failed with ") + schan_status_name(load) +
                                 ": " + message);
    }
    return config;
}

std::vector<std::uint8_t> pem_to_der(const std::string& pem, std::size_t index)
{
    static const std::string begin = "-----BEGIN CERTIFICATE-----";
    static const std::string end = "-----END CERTIFICATE-----";

    std::size_t position = 0;
    for (std::size_t i = 0;; ++i) {
        const std::size_t start = pem.find(begin, position);
        if (start == std::string::npos)
            throw std::runtime_error("the PEM text has no certificate number " + std::to_string(index));
        const std::size_t stop = pem.find(end, start);
        if (stop == std::string::npos)
            throw std::runtime_error("the PEM text ends inside certificate number " + std::to_string(i));
        if (i == index)
            return base64_decode(pem.substr(start + begin.size(), stop - start - begin.size()));
        position = stop + end.size();
    }
}

} // namespace schan::test
