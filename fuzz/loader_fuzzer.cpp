// The certificate and key loaders of the C ABI with arbitrary contents:
// CA bundles, certificate chains with keys (PEM) and PKCS#12 files. The
// input format is described by LoaderInput in fuzz_support.h. Every call
// must return one of the statuses schan.h documents for it.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>

#include "fuzz_support.h"

namespace {

using schan::fuzz::LoaderInput;

// Aborts unless `status` is one that schan.h documents for the call. An
// empty buffer may also be rejected as an invalid argument.
void expect_status(schan_status status, std::initializer_list<schan_status> documented, const char* call,
                   std::size_t length)
{
    if (status == SCHAN_E_INVALID_ARGUMENT && length == 0)
        return;
    for (const schan_status allowed : documented) {
        if (status == allowed)
            return;
    }
    std::fprintf(stderr, "%s returned the undocumented status %s\n", call, schan_status_name(status));
    std::abort();
}

void load_chain(schan_config* config, const char* data, std::size_t size, const char* password)
{
    if (size < 2)
        return;
    const std::size_t certificate_length = std::min<std::size_t>(
        static_cast<unsigned char>(data[0]) << 8 | static_cast<unsigned char>(data[1]), size - 2);
    const char* certificate = data + 2;
    const char* key = certificate + certificate_length;
    const std::size_t key_length = size - 2 - certificate_length;

    const schan_status status = schan_config_load_cert_chain_pem(
        config, certificate, certificate_length, key_length > 0 ? key : nullptr, key_length, password);
    expect_status(status,
                  {SCHAN_OK, SCHAN_E_BAD_FORMAT, SCHAN_E_BAD_PASSWORD, SCHAN_E_KEY_MISMATCH, SCHAN_E_CERT_INVALID},
                  "schan_config_load_cert_chain_pem", certificate_length);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    schan_config* config = nullptr;
    if (schan_config_new(&config) != SCHAN_OK)
        std::abort();

    const char* contents = reinterpret_cast<const char*>(data + 1);
    const std::size_t length = size - 1;
    switch (static_cast<LoaderInput>(data[0] % 5)) {
    case LoaderInput::ca_pem:
        expect_status(schan_config_load_ca_pem(config, contents, length), {SCHAN_OK, SCHAN_E_BAD_FORMAT},
                      "schan_config_load_ca_pem", length);
        break;
    case LoaderInput::chain_pem: load_chain(config, contents, length, nullptr); break;
    case LoaderInput::chain_pem_password: load_chain(config, contents, length, "secret"); break;
    case LoaderInput::pkcs12:
    case LoaderInput::pkcs12_no_password: {
        const char* password = data[0] % 5 == 2 ? "secret" : nullptr;
        expect_status(schan_config_load_pkcs12(config, data + 1, length, password),
                      {SCHAN_OK, SCHAN_E_BAD_FORMAT, SCHAN_E_BAD_PASSWORD, SCHAN_E_KEY_MISMATCH,
                       SCHAN_E_CERT_INVALID},
                      "schan_config_load_pkcs12", length);
        break;
    }
    }
    schan_config_free(config);
    return 0;
}
