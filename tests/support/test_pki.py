#!/usr/bin/env python3
"""Generate the test PKI with the openssl command line tool.

Keep FILES and the list in tests/support/peers.h (class Pki) in sync. Keys are
RSA 2048 except leaf-ec, client-ec and client-ec-traditional (ECDSA P-256) and long-leaf (RSA 4096), all
certificates are signed with SHA-256 and every serial number is random, so
no two runs produce the same certificate. Every key is distinct, because
tests pair a certificate with another file's key (leaf.pem with
client.key, for example) to provoke SCHAN_E_KEY_MISMATCH.

Run it by hand with `test_pki.py FOLDER` to inspect the files.
"""

import concurrent.futures
import os
import re
import secrets
import shutil
import subprocess
import sys

# Every file generate() writes. Each certificate NAME.pem has its key NAME.key.
FILES = (
    "root.pem", "root.key", "inter.pem", "inter.key",
    "leaf.pem", "leaf.key", "leaf-chain.pem",
    "leaf-ip.pem", "leaf-ip.key", "leaf-dns-ip.pem", "leaf-dns-ip.key",
    "wrong-name.pem", "wrong-name.key", "expired.pem", "expired.key",
    "foreign-root.pem", "foreign-root.key", "foreign-leaf.pem", "foreign-leaf.key",
    "self-signed.pem", "self-signed.key", "leaf-ec.pem", "leaf-ec.key",
    "inter2.pem", "inter2.key", "inter3.pem", "inter3.key",
    "inter4.pem", "inter4.key", "inter5.pem", "inter5.key",
    "long-chain.pem", "long-leaf.pem", "long-leaf.key",
    "client.pem", "client.key", "client-ec.pem", "client-ec.key",
    "client-rsa-traditional.pem", "client-rsa-traditional.key",
    "client-ec-traditional.pem", "client-ec-traditional.key",
    "leaf.p12", "client.p12", "leaf-legacy.p12", "leaf-nopass.p12",
    "client-legacy.p12", "client-nopass.p12", "client-empty.p12", "client-legacy-empty.p12",
    "client-ca.pem", "client-root.pem", "client-root.key", "client-root.p12",
)

P12_PASSWORD = "secret"
VALID_DAYS = 3650

# Extension sections for `openssl req -x509`, `x509 -req` and `ca`.
EXTENSIONS = """\
[req]
distinguished_name = req_dn
prompt = no

[req_dn]
CN = unused

[root_ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[intermediate_ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[server_localhost]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:localhost

[server_localhost_ec]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:localhost

[server_ip]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = IP:127.0.0.1, IP:::1

[server_dns_ip]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:127.0.0.1

[server_wrong_name]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:wrong.example

[self_signed]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = DNS:localhost

[client]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

# `openssl ca` is used only for expired.pem, because `x509 -req` in
# OpenSSL 3.0 cannot set a notBefore in the past.
[ca]
default_ca = backdating_ca

[backdating_ca]
database = ca-index.txt
new_certs_dir = ca-new
certificate = inter.pem
private_key = inter.key
default_md = sha256
policy = any_subject
unique_subject = no
rand_serial = yes
copy_extensions = none

[any_subject]
commonName = supplied
"""

# name: (key type, subject, issuer or None for self-signed, extension section)
# Issuers come before the certificates they sign.
CERTIFICATES = (
    ("root", "rsa", "/CN=schan test root", None, "root_ca"),
    ("inter", "rsa", "/CN=schan test intermediate", "root", "intermediate_ca"),
    ("leaf", "rsa", "/CN=localhost", "inter", "server_localhost"),
    ("leaf-ip", "rsa", "/CN=schan test IP leaf", "inter", "server_ip"),
    ("leaf-dns-ip", "rsa", "/CN=schan test DNS-name-127.0.0.1 leaf", "inter", "server_dns_ip"),
    ("wrong-name", "rsa", "/CN=wrong.example", "inter", "server_wrong_name"),
    ("foreign-root", "rsa", "/CN=schan foreign root", None, "root_ca"),
    ("foreign-leaf", "rsa", "/CN=localhost", "foreign-root", "server_localhost"),
    ("self-signed", "rsa", "/CN=localhost", None, "self_signed"),
    ("leaf-ec", "ec", "/CN=localhost", "inter", "server_localhost_ec"),
    ("inter2", "rsa", "/CN=schan test intermediate 2", "inter", "intermediate_ca"),
    ("inter3", "rsa", "/CN=schan test intermediate 3", "inter2", "intermediate_ca"),
    ("inter4", "rsa", "/CN=schan test intermediate 4", "inter3", "intermediate_ca"),
    ("inter5", "rsa", "/CN=schan test intermediate 5", "inter4", "intermediate_ca"),
    ("long-leaf", "rsa4096", "/CN=localhost", "inter5", "server_localhost"),
    ("client", "rsa", "/CN=schan test client", "inter", "client"),
    ("client-ec", "ec", "/CN=schan test ECDSA client", "inter", "client"),
    ("client-rsa-traditional", "rsa", "/CN=schan test traditional RSA client", "inter", "client"),
    ("client-ec-traditional", "ec", "/CN=schan test traditional ECDSA client", "inter", "client"),
    # Issued by the root itself. Wine 8 sends a client certificate only when
    # the server's CertificateRequest names its issuer, and a server with
    # -CAfile root.pem names only the root.
    ("client-root", "rsa", "/CN=schan test root-issued client", "root", "client"),
)

KEY_OPTIONS = {
    "rsa": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    "rsa4096": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:4096"],
    "ec": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
}


def openssl(folder, *args):
    result = subprocess.run(["openssl", *args], cwd=folder, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    if result.returncode != 0:
        raise RuntimeError("openssl %s failed with exit code %d: %s"
                           % (" ".join(args), result.returncode, result.stdout.decode(errors="replace")))


def random_serial():
    return "0x%x" % (secrets.randbits(63) | 1)


def rsa_fields_are_full_length(folder, name):
    """Return whether the private exponent and the CRT fields of an RSA key
    need all the bytes their size allows (no leading zero byte)."""
    text = subprocess.run(["openssl", "rsa", "-in", name + ".key", "-noout", "-text"], cwd=folder,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=60, check=True).stdout
    fields = {}
    for match in re.finditer(r"^(\w+):\s*\n((?:\s+[0-9a-f:]+\n)+)", text, re.M):
        value = bytes.fromhex(re.sub(r"[\s:]", "", match.group(2))).lstrip(b"\0")
        fields[match.group(1)] = len(value)
    modulus = fields["modulus"]
    half = (modulus + 1) // 2
    return fields["privateExponent"] == modulus and all(
        fields[field] == half for field in ("prime1", "prime2", "exponent1", "exponent2", "coefficient"))


def make_key(folder, name, key_type):
    # NOTE: Wine 8's PFXImportCertStore corrupts an RSA key whose private
    # exponent or CRT field is one byte shorter than usual (estimated at 2%
    # of keys: about 1 in 256 per field), and SChannel then fails to sign
    # with it ("Public key signing has failed"). Whether Windows does is not
    # known. The generator skips such keys.
    while True:
        openssl(folder, "genpkey", *KEY_OPTIONS[key_type], "-out", name + ".key")
        if not key_type.startswith("rsa") or rsa_fields_are_full_length(folder, name):
            return


def make_certificate(folder, name, subject, issuer, section):
    if issuer is None:
        openssl(folder, "req", "-x509", "-new", "-key", name + ".key", "-subj", subject,
                "-config", "extensions.cnf", "-extensions", section, "-sha256",
                "-days", str(VALID_DAYS), "-set_serial", random_serial(), "-out", name + ".pem")
        return
    openssl(folder, "req", "-new", "-key", name + ".key", "-subj", subject,
            "-config", "extensions.cnf", "-out", name + ".csr")
    openssl(folder, "x509", "-req", "-in", name + ".csr", "-CA", issuer + ".pem", "-CAkey", issuer + ".key",
            "-extfile", "extensions.cnf", "-extensions", section, "-sha256",
            "-days", str(VALID_DAYS), "-set_serial", random_serial(), "-out", name + ".pem")
    os.remove(os.path.join(folder, name + ".csr"))


def make_expired(folder):
    """Write expired.pem: DNS:localhost, signed by inter, valid only during 2020."""
    with open(os.path.join(folder, "ca-index.txt"), "w", encoding="ascii"):
        pass
    os.mkdir(os.path.join(folder, "ca-new"))
    openssl(folder, "req", "-new", "-key", "expired.key", "-subj", "/CN=localhost",
            "-config", "extensions.cnf", "-out", "expired.csr")
    openssl(folder, "ca", "-batch", "-config", "extensions.cnf", "-in", "expired.csr", "-out", "expired.pem",
            "-startdate", "20200101000000Z", "-enddate", "20210101000000Z",
            "-extfile", "extensions.cnf", "-extensions", "server_localhost", "-notext")
    shutil.rmtree(os.path.join(folder, "ca-new"))
    for leftover in os.listdir(folder):
        if leftover.startswith("ca-index.txt") or leftover == "expired.csr":
            os.remove(os.path.join(folder, leftover))


def concatenate(folder, target, sources):
    with open(os.path.join(folder, target), "wb") as out:
        for source in sources:
            with open(os.path.join(folder, source), "rb") as part:
                out.write(part.read())


def make_pkcs12(folder, target, name, *options, chain=("-certfile", "inter.pem")):
    openssl(folder, "pkcs12", "-export", "-in", name + ".pem", "-inkey", name + ".key",
            *chain, "-name", "schan test " + name, "-out", target, *options)


def generate(folder):
    """Write every file of FILES into `folder`, which must exist."""
    with open(os.path.join(folder, "extensions.cnf"), "w", encoding="ascii") as config:
        config.write(EXTENSIONS)

    # Key generation takes most of the time, so four openssl processes run
    # at once, the slow RSA 4096 key first. Four rather than one per core
    # keep the wall time near 5 s on a 2-core machine busy with builds
    # (measured at load 12; about 2 s when idle).
    keys = [(name, key_type) for name, key_type, *_ in CERTIFICATES] + [("expired", "rsa")]
    keys.sort(key=lambda entry: entry[1] != "rsa4096")
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        for done in [pool.submit(make_key, folder, name, key_type) for name, key_type in keys]:
            done.result()

    for name, _key_type, subject, issuer, section in CERTIFICATES:
        make_certificate(folder, name, subject, issuer, section)
    make_expired(folder)

    concatenate(folder, "leaf-chain.pem", ["leaf.pem", "inter.pem"])
    # Trust for servers that check client certificates: Wine 8's SChannel
    # sends the client certificate without its intermediate.
    concatenate(folder, "client-ca.pem", ["inter.pem", "root.pem"])
    # In the order a server sends them after long-leaf.pem.
    concatenate(folder, "long-chain.pem", ["inter5.pem", "inter4.pem", "inter3.pem", "inter2.pem", "inter.pem"])

    make_pkcs12(folder, "leaf.p12", "leaf", "-passout", "pass:" + P12_PASSWORD)
    make_pkcs12(folder, "client.p12", "client", "-passout", "pass:" + P12_PASSWORD)
    make_pkcs12(folder, "leaf-legacy.p12", "leaf", "-legacy", "-passout", "pass:" + P12_PASSWORD)
    make_pkcs12(folder, "leaf-nopass.p12", "leaf", "-keypbe", "NONE", "-certpbe", "NONE", "-passout", "pass:")
    make_pkcs12(folder, "client-legacy.p12", "client", "-legacy", "-passout", "pass:" + P12_PASSWORD)
    make_pkcs12(folder, "client-nopass.p12", "client", "-keypbe", "NONE", "-certpbe", "NONE", "-passout", "pass:")
    # Encrypted with the empty password, in the default and the -legacy encoding.
    make_pkcs12(folder, "client-empty.p12", "client", "-passout", "pass:")
    make_pkcs12(folder, "client-legacy-empty.p12", "client", "-legacy", "-passout", "pass:")
    make_pkcs12(folder, "client-root.p12", "client-root", "-passout", "pass:" + P12_PASSWORD, chain=())

    # The traditional forms ("BEGIN RSA PRIVATE KEY", "BEGIN EC PRIVATE KEY")
    # of keys of their own.
    for name in ("client-rsa-traditional", "client-ec-traditional"):
        openssl(folder, "pkey", "-in", name + ".key", "-traditional", "-out", name + ".key.new")
        os.replace(os.path.join(folder, name + ".key.new"), os.path.join(folder, name + ".key"))

    missing = [name for name in FILES if not os.path.isfile(os.path.join(folder, name))]
    if missing:
        raise RuntimeError("the PKI generator did not write " + ", ".join(missing))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: test_pki.py FOLDER")
    os.makedirs(sys.argv[1], exist_ok=True)
    generate(sys.argv[1])
