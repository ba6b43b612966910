#include "core/server_hello.h"

#include <algorithm>
#include <array>

#include "core/record.h"

namespace schan {

namespace {

constexpr std::uint8_t kServerHello = 2;
constexpr std::uint16_t kSupportedVersions = 43;

// RFC 8446 section 4.1.3: a ServerHello with this random is a HelloRetryRequest.
constexpr std::array<std::uint8_t, 32> kHelloRetryRandom = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};

// A bounds-checked reader over a byte span.
class Reader {
public:
    explicit Reader(gsl::span<const std::byte> bytes) : bytes_(bytes) {}

    bool skip(std::size_t count)
    {
        if (bytes_.size() - position_ < count)
            return false;
        position_ += count;
        return true;
    }

    std::optional<std::uint32_t> number(std::size_t width)
    {
        if (bytes_.size() - position_ < width)
            return std::nullopt;
        std::uint32_t value = 0;
        for (std::size_t i = 0; i < width; ++i)
            value = (value << 8) | std::to_integer<std::uint32_t>(bytes_[position_ + i]);
        position_ += width;
        return value;
    }

    gsl::span<const std::byte> rest() const { return bytes_.subspan(position_); }
    bool empty() const { return position_ == bytes_.size(); }

private:
    gsl::span<const std::byte> bytes_;
    std::size_t position_ = 0;
};

bool is_hello_retry(gsl::span<const std::byte> random)
{
    return std::equal(random.begin(), random.end(), kHelloRetryRandom.begin(),
                      [](std::byte a, std::uint8_t b) { return std::to_integer<std::uint8_t>(a) == b; });
}

std::optional<ServerHelloSummary> parse_server_hello(gsl::span<const std::byte> body)
{
    Reader reader(body);
    const auto legacy_version = reader.number(2);
    if (!legacy_version || reader.rest().size() < 32)
        return std::nullopt;
    const bool retry = is_hello_retry(reader.rest().first(32));
    reader.skip(32);

    const auto session_id_length = reader.number(1);
    if (!session_id_length || !reader.skip(*session_id_length))
        return std::nullopt;
    const auto suite = reader.number(2);
    if (!suite || !reader.skip(1))
        return std::nullopt;

    ServerHelloSummary summary{static_cast<std::uint16_t>(*legacy_version), static_cast<std::uint16_t>(*suite)};
    const auto extensions_length = reader.number(2);
    if (extensions_length) {
        Reader extensions(reader.rest().first(std::min<std::size_t>(*extensions_length, reader.rest().size())));
        while (!extensions.empty()) {
            const auto type = extensions.number(2);
            const auto length = extensions.number(2);
            if (!type || !length)
                break;
            if (*type == kSupportedVersions && *length == 2) {
                summary.version = static_cast<std::uint16_t>(*extensions.number(2));
                continue;
            }
            if (!extensions.skip(*length))
                break;
        }
    }
    if (retry)
        return std::nullopt;
    return summary;
}

} // namespace

void ServerHelloScanner::scan(gsl::span<const std::byte> records)
{
    while (!done_) {
        const auto header = parse_record_header(records);
        if (!header || records.size() < kRecordHeaderSize + header->length)
            return;
        const auto fragment = records.subspan(kRecordHeaderSize, header->length);
        records = records.subspan(kRecordHeaderSize + header->length);

        if (header->type == ContentType::handshake) {
            handshake_bytes_.insert(handshake_bytes_.end(), fragment.begin(), fragment.end());
            parse_messages();
        } else if (header->type != ContentType::change_cipher_spec) {
            done_ = true;  // alerts and protected records end the plaintext part
        }
    }
}

void ServerHelloScanner::parse_messages()
{
    Reader reader(handshake_bytes_);
    for (;;) {
        const auto type = reader.number(1);
        const auto length = reader.number(3);
        if (!type || !length || reader.rest().size() < *length)
            return;
        const auto body = reader.rest().first(*length);
        reader.skip(*length);
        if (*type == kServerHello) {
            if (auto summary = parse_server_hello(body)) {
                result_ = summary;
                done_ = true;
                handshake_bytes_.clear();
                handshake_bytes_.shrink_to_fit();
                return;
            }
        }
    }
}

const char* cipher_suite_name(std::uint16_t suite) noexcept
{
    switch (suite) {
    case 0x1301: return "TLS_AES_128_GCM_SHA256";
    case 0x1302: return "TLS_AES_256_GCM_SHA384";
    case 0x1303: return "TLS_CHACHA20_POLY1305_SHA256";
    case 0x1304: return "TLS_AES_128_CCM_SHA256";
    case 0x1305: return "TLS_AES_128_CCM_8_SHA256";
    case 0xC02B: return "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
    case 0xC02C: return "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384";
    case 0xC02F: return "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
    case 0xC030: return "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384";
    case 0xCCA8: return "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256";
    case 0xCCA9: return "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256";
    case 0xCCAA: return "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256";
    case 0xC023: return "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256";
    case 0xC024: return "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384";
    case 0xC027: return "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256";
    case 0xC028: return "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384";
    case 0xC009: return "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA";
    case 0xC00A: return "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA";
    case 0xC013: return "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA";
    case 0xC014: return "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA";
    case 0x009E: return "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256";
    case 0x009F: return "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384";
    case 0x0067: return "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256";
    case 0x006B: return "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256";
    case 0x0033: return "TLS_DHE_RSA_WITH_AES_128_CBC_SHA";
    case 0x0039: return "TLS_DHE_RSA_WITH_AES_256_CBC_SHA";
    case 0x009C: return "TLS_RSA_WITH_AES_128_GCM_SHA256";
    case 0x009D: return "TLS_RSA_WITH_AES_256_GCM_SHA384";
    case 0x003C: return "TLS_RSA_WITH_AES_128_CBC_SHA256";
    case 0x003D: return "TLS_RSA_WITH_AES_256_CBC_SHA256";
    case 0x002F: return "TLS_RSA_WITH_AES_128_CBC_SHA";
    case 0x0035: return "TLS_RSA_WITH_AES_256_CBC_SHA";
    default: return nullptr;
    }
}

} // namespace schan
