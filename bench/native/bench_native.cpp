// Native benchmarks of schan against raw OpenSSL, both pumped in memory.
// Each invocation runs one round of one benchmark and prints one JSON line;
// bench/run.py repeats and interleaves the rounds. Usage:
//
//   bench_native PKI bulk schan|openssl BYTES WRITE_SIZE
//   bench_native PKI handshake schan|openssl 1.2|1.3 rsa|ecdsa resume|full COUNT
//   bench_native PKI allocations BYTES WRITE_SIZE
//   bench_native PKI idle-memory schan|openssl COUNT
//
// PKI is a folder written by tests/support/test_pki.py plus leaf-ec-chain.pem.
// Versions, ciphers and key types match between the two sides; the cipher
// suite is whatever both pick by default unless OPENSSL_CONF narrows it.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include <malloc.h>

#include "counting_allocator.h"
#include "endpoint.h"

namespace bench {
namespace {

struct Pair {
    std::unique_ptr<Endpoint> client;
    std::unique_ptr<Endpoint> server;
};

// Contexts or configs for one benchmark, shared by every connection in it.
struct Setup {
    std::unique_ptr<SchanConfig> schan_client;
    std::unique_ptr<SchanConfig> schan_server;
    std::unique_ptr<RawContext> raw_client;
    std::unique_ptr<RawContext> raw_server;

    Setup(const Pki& pki, bool schan, const std::string& version, const std::string& key_type, bool resumption)
    {
        const bool tls13 = version == "1.3";
        if (schan) {
            const auto schan_version = tls13 ? SCHAN_TLS_1_3 : SCHAN_TLS_1_2;
            schan_client = std::make_unique<SchanConfig>(pki, key_type, false, schan_version, resumption);
            schan_server = std::make_unique<SchanConfig>(pki, key_type, true, schan_version, resumption);
        }
        // A schan server with the OpenSSL backend sends no tickets, so
        // resumption is measured on the client side: both clients talk to a
        // raw OpenSSL server.
        const int raw_version = tls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
        if (!schan || resumption)
            raw_server = std::make_unique<RawContext>(pki, key_type, true, raw_version, resumption);
        if (!schan)
            raw_client = std::make_unique<RawContext>(pki, key_type, false, raw_version, resumption);
    }

    Pair connect() const
    {
        Pair pair;
        if (schan_client)
            pair.client = std::make_unique<SchanEndpoint>(*schan_client, false);
        else
            pair.client = std::make_unique<RawEndpoint>(*raw_client, false);
        if (raw_server)
            pair.server = std::make_unique<RawEndpoint>(*raw_server, true);
        else
            pair.server = std::make_unique<SchanEndpoint>(*schan_server, true);
        return pair;
    }
};

// Wall-clock and CPU time of one timed section.
struct Stopwatch {
    std::uint64_t wall_start = now_ns();
    std::uint64_t cpu_start = cpu_now_ns();
    [[nodiscard]] double wall_seconds() const { return static_cast<double>(now_ns() - wall_start) / 1e9; }
    [[nodiscard]] double cpu_seconds() const { return static_cast<double>(cpu_now_ns() - cpu_start) / 1e9; }
};

// Sends `bytes` from client to server in writes of `write_size` bytes and
// returns the plaintext bytes the server received.
std::size_t transfer(Pair& pair, PumpBuffers& buffers, const std::vector<std::uint8_t>& payload,
                     std::size_t bytes)
{
    std::size_t received = 0;
    for (std::size_t sent = 0; sent < bytes;) {
        const std::size_t length = std::min(payload.size(), bytes - sent);
        std::size_t offset = 0;
        while (offset < length) {
            offset += pair.client->write(payload.data() + offset, length - offset);
            received += deliver(*pair.client, *pair.server, buffers);
        }
        sent += length;
    }
    return received;
}

int run_bulk(const Pki& pki, const std::string& impl, std::size_t bytes, std::size_t write_size)
{
    const Setup setup(pki, impl == "schan", "1.3", "ecdsa", false);
    PumpBuffers buffers;
    Pair pair = setup.connect();
    handshake(*pair.client, *pair.server, buffers);
    const std::vector<std::uint8_t> payload(write_size, 0x5a);

    // One untimed MiB lets every buffer reach its working size.
    transfer(pair, buffers, payload, 1 << 20);
    const Stopwatch stopwatch;
    const std::size_t received = transfer(pair, buffers, payload, bytes);
    const double seconds = stopwatch.wall_seconds();
    const double cpu_seconds = stopwatch.cpu_seconds();
    if (received != bytes)
        fail("the server received " + std::to_string(received) + " of " + std::to_string(bytes) + " bytes");

    const double mib = static_cast<double>(bytes) / (1 << 20);
    std::printf("{\"bytes\": %zu, \"write_size\": %zu, \"seconds\": %.6f, \"cpu_seconds\": %.6f, "
                "\"mib_per_s\": %.2f, \"mib_per_cpu_s\": %.2f, \"cipher\": \"%s\"}\n",
                bytes, write_size, seconds, cpu_seconds, mib / seconds, mib / cpu_seconds,
                pair.client->cipher().c_str());
    return 0;
}

int run_handshake(const Pki& pki, const std::string& impl, const std::string& version,
                  const std::string& key_type, bool resumption, int count)
{
    const Setup setup(pki, impl == "schan", version, key_type, resumption);
    PumpBuffers buffers;
    int resumed = 0;

    auto connect = [&] {
        Pair pair = setup.connect();
        handshake(*pair.client, *pair.server, buffers);
        if (auto* raw = dynamic_cast<RawEndpoint*>(pair.client.get()); raw != nullptr && resumption)
            raw->save_session();
        return pair.client->resumed();
    };

    // One untimed handshake fills the resumption cache and warms OpenSSL up.
    connect();
    const Stopwatch stopwatch;
    for (int i = 0; i < count; ++i)
        resumed += connect() ? 1 : 0;
    const double seconds = stopwatch.wall_seconds();
    const double cpu_seconds = stopwatch.cpu_seconds();

    std::printf("{\"handshakes\": %d, \"seconds\": %.6f, \"cpu_seconds\": %.6f, \"per_s\": %.2f, "
                "\"per_cpu_s\": %.2f, \"resumed\": %d}\n",
                count, seconds, cpu_seconds, count / seconds, count / cpu_seconds, resumed);
    return 0;
}

int run_allocations(const Pki& pki, std::size_t bytes, std::size_t write_size)
{
    const Setup setup(pki, true, "1.3", "ecdsa", false);
    PumpBuffers buffers;
    Pair pair = setup.connect();
    handshake(*pair.client, *pair.server, buffers);
    const std::vector<std::uint8_t> payload(write_size, 0x5a);
    transfer(pair, buffers, payload, 1 << 20);

    const std::uint64_t before = allocations::calls();
    transfer(pair, buffers, payload, bytes);
    const std::uint64_t calls = allocations::calls() - before;

    const std::size_t fragment = 16384;
    const std::size_t records_per_write = (write_size + fragment - 1) / fragment;
    const std::size_t records = bytes / write_size * records_per_write;
    std::printf("{\"bytes\": %zu, \"write_size\": %zu, \"records\": %zu, \"allocations\": %llu, "
                "\"per_record\": %.4f}\n",
                bytes, write_size, records, static_cast<unsigned long long>(calls),
                static_cast<double>(calls) / static_cast<double>(records));
    return 0;
}

// Heap bytes in use, by glibc's allocator (schan, OpenSSL and the benchmark).
std::int64_t heap_in_use()
{
    return static_cast<std::int64_t>(mallinfo2().uordblks);
}

int run_idle_memory(const Pki& pki, const std::string& impl, int count)
{
    const Setup setup(pki, impl == "schan", "1.3", "ecdsa", false);
    PumpBuffers buffers;
    {
        Pair warm = setup.connect();
        handshake(*warm.client, *warm.server, buffers);
    }

    const std::int64_t heap_before = heap_in_use();
    const std::int64_t own_before = allocations::live_bytes();
    std::vector<Pair> pairs(static_cast<std::size_t>(count));
    for (auto& pair : pairs) {
        pair = setup.connect();
        handshake(*pair.client, *pair.server, buffers);
    }
    const std::int64_t heap_both = heap_in_use();
    const std::int64_t own_both = allocations::live_bytes();
    for (auto& pair : pairs)
        pair.server.reset();
    const std::int64_t heap_clients = heap_in_use();
    const std::int64_t own_clients = allocations::live_bytes();

    // The vector of pairs itself is a few bytes per pair and is counted too.
    std::printf("{\"sessions\": %d, \"client_heap\": %lld, \"server_heap\": %lld, "
                "\"client_own\": %lld, \"server_own\": %lld}\n",
                count, static_cast<long long>((heap_clients - heap_before) / count),
                static_cast<long long>((heap_both - heap_clients) / count),
                static_cast<long long>((own_clients - own_before) / count),
                static_cast<long long>((own_both - own_clients) / count));
    return 0;
}

int usage()
{
    std::fprintf(stderr, "usage: bench_native PKI bulk schan|openssl BYTES WRITE_SIZE\n"
                         "       bench_native PKI handshake schan|openssl 1.2|1.3 rsa|ecdsa resume|full COUNT\n"
                         "       bench_native PKI allocations BYTES WRITE_SIZE\n"
                         "       bench_native PKI idle-memory schan|openssl COUNT\n");
    return 2;
}

int run(const std::vector<std::string>& arguments)
{
    if (arguments.size() < 2)
        return usage();
    const Pki pki{arguments[0]};
    const std::string& benchmark = arguments[1];
    auto number = [&](std::size_t index) { return std::stoull(arguments.at(index)); };

    if (benchmark == "bulk" && arguments.size() == 5)
        return run_bulk(pki, arguments[2], number(3), number(4));
    if (benchmark == "handshake" && arguments.size() == 7)
        return run_handshake(pki, arguments[2], arguments[3], arguments[4], arguments[5] == "resume",
                             static_cast<int>(number(6)));
    if (benchmark == "allocations" && arguments.size() == 4)
        return run_allocations(pki, number(2), number(3));
    if (benchmark == "idle-memory" && arguments.size() == 4)
        return run_idle_memory(pki, arguments[2], static_cast<int>(number(3)));
    return usage();
}

} // namespace
} // namespace bench

int main(int argc, char** argv)
{
    try {
        return bench::run(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const std::exception& error) {
        std::fprintf(stderr, "bench_native: %s\n", error.what());
        return 1;
    }
}
