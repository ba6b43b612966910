// RAII owners of the SSPI and CryptoAPI handles that the SChannel backend
// holds. SSPI handles are released through the function table of sspi(),
// the same table that created them.
#pragma once

#include <windows.h>
#include <sspi.h>
#include <wincrypt.h>

#include <utility>

#include "backend/schannel/sspi_table.h"

namespace schan::schannel {

// Owns a CredHandle from AcquireCredentialsHandleW.
class CredentialsHandle {
public:
    CredentialsHandle() noexcept { SecInvalidateHandle(&handle_); }
    CredentialsHandle(const CredentialsHandle&) = delete;
    CredentialsHandle& operator=(const CredentialsHandle&) = delete;
    CredentialsHandle(CredentialsHandle&& other) noexcept : handle_(other.release()) {}
    CredentialsHandle& operator=(CredentialsHandle&& other) noexcept
    {
        if (this != &other) {
            reset();
            handle_ = other.release();
        }
        return *this;
    }
    ~CredentialsHandle() { reset(); }

    [[nodiscard]] bool valid() const noexcept { return SecIsValidHandle(&handle_); }
    [[nodiscard]] CredHandle* get() noexcept { return &handle_; }

    // Releases the current handle and returns the address for an output parameter.
    [[nodiscard]] CredHandle* receive() noexcept
    {
        reset();
        return &handle_;
    }

    void reset() noexcept
    {
        if (valid())
            sspi_free_credentials();
        SecInvalidateHandle(&handle_);
    }

private:
    CredHandle release() noexcept
    {
        CredHandle handle = handle_;
        SecInvalidateHandle(&handle_);
        return handle;
    }

    void sspi_free_credentials() noexcept
    {
        try {
            sspi().FreeCredentialsHandle(&handle_);
        } catch (...) {
            // sspi() throws only when no table exists, and then no handle does.
        }
    }

    CredHandle handle_;
};

// Owns a CtxtHandle from InitializeSecurityContextW.
class ContextHandle {
public:
    ContextHandle() noexcept { SecInvalidateHandle(&handle_); }
    ContextHandle(const ContextHandle&) = delete;
    ContextHandle& operator=(const ContextHandle&) = delete;
    ContextHandle(ContextHandle&& other) noexcept : handle_(other.release()) {}
    ContextHandle& operator=(ContextHandle&& other) noexcept
    {
        if (this != &other) {
            reset();
            handle_ = other.release();
        }
        return *this;
    }
    ~ContextHandle() { reset(); }

    [[nodiscard]] bool valid() const noexcept { return SecIsValidHandle(&handle_); }
    [[nodiscard]] CtxtHandle* get() noexcept { return valid() ? &handle_ : nullptr; }

    // Releases the current handle and returns the address for an output parameter.
    [[nodiscard]] CtxtHandle* receive() noexcept
    {
        reset();
        return &handle_;
    }

    void reset() noexcept
    {
        if (valid()) {
            try {
                sspi().DeleteSecurityContext(&handle_);
            } catch (...) {
                // sspi() throws only when no table exists, and then no handle does.
            }
        }
        SecInvalidateHandle(&handle_);
    }

private:
    CtxtHandle release() noexcept
    {
        CtxtHandle handle = handle_;
        SecInvalidateHandle(&handle_);
        return handle;
    }

    CtxtHandle handle_;
};

// Owns memory that SSPI allocated for the caller (ISC_REQ_ALLOCATE_MEMORY
// output tokens), released with FreeContextBuffer.
class ContextBuffer {
public:
    ContextBuffer() noexcept = default;
    explicit ContextBuffer(void* buffer) noexcept : buffer_(buffer) {}
    ContextBuffer(const ContextBuffer&) = delete;
    ContextBuffer& operator=(const ContextBuffer&) = delete;
    ContextBuffer(ContextBuffer&& other) noexcept : buffer_(std::exchange(other.buffer_, nullptr)) {}
    ContextBuffer& operator=(ContextBuffer&& other) noexcept
    {
        if (this != &other) {
            reset();
            buffer_ = std::exchange(other.buffer_, nullptr);
        }
        return *this;
    }
    ~ContextBuffer() { reset(); }

    [[nodiscard]] void* get() const noexcept { return buffer_; }

    void reset() noexcept
    {
        if (buffer_ != nullptr) {
            try {
                sspi().FreeContextBuffer(buffer_);
            } catch (...) {
                // sspi() throws only when no table exists, and then no buffer does.
            }
        }
        buffer_ = nullptr;
    }

private:
    void* buffer_ = nullptr;
};

// Owns a PCCERT_CONTEXT, released with CertFreeCertificateContext.
class CertificateContext {
public:
    CertificateContext() noexcept = default;
    explicit CertificateContext(PCCERT_CONTEXT context) noexcept : context_(context) {}
    CertificateContext(const CertificateContext&) = delete;
    CertificateContext& operator=(const CertificateContext&) = delete;
    CertificateContext(CertificateContext&& other) noexcept : context_(std::exchange(other.context_, nullptr)) {}
    CertificateContext& operator=(CertificateContext&& other) noexcept
    {
        if (this != &other) {
            reset();
            context_ = std::exchange(other.context_, nullptr);
        }
        return *this;
    }
    ~CertificateContext() { reset(); }

    [[nodiscard]] PCCERT_CONTEXT get() const noexcept { return context_; }

    // Releases the current context and returns the address for an output parameter.
    [[nodiscard]] PCCERT_CONTEXT* receive() noexcept
    {
        reset();
        return &context_;
    }

    void reset() noexcept
    {
        if (context_ != nullptr)
            CertFreeCertificateContext(context_);
        context_ = nullptr;
    }

private:
    PCCERT_CONTEXT context_ = nullptr;
};

// Owns an HCERTSTORE, closed with CertCloseStore.
class CertificateStore {
public:
    CertificateStore() noexcept = default;
    explicit CertificateStore(HCERTSTORE store) noexcept : store_(store) {}
    CertificateStore(const CertificateStore&) = delete;
    CertificateStore& operator=(const CertificateStore&) = delete;
    CertificateStore(CertificateStore&& other) noexcept : store_(std::exchange(other.store_, nullptr)) {}
    CertificateStore& operator=(CertificateStore&& other) noexcept
    {
        if (this != &other) {
            reset();
            store_ = std::exchange(other.store_, nullptr);
        }
        return *this;
    }
    ~CertificateStore() { reset(); }

    [[nodiscard]] HCERTSTORE get() const noexcept { return store_; }

    void reset() noexcept
    {
        if (store_ != nullptr)
            CertCloseStore(store_, 0);
        store_ = nullptr;
    }

private:
    HCERTSTORE store_ = nullptr;
};

} // namespace schan::schannel
