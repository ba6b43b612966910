// Writes the seed corpus of every fuzz target into FOLDER/<target>/, from
// the test PKI of this build: recorded handshakes between schan's client
// and server (with the same deterministic random streams the targets use),
// PEM and PKCS#12 files, and a few hand-made operation sequences.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "data_operations.h"
#include "fuzz_support.h"

namespace {

using schan::fuzz::RandomStream;

[[noreturn]] void abort_with(const std::string& message)
{
    std::fprintf(stderr, "make_seeds: %s\n", message.c_str());
    std::exit(1);
}

void write_seed(const std::filesystem::path& folder, const char* target, const char* name, const std::string& bytes)
{
    const auto directory = folder / target;
    std::filesystem::create_directories(directory);
    std::ofstream stream(directory / name, std::ios::binary | std::ios::trunc);
    stream.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!stream)
        abort_with("cannot write " + (directory / name).string());
}

// Sends `message` and close_notify from one side; returns the records.
std::string send_and_close(schan_session* session, RandomStream stream, const std::string& message)
{
    schan::fuzz::use_random_stream(stream);
    std::size_t consumed = 0;
    schan_encrypt(session, reinterpret_cast<const std::uint8_t*>(message.data()), message.size(), &consumed);
    schan_shutdown(session);
    std::string records;
    schan::fuzz::drain_output(session, records);
    return records;
}

// Records a whole connection: the handshake, one message each way and
// both close_notify alerts. `server_version` limits the server's versions.
schan::fuzz::Transcript record_connection(schan_tls_version server_version)
{
    schan_config* client_config = schan::fuzz::make_client_config();
    schan_config* server_config = schan::fuzz::make_server_config();
    if (schan_config_set_versions(server_config, SCHAN_TLS_1_2, server_version) != SCHAN_OK)
        abort_with("schan_config_set_versions failed");

    schan::fuzz::reset_random();
    schan_session* client = nullptr;
    schan_session* server = nullptr;
    schan::fuzz::use_random_stream(RandomStream::client);
    if (schan_client_new(client_config, "localhost", &client) != SCHAN_OK)
        abort_with("schan_client_new failed");
    schan::fuzz::use_random_stream(RandomStream::server);
    if (schan_server_new(server_config, &server) != SCHAN_OK)
        abort_with("schan_server_new failed");

    schan::fuzz::Transcript transcript;
    if (!schan::fuzz::run_handshake(client, server, transcript))
        abort_with(std::string("the handshake failed: client: ") + schan_last_error(client) +
                   "; server: " + schan_last_error(server));
    transcript.client_bytes += send_and_close(client, RandomStream::client, "GET / HTTP/1.1\r\n\r\n");
    transcript.server_bytes += send_and_close(server, RandomStream::server, "HTTP/1.1 200 OK\r\n\r\n");

    schan_session_free(client);
    schan_session_free(server);
    schan_config_free(client_config);
    schan_config_free(server_config);
    return transcript;
}

// The first `count` records of a stream of TLS records.
std::string first_records(const std::string& records, int count)
{
    std::size_t offset = 0;
    for (int i = 0; i < count && offset + 5 <= records.size(); ++i) {
        const std::size_t length = static_cast<unsigned char>(records[offset + 3]) << 8 |
                                   static_cast<unsigned char>(records[offset + 4]);
        offset += 5 + length;
    }
    return records.substr(0, std::min(offset, records.size()));
}

void write_session_seeds(const std::filesystem::path& folder)
{
    const auto tls13 = record_connection(SCHAN_TLS_1_3);
    const auto tls12 = record_connection(SCHAN_TLS_1_2);

    write_seed(folder, "client", "tls13-connection", tls13.server_bytes);
    write_seed(folder, "client", "tls12-connection", tls12.server_bytes);
    write_seed(folder, "client", "tls13-server-hello", first_records(tls13.server_bytes, 1));
    // The first byte of a server input selects its versions (see server_fuzzer.cpp).
    write_seed(folder, "server", "tls13-connection", '\0' + tls13.client_bytes);
    write_seed(folder, "server", "tls12-connection", '\1' + tls12.client_bytes);
    write_seed(folder, "server", "client-hello", '\0' + first_records(tls13.client_bytes, 1));

    write_seed(folder, "core", "records", std::string(1, '\0') + tls13.server_bytes);
    write_seed(folder, "core", "server-hello-tls13", std::string(1, '\1') + tls13.server_bytes);
    write_seed(folder, "core", "server-hello-tls12", std::string(1, '\1') + tls12.server_bytes);
    write_seed(folder, "core", "certificate-request", std::string(1, '\3') + tls12.server_bytes);
}

void write_pem_seeds(const std::filesystem::path& folder)
{
    using schan::fuzz::read_pki_file;
    write_seed(folder, "core", "pem-chain", std::string(1, '\2') + read_pki_file("leaf-chain.pem"));

    write_seed(folder, "loader", "ca-pem", std::string(1, '\0') + read_pki_file("root.pem"));
    write_seed(folder, "loader", "ca-pem-chain", std::string(1, '\0') + read_pki_file("long-chain.pem"));
    for (const char* name : {"leaf-ec", "client-ec-traditional", "client-rsa-traditional"}) {
        const std::string certificate = read_pki_file((std::string(name) + ".pem").c_str());
        const std::string key = read_pki_file((std::string(name) + ".key").c_str());
        write_seed(folder, "loader", (std::string("chain-") + name).c_str(),
                   schan::fuzz::encode_loader_chain(certificate, key));
    }
    write_seed(folder, "loader", "pkcs12", std::string(1, '\2') + read_pki_file("client.p12"));
    write_seed(folder, "loader", "pkcs12-nopass", std::string(1, '\3') + read_pki_file("client-nopass.p12"));
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_seeds FOLDER\n");
        return 2;
    }
    const std::filesystem::path folder = argv[1];
    schan::fuzz::install_deterministic_random();
    write_session_seeds(folder);
    write_pem_seeds(folder);
    for (const auto& [name, operations] : schan::fuzz::data_seed_programs())
        write_seed(folder, "data", name.c_str(), operations);
    return 0;
}
