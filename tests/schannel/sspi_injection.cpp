#include "schannel/sspi_injection.h"

#include <cstring>
#include <stdexcept>

#include "backend/schannel/sspi_table.h"

namespace schan::test {

namespace {

SspiInjection* g_active = nullptr;

SspiInjection& active()
{
    if (g_active == nullptr)
        throw std::logic_error("an SSPI wrapper entry ran without an SspiInjection");
    return *g_active;
}

} // namespace

SspiInjection::SspiInjection() : table_(schannel::system_sspi_table())
{
    if (g_active != nullptr)
        throw std::logic_error("only one SspiInjection may exist at a time");
    table_.AcquireCredentialsHandleW = &acquire_credentials_entry;
    table_.QueryCredentialsAttributesW = &query_credentials_attributes_entry;
    table_.InitializeSecurityContextW = &initialize_context_entry;
    table_.QueryContextAttributesW = &query_context_attributes_entry;
    table_.ApplyControlToken = &apply_control_token_entry;
    table_.DecryptMessage = &decrypt_message_entry;
    table_.FreeContextBuffer = &free_context_buffer_entry;
    g_active = this;
    schannel::set_sspi_table_for_testing(&table_);
}

SspiInjection::~SspiInjection()
{
    schannel::reset_sspi_table_for_testing();
    g_active = nullptr;
    for (void* token : tokens_)
        delete[] static_cast<std::byte*>(token);
}

const SecurityFunctionTableW& SspiInjection::real() const
{
    return schannel::system_sspi_table();
}

void* SspiInjection::allocate_token(const std::vector<std::byte>& bytes)
{
    auto* token = new std::byte[bytes.empty() ? 1 : bytes.size()];
    std::memcpy(token, bytes.data(), bytes.size());
    const std::lock_guard lock(tokens_mutex_);
    tokens_.insert(token);
    return token;
}

SECURITY_STATUS SEC_ENTRY SspiInjection::acquire_credentials_entry(SEC_WCHAR* principal, SEC_WCHAR* package,
                                                                   ULONG use, void* logon_id, void* auth_data,
                                                                   SEC_GET_KEY_FN get_key, void* get_key_argument,
                                                                   PCredHandle credentials, PTimeStamp expiry)
{
    SspiInjection& self = active();
    if (self.acquire_credentials)
        return self.acquire_credentials(principal, package, use, logon_id, auth_data, get_key, get_key_argument,
                                        credentials, expiry);
    return self.real().AcquireCredentialsHandleW(principal, package, use, logon_id, auth_data, get_key,
                                                 get_key_argument, credentials, expiry);
}

SECURITY_STATUS SEC_ENTRY SspiInjection::query_credentials_attributes_entry(PCredHandle credentials, ULONG attribute,
                                                                            void* buffer)
{
    SspiInjection& self = active();
    if (self.query_credentials_attributes)
        return self.query_credentials_attributes(credentials, attribute, buffer);
    return self.real().QueryCredentialsAttributesW(credentials, attribute, buffer);
}

SECURITY_STATUS SEC_ENTRY SspiInjection::initialize_context_entry(PCredHandle credentials, PCtxtHandle context,
                                                                  SEC_WCHAR* target, ULONG request, ULONG reserved1,
                                                                  ULONG representation, PSecBufferDesc input,
                                                                  ULONG reserved2, PCtxtHandle new_context,
                                                                  PSecBufferDesc output, ULONG* attributes,
                                                                  PTimeStamp expiry)
{
    SspiInjection& self = active();
    if (self.initialize_context)
        return self.initialize_context(credentials, context, target, request, reserved1, representation, input,
                                       reserved2, new_context, output, attributes, expiry);
    return self.real().InitializeSecurityContextW(credentials, context, target, request, reserved1, representation,
                                                  input, reserved2, new_context, output, attributes, expiry);
}

SECURITY_STATUS SEC_ENTRY SspiInjection::query_context_attributes_entry(PCtxtHandle context, ULONG attribute,
                                                                        void* buffer)
{
    SspiInjection& self = active();
    if (self.query_context_attributes)
        return self.query_context_attributes(context, attribute, buffer);
    return self.real().QueryContextAttributesW(context, attribute, buffer);
}

SECURITY_STATUS SEC_ENTRY SspiInjection::apply_control_token_entry(PCtxtHandle context, PSecBufferDesc input)
{
    SspiInjection& self = active();
    if (self.apply_control_token)
        return self.apply_control_token(context, input);
    return self.real().ApplyControlToken(context, input);
}

SECURITY_STATUS SEC_ENTRY SspiInjection::decrypt_message_entry(PCtxtHandle context, PSecBufferDesc message,
                                                               ULONG sequence, ULONG* quality)
{
    SspiInjection& self = active();
    if (self.decrypt_message)
        return self.decrypt_message(context, message, sequence, quality);
    return self.real().DecryptMessage(context, message, sequence, quality);
}

SECURITY_STATUS SEC_ENTRY SspiInjection::free_context_buffer_entry(void* buffer)
{
    SspiInjection& self = active();
    {
        const std::lock_guard lock(self.tokens_mutex_);
        if (self.tokens_.erase(buffer) == 1) {
            delete[] static_cast<std::byte*>(buffer);
            return SEC_E_OK;
        }
    }
    return self.real().FreeContextBuffer(buffer);
}

} // namespace schan::test
