#include "backend/schannel/application_protocols.h"

#include <windows.h>
#include <sspi.h>

#include <cstddef>
#include <cstring>
#include <limits>

#include "core/error.h"

namespace schan::schannel {

std::vector<unsigned char> make_application_protocols(const std::vector<std::string>& protocols)
{
    if (protocols.empty())
        return {};

    std::size_t list_size = 0;
    for (const auto& protocol : protocols)
        list_size += 1 + protocol.size();
    if (list_size > std::numeric_limits<unsigned short>::max())
        fail(SCHAN_E_INVALID_ARGUMENT, "the ALPN list is " + std::to_string(list_size) +
                                           " bytes long; TLS allows at most 65535");

    constexpr std::size_t list_offset = offsetof(SEC_APPLICATION_PROTOCOLS, ProtocolLists);
    constexpr std::size_t names_offset = offsetof(SEC_APPLICATION_PROTOCOL_LIST, ProtocolList);
    std::vector<unsigned char> buffer(list_offset + names_offset + list_size);

    // The fields are written with memcpy because the vector's bytes are not
    // objects of the SSPI structure types.
    const auto lists_size = static_cast<unsigned long>(names_offset + list_size);
    const auto extension = SecApplicationProtocolNegotiationExt_ALPN;
    const auto protocol_list_size = static_cast<unsigned short>(list_size);
    std::memcpy(buffer.data() + offsetof(SEC_APPLICATION_PROTOCOLS, ProtocolListsSize), &lists_size,
                sizeof lists_size);
    unsigned char* list = buffer.data() + list_offset;
    std::memcpy(list + offsetof(SEC_APPLICATION_PROTOCOL_LIST, ProtoNegoExt), &extension, sizeof extension);
    std::memcpy(list + offsetof(SEC_APPLICATION_PROTOCOL_LIST, ProtocolListSize), &protocol_list_size,
                sizeof protocol_list_size);

    unsigned char* name = list + names_offset;
    for (const auto& protocol : protocols) {
        *name++ = static_cast<unsigned char>(protocol.size());
        std::memcpy(name, protocol.data(), protocol.size());
        name += protocol.size();
    }
    return buffer;
}

} // namespace schan::schannel
