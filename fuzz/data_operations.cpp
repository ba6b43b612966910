#include "data_operations.h"

namespace schan::fuzz {

namespace {

std::string program(std::initializer_list<std::pair<DataOperation, std::uint8_t>> steps)
{
    std::string bytes;
    for (const auto& [operation, argument] : steps) {
        bytes += static_cast<char>(operation);
        bytes += static_cast<char>(argument);
    }
    return bytes;
}

} // namespace

std::vector<std::pair<std::string, std::string>> data_seed_programs()
{
    using enum DataOperation;
    return {
        {"exchange", program({{client_encrypt, 10}, {to_server, 255}, {server_encrypt, 200}, {to_client, 255},
                              {to_client, 255}})},
        {"small-pieces", program({{client_encrypt, 255}, {to_server, 3}, {to_server, 1}, {to_server, 40},
                                  {to_server, 255}, {to_server, 255}})},
        {"close", program({{client_encrypt, 1}, {client_shutdown, 0}, {to_server, 255}, {to_server, 255},
                           {server_shutdown, 0}, {to_client, 255}, {to_client, 255}})},
        {"corrupt", program({{server_encrypt, 5}, {corrupt_to_client, 77}, {to_client, 255}, {to_client, 255}})},
        {"truncate", program({{client_encrypt, 100}, {truncate_to_server, 20}, {server_eof, 0}, {to_server, 255}})},
        {"eof", program({{server_encrypt, 3}, {to_client, 255}, {client_eof, 0}})},
    };
}

} // namespace schan::fuzz
