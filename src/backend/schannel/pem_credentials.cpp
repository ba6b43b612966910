// Loads a PEM certificate chain and private key into an in-memory store,
// with the key imported as an ephemeral key that nothing persists.
//
// RSA keys go into a new CryptoAPI key container (PROV_RSA_AES) that
// CERT_KEY_PROV_INFO_PROP_ID names and that is deleted with the credentials.
// Wine 8's SChannel reads client keys only from a named rsaenh container, so
// neither a CNG key nor an ephemeral CRYPT_VERIFYCONTEXT key reaches it.
// ECDSA keys have no CryptoAPI provider and go into an ephemeral CNG key that
// CERT_NCRYPT_KEY_HANDLE_PROP_ID names; Wine 8's SChannel cannot use those.
#include <windows.h>
#include <wincrypt.h>
#include <ncrypt.h>
#include <bcrypt.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "backend/schannel/certificate_credentials.h"
#include "backend/schannel/sspi_error.h"
#include "core/error.h"
#include "core/pem.h"
#include "core/secure_memory.h"

namespace schan {

namespace {

using schannel::CertificateCredentials;
using schannel::CertificateContext;
using schannel::CertificateStore;

// Key material passes through these buffers, so they are wiped when released.
using Bytes = std::vector<BYTE, WipingAllocator<BYTE>>;

enum class KeyFormat { pkcs8, rsa, ec };

struct PemKey {
    KeyFormat format;
    Bytes der;
};

// Wipes and frees memory that CryptDecodeObjectEx allocated
// (CRYPT_DECODE_ALLOC_FLAG), which may hold a decoded private key.
struct LocalMemory {
    void* pointer = nullptr;
    DWORD size = 0;
    LocalMemory() = default;
    LocalMemory(const LocalMemory&) = delete;
    LocalMemory& operator=(const LocalMemory&) = delete;
    ~LocalMemory()
    {
        if (pointer != nullptr)
            secure_wipe(pointer, size);
        LocalFree(pointer);
    }
};

Bytes decode_base64(std::string_view base64)
{
    DWORD size = 0;
    if (!CryptStringToBinaryA(base64.data(), static_cast<DWORD>(base64.size()), CRYPT_STRING_BASE64, nullptr, &size,
                              nullptr, nullptr))
        fail(SCHAN_E_BAD_FORMAT, "the PEM private key block contains invalid base64");
    Bytes der(size);
    if (!CryptStringToBinaryA(base64.data(), static_cast<DWORD>(base64.size()), CRYPT_STRING_BASE64, der.data(),
                              &size, nullptr, nullptr))
        fail(SCHAN_E_BAD_FORMAT, "the PEM private key block contains invalid base64");
    der.resize(size);
    return der;
}

// Finds the first private key block in `pem` (RFC 7468 labels).
PemKey find_pem_key(std::string_view pem)
{
    struct Label {
        std::string_view name;
        KeyFormat format;
    };
    constexpr Label kLabels[] = {
        {"PRIVATE KEY", KeyFormat::pkcs8}, {"RSA PRIVATE KEY", KeyFormat::rsa}, {"EC PRIVATE KEY", KeyFormat::ec}};

    if (pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string_view::npos)
        // NOTE: CryptoAPI has no PKCS#8 decryption (PBES2), so encrypted keys
        // need a PFX on Windows.
        fail(SCHAN_E_UNSUPPORTED, "encrypted PKCS#8 keys are not supported by the schannel backend; "
                                  "decrypt the key or use a PKCS#12 file");

    for (const Label& label : kLabels) {
        const std::string begin = "-----BEGIN " + std::string(label.name) + "-----";
        const std::string end = "-----END " + std::string(label.name) + "-----";
        const std::size_t start = pem.find(begin);
        if (start == std::string_view::npos)
            continue;
        const std::size_t body = start + begin.size();
        const std::size_t stop = pem.find(end, body);
        if (stop == std::string_view::npos)
            fail(SCHAN_E_BAD_FORMAT, "the PEM block " + begin + " is not closed");
        const std::string_view content = pem.substr(body, stop - body);
        if (content.find("Proc-Type:") != std::string_view::npos)
            fail(SCHAN_E_UNSUPPORTED, "encrypted traditional PEM keys are not supported by the schannel backend; "
                                      "decrypt the key or use a PKCS#12 file");
        return {label.format, decode_base64(content)};
    }
    fail(SCHAN_E_BAD_FORMAT, "no PEM private key block (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY) found");
}

// Decodes `data` as `type` into memory the caller frees.
void decode(LPCSTR type, const BYTE* data, DWORD size, LocalMemory& out, DWORD& out_size, const char* description)
{
    if (!CryptDecodeObjectEx(X509_ASN_ENCODING | PKCS_7_ASN_ENCODING, type, data, size, CRYPT_DECODE_ALLOC_FLAG,
                             nullptr, &out.pointer, &out_size))
        schannel::fail_last_error(SCHAN_E_BAD_FORMAT, std::string("decoding the ") + description);
    out.size = out_size;
}

// The key after decoding: a CryptoAPI PRIVATEKEYBLOB for RSA, or the
// ECPrivateKey fields for ECDSA.
struct DecodedKey {
    bool is_rsa = false;
    Bytes rsa_blob;            // PRIVATEKEYBLOB
    Bytes ec_private;          // the private scalar d
    Bytes ec_public;           // the uncompressed point 04||X||Y, empty when the key omits it
};

DecodedKey decode_rsa(const BYTE* data, DWORD size)
{
    LocalMemory blob;
    DWORD blob_size = 0;
    decode(PKCS_RSA_PRIVATE_KEY, data, size, blob, blob_size, "RSA private key");
    DecodedKey key;
    key.is_rsa = true;
    key.rsa_blob.assign(static_cast<BYTE*>(blob.pointer), static_cast<BYTE*>(blob.pointer) + blob_size);
    return key;
}

// One DER element: its tag and content.
struct DerElement {
    BYTE tag = 0;
    const BYTE* content = nullptr;
    std::size_t length = 0;
};

// Reads the DER element at `data` and advances `data` past it. Returns false
// for truncated data or a length form that DER does not allow.
bool read_der(const BYTE*& data, const BYTE* end, DerElement& element)
{
    if (end - data < 2)
        return false;
    element.tag = data[0];
    std::size_t length = data[1];
    const BYTE* content = data + 2;
    if (length & 0x80) {
        const std::size_t count = length & 0x7F;
        if (count == 0 || count > 4 || static_cast<std::size_t>(end - content) < count)
            return false;
        length = 0;
        for (std::size_t i = 0; i < count; ++i)
            length = (length << 8) | content[i];
        content += count;
    }
    if (static_cast<std::size_t>(end - content) < length)
        return false;
    element.content = content;
    element.length = length;
    data = content + length;
    return true;
}

// Parses ECPrivateKey (RFC 5915): SEQUENCE { INTEGER 1, OCTET STRING d,
// [0] parameters OPTIONAL, [1] BIT STRING publicKey OPTIONAL }. Wine 8's
// crypt32 has no decoder for X509_ECC_PRIVATE_KEY, so this reads it itself.
DecodedKey decode_ec(const BYTE* data, DWORD size)
{
    const BYTE* end = data + size;
    DerElement key, version, scalar;
    if (!read_der(data, end, key) || key.tag != 0x30)
        fail(SCHAN_E_BAD_FORMAT, "the EC private key is not a DER SEQUENCE");

    const BYTE* field = key.content;
    const BYTE* const fields_end = key.content + key.length;
    if (!read_der(field, fields_end, version) || version.tag != 0x02 || !read_der(field, fields_end, scalar) ||
        scalar.tag != 0x04)
        fail(SCHAN_E_BAD_FORMAT, "the EC private key is malformed");

    DecodedKey decoded;
    decoded.ec_private.assign(scalar.content, scalar.content + scalar.length);
    DerElement optional;
    while (field < fields_end) {
        if (!read_der(field, fields_end, optional))
            fail(SCHAN_E_BAD_FORMAT, "the EC private key is malformed");
        if (optional.tag != 0xA1)
            continue;
        // [1] contains a BIT STRING whose first byte counts the unused bits.
        const BYTE* inner = optional.content;
        DerElement bits;
        if (!read_der(inner, optional.content + optional.length, bits) || bits.tag != 0x03 || bits.length < 2 ||
            bits.content[0] != 0)
            fail(SCHAN_E_BAD_FORMAT, "the EC private key's public key is malformed");
        decoded.ec_public.assign(bits.content + 1, bits.content + bits.length);
    }
    return decoded;
}

// The DER content of the OIDs that PKCS#8 keys name: rsaEncryption
// (1.2.840.113549.1.1.1) and id-ecPublicKey (1.2.840.10045.2.1).
constexpr BYTE kRsaEncryption[] = {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01};
constexpr BYTE kEcPublicKey[] = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01};

bool is_oid(const DerElement& element, gsl::span<const BYTE> oid)
{
    return element.tag == 0x06 && element.length == oid.size() &&
           std::equal(oid.begin(), oid.end(), element.content);
}

// Parses PrivateKeyInfo (RFC 5208): SEQUENCE { INTEGER version,
// AlgorithmIdentifier, OCTET STRING privateKey, ... }. Wine 8's crypt32 has
// no decoder for PKCS_PRIVATE_KEY_INFO (CryptDecodeObjectEx fails with
// ERROR_FILE_NOT_FOUND), so this reads the three fields itself.
DecodedKey decode_pkcs8(const Bytes& der)
{
    const BYTE* data = der.data();
    const BYTE* const end = der.data() + der.size();
    DerElement info, version, algorithm, oid, key;
    if (!read_der(data, end, info) || info.tag != 0x30)
        fail(SCHAN_E_BAD_FORMAT, "the PKCS#8 private key is not a DER SEQUENCE");

    const BYTE* field = info.content;
    const BYTE* const fields_end = info.content + info.length;
    if (!read_der(field, fields_end, version) || version.tag != 0x02 || !read_der(field, fields_end, algorithm) ||
        algorithm.tag != 0x30 || !read_der(field, fields_end, key) || key.tag != 0x04)
        fail(SCHAN_E_BAD_FORMAT, "the PKCS#8 private key is malformed");

    const BYTE* algorithm_field = algorithm.content;
    if (!read_der(algorithm_field, algorithm.content + algorithm.length, oid) || oid.tag != 0x06)
        fail(SCHAN_E_BAD_FORMAT, "the PKCS#8 private key names no algorithm");

    const auto key_size = static_cast<DWORD>(key.length);
    if (is_oid(oid, kRsaEncryption))
        return decode_rsa(key.content, key_size);
    if (is_oid(oid, kEcPublicKey))
        return decode_ec(key.content, key_size);
    fail(SCHAN_E_UNSUPPORTED, "the PKCS#8 private key's algorithm is not supported by the schannel backend "
                              "(RSA and ECDSA are)");
}

DecodedKey decode_key(const PemKey& pem)
{
    const auto size = static_cast<DWORD>(pem.der.size());
    if (pem.format == KeyFormat::rsa)
        return decode_rsa(pem.der.data(), size);
    if (pem.format == KeyFormat::ec)
        return decode_ec(pem.der.data(), size);
    return decode_pkcs8(pem.der);
}

// Returns the certificate's RSA public key as a PUBLICKEYBLOB.
Bytes rsa_public_blob(PCCERT_CONTEXT certificate)
{
    const CRYPT_BIT_BLOB& key = certificate->pCertInfo->SubjectPublicKeyInfo.PublicKey;
    LocalMemory blob;
    DWORD blob_size = 0;
    decode(RSA_CSP_PUBLICKEYBLOB, key.pbData, key.cbData, blob, blob_size, "certificate's RSA public key");
    return Bytes(static_cast<BYTE*>(blob.pointer), static_cast<BYTE*>(blob.pointer) + blob_size);
}

// Both blobs start with BLOBHEADER, RSAPUBKEY (bit length, exponent) and the
// modulus, so the key matches when those bytes after the header match.
bool rsa_key_matches(const Bytes& private_blob, const Bytes& public_blob)
{
    if (public_blob.size() < sizeof(BLOBHEADER) + sizeof(RSAPUBKEY))
        return false;
    const auto* header = reinterpret_cast<const RSAPUBKEY*>(public_blob.data() + sizeof(BLOBHEADER));
    const std::size_t compared = sizeof(RSAPUBKEY) + header->bitlen / 8;
    if (public_blob.size() < sizeof(BLOBHEADER) + compared || private_blob.size() < sizeof(BLOBHEADER) + compared)
        return false;
    // The magic differs ("RSA1" against "RSA2"), so compare from bitlen on.
    const std::size_t from = sizeof(BLOBHEADER) + offsetof(RSAPUBKEY, bitlen);
    return std::equal(public_blob.begin() + from, public_blob.begin() + sizeof(BLOBHEADER) + compared,
                      private_blob.begin() + from);
}

bool is_rsa_certificate(PCCERT_CONTEXT certificate)
{
    return std::string_view(certificate->pCertInfo->SubjectPublicKeyInfo.Algorithm.pszObjId) == szOID_RSA_RSA;
}

void attach_rsa_key(CertificateCredentials& credentials, DecodedKey& key)
{
    if (!is_rsa_certificate(credentials.context()) ||
        !rsa_key_matches(key.rsa_blob, rsa_public_blob(credentials.context())))
        fail(SCHAN_E_KEY_MISMATCH, "the private key does not belong to the certificate");

    // SChannel signs TLS 1.2 handshakes with SHA-256, which only the AES
    // provider offers for CryptoAPI keys.
    credentials.container.create();

    // SChannel uses the key exchange key of the container.
    reinterpret_cast<BLOBHEADER*>(key.rsa_blob.data())->aiKeyAlg = CALG_RSA_KEYX;
    HCRYPTKEY imported = 0;
    if (!CryptImportKey(credentials.container.provider(), key.rsa_blob.data(),
                        static_cast<DWORD>(key.rsa_blob.size()), 0, 0, &imported))
        schannel::fail_last_error(SCHAN_E_BAD_FORMAT, "CryptImportKey of the RSA private key");
    CryptDestroyKey(imported);  // the container keeps the key pair

    CRYPT_KEY_PROV_INFO info{};
    info.pwszContainerName = const_cast<wchar_t*>(credentials.container.name().c_str());
    info.pwszProvName = const_cast<wchar_t*>(MS_ENH_RSA_AES_PROV_W);
    info.dwProvType = PROV_RSA_AES;
    info.dwKeySpec = AT_KEYEXCHANGE;
    if (!CertSetCertificateContextProperty(credentials.context(), CERT_KEY_PROV_INFO_PROP_ID, 0, &info))
        schannel::fail_last_error(SCHAN_E_INTERNAL, "CertSetCertificateContextProperty(CERT_KEY_PROV_INFO_PROP_ID)");
}

// Returns the BCRYPT_ECCPRIVATE_BLOB of a NIST P-256, P-384 or P-521 key.
Bytes ecc_private_blob(const Bytes& public_point, const Bytes& private_scalar)
{
    const std::size_t coordinate = (public_point.size() - 1) / 2;
    ULONG magic = 0;
    switch (coordinate) {
    case 32: magic = BCRYPT_ECDSA_PRIVATE_P256_MAGIC; break;
    case 48: magic = BCRYPT_ECDSA_PRIVATE_P384_MAGIC; break;
    case 66: magic = BCRYPT_ECDSA_PRIVATE_P521_MAGIC; break;
    default:
        fail(SCHAN_E_UNSUPPORTED, "the ECDSA key's curve is not supported (P-256, P-384 and P-521 are)");
    }
    if (private_scalar.size() > coordinate)
        fail(SCHAN_E_BAD_FORMAT, "the EC private key is longer than its curve allows");

    Bytes blob(sizeof(BCRYPT_ECCKEY_BLOB) + 3 * coordinate, 0);
    auto* header = reinterpret_cast<BCRYPT_ECCKEY_BLOB*>(blob.data());
    header->dwMagic = magic;
    header->cbKey = static_cast<ULONG>(coordinate);
    BYTE* x_and_y = blob.data() + sizeof(BCRYPT_ECCKEY_BLOB);
    std::memcpy(x_and_y, public_point.data() + 1, 2 * coordinate);
    // d is big-endian and may have lost leading zero bytes.
    BYTE* d = x_and_y + 2 * coordinate;
    std::memcpy(d + coordinate - private_scalar.size(), private_scalar.data(), private_scalar.size());
    return blob;
}

void attach_ec_key(CertificateCredentials& credentials, const DecodedKey& key)
{
    const CRYPT_BIT_BLOB& certificate_point = credentials.context()->pCertInfo->SubjectPublicKeyInfo.PublicKey;
    const Bytes point(certificate_point.pbData, certificate_point.pbData + certificate_point.cbData);
    if (std::string_view(credentials.context()->pCertInfo->SubjectPublicKeyInfo.Algorithm.pszObjId) !=
            szOID_ECC_PUBLIC_KEY ||
        point.size() < 3 || point[0] != 0x04)
        fail(SCHAN_E_KEY_MISMATCH, "the ECDSA private key does not belong to the certificate");
    // NOTE: an ECPrivateKey without its optional public key is trusted to
    // match; the signature in the handshake is the first check then.
    if (!key.ec_public.empty() && key.ec_public != point)
        fail(SCHAN_E_KEY_MISMATCH, "the private key does not belong to the certificate");

    const Bytes blob = ecc_private_blob(point, key.ec_private);
    NCRYPT_PROV_HANDLE provider = 0;
    SECURITY_STATUS status = NCryptOpenStorageProvider(&provider, MS_KEY_STORAGE_PROVIDER, 0);
    if (status != ERROR_SUCCESS)
        schannel::fail_sspi(SCHAN_E_UNSUPPORTED, "NCryptOpenStorageProvider", status);
    // A key imported without a name is ephemeral: it lives only in this handle.
    status = NCryptImportKey(provider, 0, BCRYPT_ECCPRIVATE_BLOB, nullptr, credentials.ncrypt_key.receive(),
                             const_cast<BYTE*>(blob.data()), static_cast<DWORD>(blob.size()), 0);
    NCryptFreeObject(provider);
    if (status != ERROR_SUCCESS)
        schannel::fail_sspi(SCHAN_E_UNSUPPORTED, "NCryptImportKey of the ECDSA private key", status);

    const NCRYPT_KEY_HANDLE handle = credentials.ncrypt_key.get();
    if (!CertSetCertificateContextProperty(credentials.context(), CERT_NCRYPT_KEY_HANDLE_PROP_ID,
                                           CERT_STORE_NO_CRYPT_RELEASE_FLAG, &handle))
        schannel::fail_last_error(SCHAN_E_INTERNAL,
                                  "CertSetCertificateContextProperty(CERT_NCRYPT_KEY_HANDLE_PROP_ID)");
}

// Adds every certificate to a new memory store; the first one is the leaf.
void load_chain(CertificateCredentials& credentials, std::string_view certificate_pem)
{
    const std::vector<Der> chain = parse_pem_certificates(certificate_pem);
    credentials.store = CertificateStore(CertOpenStore(CERT_STORE_PROV_MEMORY, 0, 0, CERT_STORE_CREATE_NEW_FLAG,
                                                       nullptr));
    if (credentials.store.get() == nullptr)
        schannel::fail_last_error(SCHAN_E_INTERNAL, "CertOpenStore(memory)");

    for (std::size_t i = 0; i < chain.size(); ++i) {
        PCCERT_CONTEXT added = nullptr;
        if (!CertAddEncodedCertificateToStore(credentials.store.get(), X509_ASN_ENCODING,
                                              reinterpret_cast<const BYTE*>(chain[i].data()),
                                              static_cast<DWORD>(chain[i].size()), CERT_STORE_ADD_ALWAYS,
                                              i == 0 ? &added : nullptr))
            schannel::fail_last_error(SCHAN_E_BAD_FORMAT,
                                      "decoding PEM certificate " + std::to_string(i + 1) + " of the chain");
        if (i == 0)
            credentials.certificate = CertificateContext(added);
    }
}

} // namespace

CredentialsPtr load_pem_credentials(std::string_view certificate_pem, std::string_view key_pem,
                                    const char* password)
{
    if (password != nullptr && *password != '\0')
        // NOTE: only unencrypted PEM keys are supported; see find_pem_key().
        fail(SCHAN_E_UNSUPPORTED, "the schannel backend cannot decrypt PEM keys, so a password is not "
                                  "supported; decrypt the key or use a PKCS#12 file");

    auto credentials = std::make_shared<CertificateCredentials>();
    load_chain(*credentials, certificate_pem);

    DecodedKey key = decode_key(find_pem_key(key_pem));
    if (key.is_rsa)
        attach_rsa_key(*credentials, key);
    else
        attach_ec_key(*credentials, key);
    return credentials;
}

} // namespace schan
