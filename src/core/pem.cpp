#include "core/pem.h"

#include <cstdint>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/error.h"

namespace schan {

namespace {

constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
constexpr std::string_view kEnd = "-----END CERTIFICATE-----";

int base64_value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

Der decode_base64(std::string_view text, std::size_t block_number)
{
    Der out;
    std::uint32_t accumulator = 0;
    int bits = 0;
    bool padding = false;
    for (char c : text) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            padding = true;
            continue;
        }
        const int value = base64_value(c);
        if (value < 0 || padding)
            fail(SCHAN_E_BAD_FORMAT, "PEM certificate block " + std::to_string(block_number) +
                                         " contains invalid base64");
        accumulator = (accumulator << 6) | static_cast<std::uint32_t>(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::byte>((accumulator >> bits) & 0xFF));
        }
    }
    return out;
}

// Checks that `der` is one DER SEQUENCE whose length covers exactly the bytes present.
bool is_der_sequence(const Der& der)
{
    if (der.size() < 2 || der[0] != std::byte{0x30})
        return false;
    const auto first = std::to_integer<std::size_t>(der[1]);
    std::size_t length = first;
    std::size_t header = 2;
    if (first & 0x80) {
        const std::size_t count = first & 0x7F;
        if (count == 0 || count > 4 || der.size() < 2 + count)
            return false;
        length = 0;
        for (std::size_t i = 0; i < count; ++i)
            length = (length << 8) | std::to_integer<std::size_t>(der[2 + i]);
        header += count;
    }
    return header + length == der.size();
}

} // namespace

std::vector<Der> parse_pem_certificates(std::string_view pem)
{
    std::vector<Der> certificates;
    std::size_t position = 0;
    for (;;) {
        const std::size_t begin = pem.find(kBegin, position);
        if (begin == std::string_view::npos)
            break;
        const std::size_t body = begin + kBegin.size();
        const std::size_t end = pem.find(kEnd, body);
        const std::size_t number = certificates.size() + 1;
        if (end == std::string_view::npos)
            fail(SCHAN_E_BAD_FORMAT, "PEM certificate block " + std::to_string(number) +
                                         " has no END CERTIFICATE line");

        Der der = decode_base64(pem.substr(body, end - body), number);
        if (!is_der_sequence(der))
            fail(SCHAN_E_BAD_FORMAT, "PEM certificate block " + std::to_string(number) +
                                         " does not contain a DER certificate");
        certificates.push_back(std::move(der));
        position = end + kEnd.size();
    }
    if (certificates.empty())
        fail(SCHAN_E_BAD_FORMAT, "no -----BEGIN CERTIFICATE----- block found");
    return certificates;
}

std::string read_file(const std::string& path)
{
    std::ifstream file(path, std::ios::binary);
    if (!file)
        fail(SCHAN_E_FILE_NOT_FOUND, "cannot open '" + path + "'");
    std::ostringstream contents;
    contents << file.rdbuf();
    return contents.str();
}

SecretBytes read_secret_file(const std::string& path)
{
    // The stream is unbuffered (set before open, as libstdc++ requires), so
    // the chunks go straight into wiped storage and no stream buffer or
    // std::string keeps a copy of the key.
    std::ifstream file;
    file.rdbuf()->pubsetbuf(nullptr, 0);
    file.open(path, std::ios::binary);
    if (!file)
        fail(SCHAN_E_FILE_NOT_FOUND, "cannot open '" + path + "'");

    SecretBytes contents;
    char chunk[4096];
    while (file.read(chunk, sizeof chunk) || file.gcount() > 0) {
        const auto count = static_cast<std::size_t>(file.gcount());
        contents.insert(contents.end(), chunk, chunk + count);
    }
    secure_wipe(chunk, sizeof chunk);
    return contents;
}

} // namespace schan
