// A wrapper around the system's SSPI function table for tests. While an
// SspiInjection exists, every schan session calls SSPI through it. Each hook
// that a test sets runs in place of the real function and may call real()
// itself, so a hook can inject a status that only real Windows returns.
#pragma once

#include <windows.h>
#include <sspi.h>

#include <cstddef>
#include <functional>
#include <mutex>
#include <set>
#include <vector>

namespace schan::test {

class SspiInjection {
public:
    using AcquireCredentials = std::function<SECURITY_STATUS(SEC_WCHAR* principal, SEC_WCHAR* package, ULONG use,
                                                             void* logon_id, void* auth_data, SEC_GET_KEY_FN get_key,
                                                             void* get_key_argument, PCredHandle credentials,
                                                             PTimeStamp expiry)>;
    using QueryCredentialsAttributes =
        std::function<SECURITY_STATUS(PCredHandle credentials, ULONG attribute, void* buffer)>;
    using InitializeContext = std::function<SECURITY_STATUS(
        PCredHandle credentials, PCtxtHandle context, SEC_WCHAR* target, ULONG request, ULONG reserved1,
        ULONG representation, PSecBufferDesc input, ULONG reserved2, PCtxtHandle new_context, PSecBufferDesc output,
        ULONG* attributes, PTimeStamp expiry)>;
    using QueryContextAttributes = std::function<SECURITY_STATUS(PCtxtHandle context, ULONG attribute, void* buffer)>;
    using ApplyControlToken = std::function<SECURITY_STATUS(PCtxtHandle context, PSecBufferDesc input)>;
    using DecryptMessage =
        std::function<SECURITY_STATUS(PCtxtHandle context, PSecBufferDesc message, ULONG sequence, ULONG* quality)>;

    // Installs the wrapper with schan::schannel::set_sspi_table_for_testing.
    // One instance at a time.
    SspiInjection();
    ~SspiInjection();
    SspiInjection(const SspiInjection&) = delete;
    SspiInjection& operator=(const SspiInjection&) = delete;

    // The system's table, for hooks that forward.
    [[nodiscard]] const SecurityFunctionTableW& real() const;

    // Copies `bytes` into memory that the wrapper's FreeContextBuffer
    // releases, so a hook can return it as an ISC_REQ_ALLOCATE_MEMORY token.
    void* allocate_token(const std::vector<std::byte>& bytes);

    AcquireCredentials acquire_credentials;
    QueryCredentialsAttributes query_credentials_attributes;
    InitializeContext initialize_context;
    QueryContextAttributes query_context_attributes;
    ApplyControlToken apply_control_token;
    DecryptMessage decrypt_message;

private:
    static SECURITY_STATUS SEC_ENTRY acquire_credentials_entry(SEC_WCHAR*, SEC_WCHAR*, ULONG, void*, void*,
                                                               SEC_GET_KEY_FN, void*, PCredHandle, PTimeStamp);
    static SECURITY_STATUS SEC_ENTRY query_credentials_attributes_entry(PCredHandle, ULONG, void*);
    static SECURITY_STATUS SEC_ENTRY initialize_context_entry(PCredHandle, PCtxtHandle, SEC_WCHAR*, ULONG, ULONG,
                                                              ULONG, PSecBufferDesc, ULONG, PCtxtHandle,
                                                              PSecBufferDesc, ULONG*, PTimeStamp);
    static SECURITY_STATUS SEC_ENTRY query_context_attributes_entry(PCtxtHandle, ULONG, void*);
    static SECURITY_STATUS SEC_ENTRY apply_control_token_entry(PCtxtHandle, PSecBufferDesc);
    static SECURITY_STATUS SEC_ENTRY decrypt_message_entry(PCtxtHandle, PSecBufferDesc, ULONG, ULONG*);
    static SECURITY_STATUS SEC_ENTRY free_context_buffer_entry(void*);

    SecurityFunctionTableW table_;
    std::mutex tokens_mutex_;
    std::set<void*> tokens_;  // memory from allocate_token() not yet freed
};

} // namespace schan::test
