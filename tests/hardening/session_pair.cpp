#include "session_pair.h"

#include <stdexcept>
#include <vector>

#include "support/peers.h"

namespace schan::test {

namespace {

void check(schan_status status, const schan_config* config, const char* call)
{
    if (status != SCHAN_OK)
        throw std::runtime_error(std::string(call) + " failed with " + schan_status_name(status) + ": " +
                                 schan_config_last_error(config));
}

std::string describe(const char* side, const char* call, schan_status status, const schan_session* session)
{
    return std::string(side) + " " + call + ": " + schan_status_name(status) + ": " + schan_last_error(session);
}

} // namespace

void Inbound::collect(schan_session* from)
{
    std::uint8_t buffer[16384];
    std::size_t written = 0;
    while (schan_output_size(from) > 0) {
        schan_take_output(from, buffer, sizeof buffer, &written);
        bytes.append(reinterpret_cast<const char*>(buffer), written);
    }
}

std::size_t Inbound::feed(schan_session* to)
{
    std::size_t consumed = 0;
    if (bytes.empty())
        return 0;
    schan_feed(to, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), &consumed);
    bytes.erase(0, consumed);
    return consumed;
}

void configure_pair_client(schan_config* config)
{
    check(schan_config_set_verify_mode(config, SCHAN_VERIFY_CUSTOM_ONLY), config, "schan_config_set_verify_mode");
    check(schan_config_load_ca_file(config, Pki::path("root.pem").c_str()), config, "schan_config_load_ca_file");
}

void configure_pair_server(schan_config* config)
{
    const std::string chain = Pki::read("leaf-ec.pem") + Pki::read("inter.pem");
    const std::string key = Pki::read("leaf-ec.key");
    check(schan_config_load_cert_chain_pem(config, chain.data(), chain.size(), key.data(), key.size(), nullptr),
          config, "schan_config_load_cert_chain_pem");
}

SessionPair::SessionPair(const schan_config* client_config, const schan_config* server_config)
{
    if (schan_client_new(client_config, "localhost", &client_) != SCHAN_OK)
        throw std::runtime_error("schan_client_new failed");
    if (schan_server_new(server_config, &server_) != SCHAN_OK) {
        schan_session_free(client_);
        throw std::runtime_error("schan_server_new failed");
    }
}

SessionPair::~SessionPair()
{
    schan_session_free(client_);
    schan_session_free(server_);
}

std::string SessionPair::handshake()
{
    schan_status client_status = SCHAN_NEED_INPUT;
    schan_status server_status = SCHAN_NEED_INPUT;
    for (int round = 0; round < 100; ++round) {
        client_status = schan_step(client_);
        to_server.collect(client_);
        if (client_status < 0)
            return describe("client", "schan_step", client_status, client_);
        to_server.feed(server_);

        server_status = schan_step(server_);
        to_client.collect(server_);
        if (server_status < 0)
            return describe("server", "schan_step", server_status, server_);
        to_client.feed(client_);

        if (client_status == SCHAN_OK && server_status == SCHAN_OK && to_server.bytes.empty())
            return "";
    }
    return "the handshake did not complete in 100 rounds";
}

std::string SessionPair::receive(schan_session* session, Inbound& inbound, std::string& received)
{
    std::uint8_t buffer[16384];
    for (int round = 0; round < 1000000; ++round) {
        inbound.feed(session);
        std::size_t written = 0;
        const schan_status status = schan_decrypt(session, buffer, sizeof buffer, &written);
        if (status == SCHAN_OK) {
            received.append(reinterpret_cast<const char*>(buffer), written);
            continue;
        }
        if (status == SCHAN_HAVE_OUTPUT) {
            (session == client_ ? to_server : to_client).collect(session);
            continue;
        }
        if (status == SCHAN_NEED_INPUT && inbound.bytes.empty())
            return "";
        if (status != SCHAN_NEED_INPUT)
            return describe(session == client_ ? "client" : "server", "schan_decrypt", status, session);
    }
    return "schan_decrypt made no progress";
}

std::string SessionPair::send(bool from_client, const std::string& data)
{
    schan_session* sender = from_client ? client_ : server_;
    schan_session* receiver = from_client ? server_ : client_;
    Inbound& inbound = from_client ? to_server : to_client;
    std::string received;

    std::size_t sent = 0;
    while (sent < data.size()) {
        std::size_t consumed = 0;
        const schan_status status = schan_encrypt(
            sender, reinterpret_cast<const std::uint8_t*>(data.data() + sent), data.size() - sent, &consumed);
        if (status < 0)
            return describe(from_client ? "client" : "server", "schan_encrypt", status, sender);
        sent += consumed;
        inbound.collect(sender);
        std::string problem = receive(receiver, inbound, received);
        if (!problem.empty())
            return problem;
    }
    std::string problem = receive(receiver, inbound, received);
    if (!problem.empty())
        return problem;
    return received == data ? "" : "the receiver got " + std::to_string(received.size()) + " bytes, not the " +
                                       std::to_string(data.size()) + " sent";
}

std::string SessionPair::close()
{
    for (schan_session* side : {client_, server_}) {
        const schan_status status = schan_shutdown(side);
        if (status < 0)
            return describe(side == client_ ? "client" : "server", "schan_shutdown", status, side);
        (side == client_ ? to_server : to_client).collect(side);
    }

    for (schan_session* side : {client_, server_}) {
        Inbound& inbound = side == client_ ? to_client : to_server;
        std::uint8_t buffer[256];
        schan_status status = SCHAN_NEED_INPUT;
        for (int round = 0; round < 1000 && status != SCHAN_CLOSED; ++round) {
            inbound.feed(side);
            std::size_t written = 0;
            status = schan_decrypt(side, buffer, sizeof buffer, &written);
            if (status < 0)
                return describe(side == client_ ? "client" : "server", "schan_decrypt", status, side);
        }
        if (schan_get_state(side) != SCHAN_STATE_CLOSED)
            return std::string(side == client_ ? "client" : "server") + " did not reach SCHAN_STATE_CLOSED";
    }
    return "";
}

} // namespace schan::test
