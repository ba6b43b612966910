// Peer: the client of the peer host's control protocol. The protocol is
// described at the top of tests/support/peer_host.py: one request per TCP
// connection, one line each way, percent-encoded fields.
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/peers.h"

namespace schan::test {

namespace {

// Time a control request may take beyond its own timeout (a START waits
// up to 20 s for the peer to listen).
constexpr std::chrono::milliseconds kControlMargin{60000};

std::string encode_field(const std::string& value)
{
    static const char digits[] = "0123456789ABCDEF";
    std::string encoded;
    for (const char c : value) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte > 0x20 && byte < 0x7F && byte != '%') {
            encoded += c;
            continue;
        }
        encoded += '%';
        encoded += digits[byte >> 4];
        encoded += digits[byte & 0x0F];
    }
    return encoded;
}

int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    throw std::runtime_error(std::string("invalid percent-encoding digit '") + c + "' from the peer host");
}

std::string decode_field(const std::string& field)
{
    std::string decoded;
    for (std::size_t i = 0; i < field.size(); ++i) {
        if (field[i] != '%') {
            decoded += field[i];
            continue;
        }
        if (i + 2 >= field.size())
            throw std::runtime_error("truncated percent-encoding from the peer host");
        decoded += static_cast<char>(hex_value(field[i + 1]) * 16 + hex_value(field[i + 2]));
        i += 2;
    }
    return decoded;
}

std::vector<std::string> split_fields(const std::string& line)
{
    std::vector<std::string> fields;
    std::size_t start = 0;
    while (start < line.size()) {
        const std::size_t end = line.find(' ', start);
        const std::size_t stop = end == std::string::npos ? line.size() : end;
        if (stop > start)
            fields.push_back(line.substr(start, stop - start));
        start = stop + 1;
    }
    return fields;
}

struct ControlAddress {
    std::string host;
    std::uint16_t port = 0;
};

ControlAddress control_address()
{
    const char* value = std::getenv("SCHAN_PEER_HOST");
    if (value == nullptr || *value == '\0')
        throw std::runtime_error("SCHAN_PEER_HOST is not set: run the test through tests/support/peer_host.py");
    const std::string text(value);
    const std::size_t colon = text.rfind(':');
    if (colon == std::string::npos)
        throw std::runtime_error("SCHAN_PEER_HOST='" + text + "' is not HOST:PORT");
    return {text.substr(0, colon), static_cast<std::uint16_t>(std::stoul(text.substr(colon + 1)))};
}

// Sends one request and returns the decoded fields after "OK". Throws
// std::runtime_error with the peer host's message for "ERR".
std::vector<std::string> request(const std::vector<std::string>& fields,
                                 std::chrono::milliseconds wait = std::chrono::milliseconds(0))
{
    const ControlAddress address = control_address();
    Socket socket = Socket::connect(address.host, address.port, wait + kControlMargin);

    std::string line;
    for (const auto& field : fields)
        line += (line.empty() ? "" : " ") + encode_field(field);
    socket.send_all(line + "\n");

    std::string reply;
    std::uint8_t buffer[4096];
    while (reply.empty() || reply.back() != '\n') {
        const std::size_t received = socket.receive(buffer, sizeof(buffer));
        if (received == 0)
            throw std::runtime_error("the peer host closed the control connection without a reply to " + fields[0]);
        reply.append(reinterpret_cast<const char*>(buffer), received);
    }
    reply.pop_back();

    std::vector<std::string> result;
    for (const auto& field : split_fields(reply))
        result.push_back(decode_field(field));
    if (result.empty())
        throw std::runtime_error("empty reply from the peer host to " + fields[0]);
    if (result[0] == "ERR")
        throw std::runtime_error("peer host: " + (result.size() > 1 ? result[1] : std::string("unknown error")));
    if (result[0] != "OK")
        throw std::runtime_error("unexpected reply from the peer host: " + reply);
    result.erase(result.begin());
    return result;
}

std::vector<std::string> request_values(const std::vector<std::string>& fields, std::size_t count,
                                        std::chrono::milliseconds wait = std::chrono::milliseconds(0))
{
    auto values = request(fields, wait);
    values.resize(count);  // an empty last field (OUTPUT of a silent peer) is not sent
    return values;
}

} // namespace

Peer Peer::start(const std::vector<std::string>& argv, std::chrono::seconds timeout, bool listens)
{
    if (argv.empty())
        throw std::invalid_argument("Peer::start: argv is empty");

    std::vector<std::string> fields = {"START", std::to_string(timeout.count()), listens ? "1" : "0"};
    fields.insert(fields.end(), argv.begin(), argv.end());
    const auto values = request_values(fields, 2);
    return Peer(std::stoi(values[0]), static_cast<std::uint16_t>(std::stoul(values[1])));
}

Peer::Peer(Peer&& other) noexcept : id_(other.id_), port_(other.port_)
{
    other.id_ = -1;
}

Peer::~Peer()
{
    if (id_ < 0)
        return;
    try {
        stop();
    } catch (const std::exception& error) {
        std::fprintf(stderr, "stopping peer %d failed: %s\n", id_, error.what());
    }
}

std::string Peer::output() const
{
    return request_values({"OUTPUT", std::to_string(id_)}, 1)[0];
}

void Peer::write_stdin(const std::string& text) const
{
    request({"STDIN", std::to_string(id_), text});
}

bool Peer::wait_for_output(const std::string& text, std::chrono::milliseconds timeout) const
{
    const auto values =
        request_values({"WAIT_OUTPUT", std::to_string(id_), std::to_string(timeout.count()), text}, 1, timeout);
    return values[0] == "1";
}

int Peer::wait_exit(std::chrono::milliseconds timeout) const
{
    const auto values = request_values({"WAIT_EXIT", std::to_string(id_), std::to_string(timeout.count())}, 1, timeout);
    return values[0] == "running" ? -1 : std::stoi(values[0]);
}

int Peer::stop()
{
    return std::stoi(request_values({"STOP", std::to_string(id_)}, 1)[0]);
}

} // namespace schan::test
