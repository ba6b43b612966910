"""getpeercert()'s dict form and the PEM/DER helpers, compared with ssl's."""

import ssl
import subprocess

import pytest

from schan import _certificate

PKI_CERTIFICATES = ["root", "inter", "leaf", "leaf-ip", "leaf-dns-ip", "wrong-name", "expired",
                    "foreign-root", "foreign-leaf", "self-signed", "leaf-ec", "long-leaf", "client"]

RICH_EXTENSIONS = """\
[req]
distinguished_name = dn
prompt = no
string_mask = utf8only
utf8 = yes
[dn]
C = DE
ST = Baden-W\u00fcrttemberg
O = schan test \u00e4\u00f6\u00fc
OU = binding
CN = rich.example
emailAddress = rich@example.test
[ext]
subjectAltName = DNS:rich.example, DNS:*.rich.example, IP:192.0.2.7, IP:2001:db8::1, email:a@example.test, URI:https://rich.example/x, RID:1.2.3.4, dirName:dir
authorityInfoAccess = OCSP;URI:http://ocsp.example.test/, caIssuers;URI:http://ca.example.test/ca.crt
crlDistributionPoints = URI:http://crl.example.test/root.crl, URI:http://crl2.example.test/root.crl
[dir]
CN = directory name
O = schan
"""


@pytest.mark.parametrize("name", PKI_CERTIFICATES)
def test_decode_matches_ssl(pki, name):
    path = pki.path(name + ".pem")
    der = ssl.PEM_cert_to_DER_cert(pki.read(name + ".pem").decode("ascii"))
    assert _certificate.decode_certificate(der) == ssl._ssl._test_decode_cert(path)


def test_decode_rich_certificate_matches_ssl(tmp_path):
    config = tmp_path / "rich.cnf"
    config.write_text(RICH_EXTENSIONS, encoding="utf-8")
    key, certificate = tmp_path / "rich.key", tmp_path / "rich.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", str(key), "-out", str(certificate), "-days", "30",
                    "-config", str(config), "-extensions", "ext", "-set_serial", "0x00ff00ff00ff"],
                   check=True, capture_output=True, timeout=60)
    der = ssl.PEM_cert_to_DER_cert(certificate.read_text())
    decoded = _certificate.decode_certificate(der)
    assert decoded == ssl._ssl._test_decode_cert(str(certificate))
    assert ("IP Address", "2001:DB8:0:0:0:0:0:1") in decoded["subjectAltName"]
    assert decoded["OCSP"] == ("http://ocsp.example.test/",)
    assert len(decoded["crlDistributionPoints"]) == 2


def test_pem_der_conversion_matches_ssl(pki, schan_module):
    pem = pki.read("leaf.pem").decode("ascii")
    der = ssl.PEM_cert_to_DER_cert(pem)
    assert schan_module.PEM_cert_to_DER_cert(pem) == der
    assert schan_module.DER_cert_to_PEM_cert(der) == ssl.DER_cert_to_PEM_cert(der)


def test_pem_without_header_raises(schan_module):
    with pytest.raises(ValueError):
        schan_module.PEM_cert_to_DER_cert("not a certificate")


def test_cert_time_to_seconds_matches_ssl(schan_module):
    for text in ("Jan  5 09:34:43 2018 GMT", "Dec 31 23:59:59 2049 GMT"):
        assert schan_module.cert_time_to_seconds(text) == ssl.cert_time_to_seconds(text)


def test_split_der_certificates(pki):
    ders = [ssl.PEM_cert_to_DER_cert(pki.read(name + ".pem").decode("ascii")) for name in ("root", "inter")]
    assert _certificate.split_der_certificates(b"".join(ders)) == ders
    with pytest.raises(ValueError):
        _certificate.split_der_certificates(b"\x02\x01\x00")
