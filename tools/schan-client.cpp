// schan-client: connect to a TLS server through schan, like `openssl s_client`.
//
// Sends standard input to the server and writes what the server sends to
// standard output. When standard input ends it sends close_notify and waits
// for the server's. Prints one summary line to standard error once the
// handshake is complete. Exits 0 after a clean close.
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#else
#include <unistd.h>
#endif

#include "schan/schan.h"
#include "socket.h"

namespace {

constexpr int kExitClean = 0;
constexpr int kExitTlsError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitConnection = 3;

const char* const kUsage =
    "usage: schan-client [options] HOST PORT\n"
    "  --ca FILE              trust the CA certificates in this PEM file\n"
    "  --ca-mode only|with-system\n"
    "                         trust only --ca (default) or --ca and the system roots\n"
    "  --insecure             do not verify the server certificate or its name\n"
    "  --alpn LIST            offer these ALPN protocols, comma-separated (h2,http/1.1)\n"
    "  --servername NAME      name for SNI and the certificate check (default: HOST)\n"
    "  --min-version 1.2|1.3  lowest protocol version to accept (default 1.2)\n"
    "  --max-version 1.2|1.3  highest protocol version to offer (default: newest)\n"
    "  --cert FILE            client certificate: a PKCS#12 file (.p12, .pfx) or PEM followed by\n"
    "                         its intermediates\n"
    "  --key FILE             private key of a PEM --cert (PEM); default: read it from --cert\n"
    "  --cert-store PATH      client certificate from the Windows certificate store\n"
    "                         (CurrentUser\\MY\\<SHA-1 thumbprint>; schannel backend only)\n"
    "  --pass-env VAR         read the password of --cert or --key from environment variable VAR\n";

struct Options {
    std::string ca_file;
    bool ca_with_system = false;
    bool insecure = false;
    std::vector<std::string> alpn;
    std::string server_name;
    schan_tls_version min_version = SCHAN_TLS_DEFAULT;
    schan_tls_version max_version = SCHAN_TLS_DEFAULT;
    std::string certificate_file;
    std::string key_file;
    std::string certificate_store_path;
    std::string password_variable;
    std::string host;
    std::string port;
};

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class TlsError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

schan_tls_version parse_version(const std::string& text)
{
    if (text == "1.2")
        return SCHAN_TLS_1_2;
    if (text == "1.3")
        return SCHAN_TLS_1_3;
    throw UsageError("invalid protocol version '" + text + "': use 1.2 or 1.3");
}

std::vector<std::string> split_list(const std::string& text)
{
    std::vector<std::string> items;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t comma = text.find(',', start);
        const std::size_t end = comma == std::string::npos ? text.size() : comma;
        if (end > start)
            items.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return items;
}

Options parse_options(int argc, char** argv)
{
    Options options;
    std::vector<std::string> positional;
    for (int i = 1; i < argc; ++i) {
        const std::string argument = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc)
                throw UsageError("option " + argument + " needs a value");
            return argv[++i];
        };

        if (argument == "--ca") {
            options.ca_file = value();
        } else if (argument == "--ca-mode") {
            const std::string mode = value();
            if (mode != "only" && mode != "with-system")
                throw UsageError("invalid --ca-mode '" + mode + "': use only or with-system");
            options.ca_with_system = mode == "with-system";
        } else if (argument == "--insecure") {
            options.insecure = true;
        } else if (argument == "--alpn") {
            options.alpn = split_list(value());
        } else if (argument == "--servername") {
            options.server_name = value();
        } else if (argument == "--min-version") {
            options.min_version = parse_version(value());
        } else if (argument == "--max-version") {
            options.max_version = parse_version(value());
        } else if (argument == "--cert") {
            options.certificate_file = value();
        } else if (argument == "--key") {
            options.key_file = value();
        } else if (argument == "--cert-store") {
            options.certificate_store_path = value();
        } else if (argument == "--pass-env") {
            options.password_variable = value();
        } else if (argument == "--help" || argument == "-h") {
            std::fputs(kUsage, stdout);
            std::exit(kExitClean);
        } else if (argument.rfind("--", 0) == 0) {
            throw UsageError("unknown option " + argument);
        } else {
            positional.push_back(argument);
        }
    }

    if (positional.size() != 2)
        throw UsageError("expected HOST and PORT");
    if (!options.certificate_file.empty() && !options.certificate_store_path.empty())
        throw UsageError("give either --cert or --cert-store");
    if (!options.key_file.empty() && options.certificate_file.empty())
        throw UsageError("--key needs --cert");
    options.host = positional[0];
    options.port = positional[1];
    if (options.server_name.empty())
        options.server_name = options.host;
    return options;
}

void check_config(schan_status status, schan_config* config)
{
    if (status < 0)
        throw UsageError(std::string(schan_status_name(status)) + ": " + schan_config_last_error(config));
}

// Returns the password from the environment, or nullptr without --pass-env.
const char* password(const Options& options)
{
    if (options.password_variable.empty())
        return nullptr;
    const char* value = std::getenv(options.password_variable.c_str());
    if (value == nullptr)
        throw UsageError("environment variable " + options.password_variable + " (from --pass-env) is not set");
    return value;
}

bool has_suffix(const std::string& text, const std::string& suffix)
{
    if (text.size() < suffix.size())
        return false;
    for (std::size_t i = 0; i < suffix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(text[text.size() - suffix.size() + i])) != suffix[i])
            return false;
    return true;
}

void load_client_certificate(const Options& options, schan_config* config)
{
    if (!options.certificate_store_path.empty()) {
        check_config(schan_config_load_cert_store(config, options.certificate_store_path.c_str()), config);
        return;
    }
    if (options.certificate_file.empty())
        return;

    if (options.key_file.empty() &&
        (has_suffix(options.certificate_file, ".p12") || has_suffix(options.certificate_file, ".pfx"))) {
        check_config(schan_config_load_pkcs12_file(config, options.certificate_file.c_str(), password(options)),
                     config);
        return;
    }
    check_config(schan_config_load_cert_chain_file(config, options.certificate_file.c_str(),
                                                   options.key_file.empty() ? nullptr : options.key_file.c_str(),
                                                   password(options)),
                 config);
}

schan_config* make_config(const Options& options)
{
    schan_config* config = nullptr;
    if (schan_config_new(&config) != SCHAN_OK)
        throw std::runtime_error("out of memory");

    check_config(schan_config_set_versions(config, options.min_version, options.max_version), config);
    for (const auto& protocol : options.alpn)
        check_config(schan_config_add_alpn(config, protocol.c_str()), config);

    if (options.insecure) {
        check_config(schan_config_set_verify_mode(config, SCHAN_VERIFY_NONE), config);
    } else if (!options.ca_file.empty()) {
        check_config(schan_config_load_ca_file(config, options.ca_file.c_str()), config);
        check_config(schan_config_set_verify_mode(config, options.ca_with_system ? SCHAN_VERIFY_CUSTOM_AND_SYSTEM
                                                                                 : SCHAN_VERIFY_CUSTOM_ONLY),
                     config);
    }
    load_client_certificate(options, config);
    return config;
}

// Standard input read on its own thread, because Windows cannot wait on a
// console or pipe handle together with a socket.
class InputReader {
public:
    InputReader()
    {
        std::thread([this] { run(); }).detach();
    }

    // Moves the bytes read so far into `chunk`; returns false once input ended and all was taken.
    bool take(std::vector<std::uint8_t>& chunk)
    {
        std::lock_guard<std::mutex> lock(mutex_);
        chunk.clear();
        while (!chunks_.empty()) {
            chunk.insert(chunk.end(), chunks_.front().begin(), chunks_.front().end());
            chunks_.pop_front();
        }
        return !(ended_ && chunk.empty());
    }

private:
    void run()
    {
        std::vector<std::uint8_t> buffer(16384);
        for (;;) {
            // A raw read returns what a pipe or terminal has now, where
            // fread would wait for a full buffer.
#ifdef _WIN32
            const int count = _read(0, buffer.data(), static_cast<unsigned>(buffer.size()));
#else
            const auto count = ::read(0, buffer.data(), buffer.size());
#endif
            std::lock_guard<std::mutex> lock(mutex_);
            if (count <= 0) {
                ended_ = true;
                return;
            }
            chunks_.emplace_back(buffer.begin(), buffer.begin() + count);
        }
    }

    std::mutex mutex_;
    std::deque<std::vector<std::uint8_t>> chunks_;
    bool ended_ = false;
};

class Client {
public:
    Client(schan_session* session, schan::tools::TcpSocket& socket) : session_(session), socket_(socket) {}

    void handshake()
    {
        for (;;) {
            const schan_status status = schan_step(session_);
            if (status == SCHAN_OK)
                return;
            if (status == SCHAN_HAVE_OUTPUT)
                flush();
            else if (status == SCHAN_NEED_INPUT)
                receive_and_feed();
            else
                throw_tls_error(status);
        }
    }

    void print_summary(bool verified) const
    {
        schan_tls_version version = SCHAN_TLS_DEFAULT;
        const char* cipher = "";
        const char* alpn = "";
        schan_get_protocol(session_, &version);
        schan_get_cipher(session_, &cipher);
        schan_get_alpn(session_, &alpn);
        const char* protocol = "unknown";
        if (version == SCHAN_TLS_1_3)
            protocol = "TLSv1.3";
        else if (version == SCHAN_TLS_1_2)
            protocol = "TLSv1.2";
        std::fprintf(stderr, "protocol=%s cipher=%s alpn=%s verify=%s\n", protocol, cipher, *alpn ? alpn : "-",
                     verified ? "ok" : "skipped");
        std::fflush(stderr);
    }

    // Relays standard input and the connection until the server's close_notify.
    void relay()
    {
        InputReader input;
        std::vector<std::uint8_t> chunk;
        bool input_open = true;
        for (;;) {
            if (input_open) {
                input_open = input.take(chunk);
                write(chunk);
                if (!input_open)
                    close_write();
            }
            if (socket_.wait_readable(input_open ? 20 : 1000))
                receive_and_feed();
            if (deliver_plaintext())
                return;
        }
    }

private:
    [[noreturn]] void throw_tls_error(schan_status status) const
    {
        // Send any alert the session queued before giving up.
        try {
            flush();
        } catch (const std::exception&) {
        }
        throw TlsError(std::string(schan_status_name(status)) + ": " + schan_last_error(session_));
    }

    void flush() const
    {
        std::uint8_t buffer[16384];
        std::size_t written = 0;
        while (schan_output_size(session_) > 0) {
            schan_take_output(session_, buffer, sizeof buffer, &written);
            socket_.send_all(buffer, written);
        }
    }

    void receive_and_feed()
    {
        std::uint8_t buffer[16384];
        const std::size_t received = socket_.receive(buffer, sizeof buffer);
        if (received == 0) {
            schan_feed_eof(session_);
            return;
        }

        std::size_t offset = 0;
        while (offset < received) {
            std::size_t consumed = 0;
            const schan_status status = schan_feed(session_, buffer + offset, received - offset, &consumed);
            if (status < 0)
                throw_tls_error(status);
            offset += consumed;
            // A full input queue contains complete records: process them to make room.
            if (consumed == 0 && process_queued_input())
                return;
        }
    }

    void write(const std::vector<std::uint8_t>& data)
    {
        std::size_t offset = 0;
        while (offset < data.size()) {
            std::size_t consumed = 0;
            const schan_status status = schan_encrypt(session_, data.data() + offset, data.size() - offset, &consumed);
            if (status < 0)
                throw_tls_error(status);
            offset += consumed;
            flush();
            if (status == SCHAN_NEED_INPUT)  // a post-handshake exchange must finish first
                receive_and_feed();
        }
    }

    void close_write()
    {
        const schan_status status = schan_shutdown(session_);
        if (status < 0)
            throw_tls_error(status);
        flush();
    }

    // Processes queued records: handshake records with schan_step, the rest
    // with schan_decrypt. Returns true after the server's close_notify.
    bool process_queued_input()
    {
        if (schan_get_state(session_) != SCHAN_STATE_HANDSHAKE)
            return deliver_plaintext();

        const schan_status status = schan_step(session_);
        if (status < 0)
            throw_tls_error(status);
        flush();
        return false;
    }

    // Writes available plaintext to stdout; returns true after the server's close_notify.
    bool deliver_plaintext()
    {
        std::uint8_t buffer[16384];
        for (;;) {
            std::size_t written = 0;
            const schan_status status = schan_decrypt(session_, buffer, sizeof buffer, &written);
            if (status == SCHAN_OK) {
                std::fwrite(buffer, 1, written, stdout);
                std::fflush(stdout);
            } else if (status == SCHAN_HAVE_OUTPUT) {
                flush();
            } else if (status == SCHAN_NEED_INPUT) {
                flush();
                return false;
            } else if (status == SCHAN_CLOSED) {
                if (schan_get_state(session_) != SCHAN_STATE_CLOSED)
                    close_write();
                flush();
                return true;
            } else {
                throw_tls_error(status);
            }
        }
    }

    schan_session* session_;
    schan::tools::TcpSocket& socket_;
};

int run(int argc, char** argv)
{
    Options options;
    try {
        options = parse_options(argc, argv);
    } catch (const UsageError& error) {
        std::fprintf(stderr, "schan-client: %s\n%s", error.what(), kUsage);
        return kExitUsage;
    }

    schan_config* config = nullptr;
    try {
        config = make_config(options);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "schan-client: invalid configuration: %s\n", error.what());
        return kExitUsage;
    }

    schan::tools::NetworkLibrary network;
    schan::tools::TcpSocket socket;
    try {
        socket.connect(options.host, options.port);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "schan-client: %s\n", error.what());
        schan_config_free(config);
        return kExitConnection;
    }

    schan_session* session = nullptr;
    const schan_status created = schan_client_new(config, options.server_name.c_str(), &session);
    schan_config_free(config);
    if (created != SCHAN_OK) {
        std::fprintf(stderr, "schan-client: cannot create the session: %s\n", schan_status_name(created));
        return kExitTlsError;
    }

    int exit_code = kExitClean;
    try {
        Client client(session, socket);
        client.handshake();
        client.print_summary(!options.insecure);
        client.relay();
    } catch (const TlsError& error) {
        std::fprintf(stderr, "schan-client: %s\n", error.what());
        exit_code = kExitTlsError;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "schan-client: %s\n", error.what());
        exit_code = kExitConnection;
    }
    schan_session_free(session);
    return exit_code;
}

} // namespace

int main(int argc, char** argv)
{
#ifdef _WIN32
    _setmode(_fileno(stdin), _O_BINARY);
    _setmode(_fileno(stdout), _O_BINARY);
#endif
    const int exit_code = run(argc, argv);
    std::fflush(stdout);
    std::fflush(stderr);
    // The standard input thread may still be blocked in a read; end the
    // process without waiting for it.
    std::_Exit(exit_code);
}
