#include "backend/openssl/verification.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "backend/openssl/openssl_error.h"
#include "backend/openssl/openssl_handles.h"
#include "core/error.h"

namespace schan::openssl {

namespace {

using Asn1OctetStringPtr = std::unique_ptr<ASN1_OCTET_STRING, Deleter<ASN1_OCTET_STRING_free>>;

// Results that mean "the revocation status could not be determined", as
// opposed to "revoked" or "the CRL itself is broken".
bool is_revocation_unknown(int result) noexcept
{
    return result == X509_V_ERR_UNABLE_TO_GET_CRL || result == X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER ||
           result == X509_V_ERR_CRL_HAS_EXPIRED || result == X509_V_ERR_CRL_NOT_YET_VALID;
}

// Verify callback for SCHAN_REVOCATION_BEST_EFFORT: a certificate without
// a usable CRL passes, and every other failure still fails the handshake. The error is reset so
// that SSL_get_verify_result() reports X509_V_OK for the accepted chain.
int accept_unknown_revocation(int preverify_ok, X509_STORE_CTX* store_context)
{
    if (preverify_ok == 1)
        return 1;
    if (!is_revocation_unknown(X509_STORE_CTX_get_error(store_context)))
        return 0;
    X509_STORE_CTX_set_error(store_context, X509_V_OK);
    return 1;
}

void add_custom_certificates(X509_STORE* store, const Config& config)
{
    for (std::size_t i = 0; i < config.ca_certificates.size(); ++i) {
        const Der& der = config.ca_certificates[i];
        const auto* bytes = reinterpret_cast<const unsigned char*>(der.data());
        X509Ptr certificate(d2i_X509(nullptr, &bytes, static_cast<long>(der.size())));
        if (!certificate)
            fail_with_queue(SCHAN_E_BAD_FORMAT, "parsing CA certificate " + std::to_string(i + 1) +
                                                    " of the custom bundle (d2i_X509)");
        if (X509_STORE_add_cert(store, certificate.get()) != 1)
            fail_with_queue(SCHAN_E_INTERNAL, "adding CA certificate " + std::to_string(i + 1) +
                                                  " to the trust store (X509_STORE_add_cert)");
    }
}

// Returns a store with OpenSSL's default verify paths, or nullptr when it
// cannot be created. The default file (SSL_CERT_FILE, on Debian
// /usr/lib/ssl/cert.pem, the ca-certificates bundle) is parsed once per
// process, because parsing it took about 50 ms per session on the project's
// 2-core build machine. The default folder (SSL_CERT_DIR, on Debian
// /usr/lib/ssl/certs) is read on demand. Sessions share the store:
// X509_STORE is reference-counted and locks its own lookups.
// NOTE: roots added to the file later are seen only after a restart, and the
// store is never freed.
X509_STORE* system_roots()
{
    static X509_STORE* const store = [] {
        X509_STORE* created = X509_STORE_new();
        if (created != nullptr && X509_STORE_set_default_paths(created) != 1) {
            X509_STORE_free(created);
            created = nullptr;
        }
        ERR_clear_error();
        return created;
    }();
    return store;
}

// Copies the certificates and CRLs that the system store keeps in memory
// and adds the default folder, for a store that also trusts custom CAs.
void add_system_roots(X509_STORE* store, X509_STORE* roots)
{
    X509_STORE_lock(roots);
    STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(roots);
    for (int i = 0; i < sk_X509_OBJECT_num(objects); ++i) {
        const X509_OBJECT* object = sk_X509_OBJECT_value(objects, i);
        if (X509* certificate = X509_OBJECT_get0_X509(object))
            X509_STORE_add_cert(store, certificate);
        else if (X509_CRL* crl = X509_OBJECT_get0_X509_CRL(object))
            X509_STORE_add_crl(store, crl);
    }
    X509_STORE_unlock(roots);

    X509_LOOKUP* folder = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir());
    if (folder == nullptr || X509_LOOKUP_add_dir(folder, nullptr, X509_FILETYPE_DEFAULT) != 1)
        fail_with_queue(SCHAN_E_INTERNAL, "adding the system certificate folder (X509_LOOKUP_add_dir)");
}

void load_trust_anchors(SSL_CTX* context, const Config& config)
{
    const bool system = config.verify_mode == SCHAN_VERIFY_SYSTEM ||
                        config.verify_mode == SCHAN_VERIFY_CUSTOM_AND_SYSTEM;
    const bool custom = config.verify_mode == SCHAN_VERIFY_CUSTOM_ONLY ||
                        config.verify_mode == SCHAN_VERIFY_CUSTOM_AND_SYSTEM;

    X509_STORE* roots = system ? system_roots() : nullptr;
    if (system && roots == nullptr)
        fail(SCHAN_E_INTERNAL, "loading the system roots (X509_STORE_set_default_paths) failed");

    if (system && !custom) {
        SSL_CTX_set1_cert_store(context, roots);
        return;
    }
    if (system)
        add_system_roots(SSL_CTX_get_cert_store(context), roots);
    if (custom)
        add_custom_certificates(SSL_CTX_get_cert_store(context), config);
}

// OpenSSL checks revocation only against CRLs in the trust store (a
// SSL_CERT_DIR folder may hold them as <hash>.r0 files); it fetches neither
// CRLs nor OCSP responses. So, with OpenSSL:
//   BEST_EFFORT  every certificate of the chain is checked against the CRLs
//                that are present, and one without a CRL passes;
//   STRICT       every certificate of the chain needs a valid CRL from its
//                issuer, otherwise the handshake fails with
//                SCHAN_E_REVOCATION_UNKNOWN;
//   OFF          no CRL is looked at.
void configure_revocation(SSL_CTX* context, const Config& config, int peer_verify_flags)
{
    if (config.revocation_mode == SCHAN_REVOCATION_OFF) {
        SSL_CTX_set_verify(context, peer_verify_flags, nullptr);
        return;
    }

    X509_VERIFY_PARAM* parameters = SSL_CTX_get0_param(context);
    X509_VERIFY_PARAM_set_flags(parameters, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);

    const bool best_effort = config.revocation_mode == SCHAN_REVOCATION_BEST_EFFORT;
    SSL_CTX_set_verify(context, peer_verify_flags, best_effort ? accept_unknown_revocation : nullptr);
}

bool is_ip_literal(const std::string& name)
{
    const Asn1OctetStringPtr address(a2i_IPADDRESS(name.c_str()));
    return address != nullptr;
}

} // namespace

void configure_verification(SSL_CTX* context, const Config& config, int peer_verify_flags)
{
    if (config.verify_mode == SCHAN_VERIFY_NONE) {
        SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nullptr);
        return;
    }

    load_trust_anchors(context, config);
    configure_revocation(context, config, peer_verify_flags);
}

void configure_server_name(SSL* ssl, const std::string& server_name, schan_verify_mode mode)
{
    if (server_name.empty())
        return;

    const bool ip_literal = is_ip_literal(server_name);
    if (!ip_literal && SSL_set_tlsext_host_name(ssl, server_name.c_str()) != 1)
        fail_with_queue(SCHAN_E_INVALID_ARGUMENT, "setting SNI to '" + server_name + "' (SSL_set_tlsext_host_name)");
    if (mode == SCHAN_VERIFY_NONE)
        return;

    X509_VERIFY_PARAM* parameters = SSL_get0_param(ssl);
    if (ip_literal) {
        if (X509_VERIFY_PARAM_set1_ip_asc(parameters, server_name.c_str()) != 1)
            fail_with_queue(SCHAN_E_INVALID_ARGUMENT, "setting the expected IP address '" + server_name +
                                                          "' (X509_VERIFY_PARAM_set1_ip_asc)");
        return;
    }

    X509_VERIFY_PARAM_set_hostflags(parameters,
                                    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
    if (X509_VERIFY_PARAM_set1_host(parameters, server_name.c_str(), server_name.size()) != 1)
        fail_with_queue(SCHAN_E_INVALID_ARGUMENT, "setting the expected host name '" + server_name +
                                                      "' (X509_VERIFY_PARAM_set1_host)");
}

schan_status status_for_verify_result(long result) noexcept
{
    switch (result) {
    case X509_V_OK:
        return SCHAN_OK;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return SCHAN_E_CERT_EXPIRED;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
        return SCHAN_E_CERT_UNTRUSTED;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        return SCHAN_E_CERT_NAME_MISMATCH;
    case X509_V_ERR_CERT_REVOKED:
        return SCHAN_E_CERT_REVOKED;
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
        return SCHAN_E_REVOCATION_UNKNOWN;
    default:
        return SCHAN_E_CERT_INVALID;
    }
}

const char* verify_result_symbol(long result) noexcept
{
    switch (result) {
    case X509_V_OK: return "X509_V_OK";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT: return "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT";
    case X509_V_ERR_UNABLE_TO_GET_CRL: return "X509_V_ERR_UNABLE_TO_GET_CRL";
    case X509_V_ERR_CERT_SIGNATURE_FAILURE: return "X509_V_ERR_CERT_SIGNATURE_FAILURE";
    case X509_V_ERR_CRL_SIGNATURE_FAILURE: return "X509_V_ERR_CRL_SIGNATURE_FAILURE";
    case X509_V_ERR_CERT_NOT_YET_VALID: return "X509_V_ERR_CERT_NOT_YET_VALID";
    case X509_V_ERR_CERT_HAS_EXPIRED: return "X509_V_ERR_CERT_HAS_EXPIRED";
    case X509_V_ERR_CRL_NOT_YET_VALID: return "X509_V_ERR_CRL_NOT_YET_VALID";
    case X509_V_ERR_CRL_HAS_EXPIRED: return "X509_V_ERR_CRL_HAS_EXPIRED";
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT: return "X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT";
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN: return "X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY: return "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY";
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE: return "X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE";
    case X509_V_ERR_CERT_CHAIN_TOO_LONG: return "X509_V_ERR_CERT_CHAIN_TOO_LONG";
    case X509_V_ERR_CERT_REVOKED: return "X509_V_ERR_CERT_REVOKED";
    case X509_V_ERR_INVALID_CA: return "X509_V_ERR_INVALID_CA";
    case X509_V_ERR_PATH_LENGTH_EXCEEDED: return "X509_V_ERR_PATH_LENGTH_EXCEEDED";
    case X509_V_ERR_INVALID_PURPOSE: return "X509_V_ERR_INVALID_PURPOSE";
    case X509_V_ERR_CERT_UNTRUSTED: return "X509_V_ERR_CERT_UNTRUSTED";
    case X509_V_ERR_CERT_REJECTED: return "X509_V_ERR_CERT_REJECTED";
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER: return "X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER";
    case X509_V_ERR_KEYUSAGE_NO_CERTSIGN: return "X509_V_ERR_KEYUSAGE_NO_CERTSIGN";
    case X509_V_ERR_INVALID_EXTENSION: return "X509_V_ERR_INVALID_EXTENSION";
    case X509_V_ERR_HOSTNAME_MISMATCH: return "X509_V_ERR_HOSTNAME_MISMATCH";
    case X509_V_ERR_IP_ADDRESS_MISMATCH: return "X509_V_ERR_IP_ADDRESS_MISMATCH";
    case X509_V_ERR_EE_KEY_TOO_SMALL: return "X509_V_ERR_EE_KEY_TOO_SMALL";
    case X509_V_ERR_CA_KEY_TOO_SMALL: return "X509_V_ERR_CA_KEY_TOO_SMALL";
    case X509_V_ERR_CA_MD_TOO_WEAK: return "X509_V_ERR_CA_MD_TOO_WEAK";
    default: return nullptr;
    }
}

std::string describe_verify_result(long result)
{
    const char* symbol = verify_result_symbol(result);
    std::string text = symbol != nullptr ? symbol : "X509_V_ERR";
    text += " (" + std::to_string(result) + "): ";
    text += X509_verify_cert_error_string(result);
    return text;
}

} // namespace schan::openssl
