#!/usr/bin/env python3
"""CRL distribution point on 127.0.0.1 for the revocation tests.

Writes PKI/crl-PORT/leaf.pem: DNS:localhost, signed by the test PKI's
intermediate, with a CRL distribution point http://127.0.0.1:PORT/<random>.crl.
Then, by MODE:
  good     serves a CRL of the intermediate that lists no certificate
  revoked  serves a CRL of the intermediate that lists leaf.pem
  silent   accepts connections and never responds (a stalled CRL server)

The certificate and the CRL path are new for every start, so no result that
Wine cached in an earlier run applies to them. The files are written before the port
listens, so they are complete once the peer host reports the peer started.

usage: crl_server.py PORT PKI_FOLDER MODE
"""

import http.server
import os
import secrets
import socket
import subprocess
import sys
import time

EXTENSIONS = """\
[req]
distinguished_name = req_dn
prompt = no

[req_dn]
CN = unused

[leaf]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost
crlDistributionPoints = URI:{url}

[ca]
default_ca = crl_ca

[crl_ca]
database = index.txt
crlnumber = crlnumber
certificate = {pki}/inter.pem
private_key = {pki}/inter.key
default_md = sha256
default_crl_days = 30
"""


def log(message):
    print("crl_server: " + message, flush=True)


def openssl(folder, *args):
    result = subprocess.run(["openssl", *args], cwd=folder, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    if result.returncode != 0:
        sys.exit("crl_server: openssl %s failed with exit code %d: %s"
                 % (" ".join(args), result.returncode, result.stdout.decode(errors="replace")))


def write_certificate_and_crl(folder, pki, url, revoked):
    with open(os.path.join(folder, "openssl.cnf"), "w", encoding="ascii") as config:
        config.write(EXTENSIONS.format(url=url, pki=pki))
    with open(os.path.join(folder, "index.txt"), "w", encoding="ascii"):
        pass
    with open(os.path.join(folder, "crlnumber"), "w", encoding="ascii") as number:
        number.write("01\n")

    # The leaf reuses the PKI's leaf key: generating one would only cost time.
    openssl(folder, "req", "-new", "-key", os.path.join(pki, "leaf.key"), "-subj", "/CN=localhost",
            "-config", "openssl.cnf", "-out", "leaf.csr")
    openssl(folder, "x509", "-req", "-in", "leaf.csr", "-CA", os.path.join(pki, "inter.pem"),
            "-CAkey", os.path.join(pki, "inter.key"), "-extfile", "openssl.cnf", "-extensions", "leaf",
            "-sha256", "-days", "30", "-set_serial", "0x%x" % (secrets.randbits(63) | 1), "-out", "leaf.pem")
    if revoked:
        openssl(folder, "ca", "-config", "openssl.cnf", "-revoke", "leaf.pem")
    openssl(folder, "ca", "-config", "openssl.cnf", "-gencrl", "-out", "crl.pem")
    openssl(folder, "crl", "-in", "crl.pem", "-outform", "DER", "-out", "crl.der")


def serve_silently(port):
    listener = socket.create_server(("127.0.0.1", port))
    log("listening on port %d and never responding" % port)
    connections = []
    while True:
        connection, _address = listener.accept()
        connections.append(connection)  # kept open and unread
        log("accepted connection %d" % len(connections))


def serve_crl(port, crl_path, crl):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (name fixed by BaseHTTPRequestHandler)
            if self.path != crl_path:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/pkix-crl")
            self.send_header("Content-Length", str(len(crl)))
            self.end_headers()
            self.wfile.write(crl)

        def log_message(self, format, *args):  # noqa: A002 (signature fixed by the base class)
            log("%s %s" % (self.address_string(), format % args))

    server = http.server.HTTPServer(("127.0.0.1", port), Handler)
    log("serving %s on port %d" % (crl_path, port))
    server.serve_forever()


def main():
    if len(sys.argv) != 4 or sys.argv[3] not in ("good", "revoked", "silent"):
        sys.exit(__doc__)
    port = int(sys.argv[1])
    pki = sys.argv[2]
    mode = sys.argv[3]

    folder = os.path.join(pki, "crl-%d" % port)
    os.makedirs(folder, exist_ok=True)
    crl_path = "/%s.crl" % secrets.token_hex(8)
    started = time.monotonic()
    write_certificate_and_crl(folder, pki, "http://127.0.0.1:%d%s" % (port, crl_path), mode == "revoked")
    log("wrote %s in %.1f s" % (folder, time.monotonic() - started))

    if mode == "silent":
        serve_silently(port)
    else:
        with open(os.path.join(folder, "crl.der"), "rb") as crl:
            serve_crl(port, crl_path, crl.read())


if __name__ == "__main__":
    main()
