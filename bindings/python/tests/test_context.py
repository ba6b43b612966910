"""SSLContext settings: ssl's defaults, checks and the options schan rejects."""

import shutil
import socket
import ssl
import subprocess
import warnings

import pytest


@pytest.fixture
def context(schan_module):
    return schan_module.SSLContext(schan_module.PROTOCOL_TLS_CLIENT)


def test_client_defaults_match_ssl(schan_module):
    ours = schan_module.SSLContext(schan_module.PROTOCOL_TLS_CLIENT)
    theirs = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    assert ours.verify_mode == theirs.verify_mode == ssl.CERT_REQUIRED
    assert ours.check_hostname is theirs.check_hostname is True
    assert ours.minimum_version == theirs.minimum_version
    assert ours.maximum_version == theirs.maximum_version
    assert ours.protocol == theirs.protocol
    assert ours.post_handshake_auth is False


def test_server_defaults_match_ssl(schan_module):
    ours = schan_module.SSLContext(schan_module.PROTOCOL_TLS_SERVER)
    theirs = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    assert ours.verify_mode == theirs.verify_mode == ssl.CERT_NONE
    assert ours.check_hostname is theirs.check_hostname is False


def test_generic_protocol_warns_like_ssl(schan_module):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        context = schan_module.SSLContext()
        schan_module.SSLContext(schan_module.PROTOCOL_TLS)
    assert [warning.category for warning in caught] == [DeprecationWarning, DeprecationWarning]
    assert context.verify_mode == ssl.CERT_NONE


def test_fixed_version_protocol_raises(schan_module):
    with pytest.raises(ValueError, match="minimum_version"):
        schan_module.SSLContext(ssl.PROTOCOL_TLSv1_2)


def test_verify_mode_none_with_check_hostname_raises(context):
    with pytest.raises(ValueError, match="check_hostname"):
        context.verify_mode = ssl.CERT_NONE


def test_check_hostname_enables_verification(schan_module):
    context = schan_module.SSLContext(schan_module.PROTOCOL_TLS_SERVER)
    context.check_hostname = True
    assert context.verify_mode == ssl.CERT_REQUIRED


def test_versions_accept_ssl_constants(context, schan_module):
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    assert context.minimum_version == schan_module.TLSVersion.TLSv1_3
    context.maximum_version = schan_module.TLSVersion.MAXIMUM_SUPPORTED
    assert context.maximum_version == ssl.TLSVersion.MAXIMUM_SUPPORTED


@pytest.mark.parametrize("version", ["SSLv3", "TLSv1", "TLSv1_1"])
def test_old_versions_raise(context, version):
    with pytest.raises(ValueError, match="TLS 1.2 and TLS 1.3"):
        context.minimum_version = getattr(ssl.TLSVersion, version)
    with pytest.raises(ValueError, match="TLS 1.2 and TLS 1.3"):
        context.maximum_version = getattr(ssl.TLSVersion, version)


def test_options_accept_ssl_defaults(context):
    context.options |= ssl.OP_NO_SSLv3 | ssl.OP_NO_TLSv1 | ssl.OP_NO_TLSv1_1 | ssl.OP_NO_COMPRESSION
    context.options |= ssl.OP_NO_TLSv1_3 | ssl.OP_IGNORE_UNEXPECTED_EOF | ssl.OP_ALL
    assert context.options & ssl.OP_NO_TLSv1_3


def test_option_enabling_old_versions_raises(context):
    with pytest.raises(ValueError, match="never offers"):
        context.options &= ~ssl.OP_NO_TLSv1


@pytest.mark.parametrize("option", ["OP_NO_TICKET", "OP_NO_RENEGOTIATION"])
def test_unsupported_option_raises(context, option):
    with pytest.raises(NotImplementedError, match=option):
        context.options |= getattr(ssl, option)


@pytest.mark.parametrize("flag", ["VERIFY_X509_STRICT", "VERIFY_X509_PARTIAL_CHAIN", "VERIFY_ALLOW_PROXY_CERTS"])
def test_unsupported_verify_flag_raises(context, flag):
    with pytest.raises(NotImplementedError):
        context.verify_flags |= getattr(ssl, flag)


def test_revocation_flags_are_accepted(context):
    context.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN
    assert context.verify_flags & ssl.VERIFY_CRL_CHECK_LEAF


@pytest.mark.parametrize("call", [
    lambda context: context.set_ciphers("ECDHE+AESGCM"),
    lambda context: context.get_ciphers(),
    lambda context: context.set_ecdh_curve("prime256v1"),
    lambda context: context.load_dh_params("dh.pem"),
    lambda context: context.set_npn_protocols(["http/1.1"]),
    lambda context: setattr(context, "post_handshake_auth", True),
    lambda context: setattr(context, "keylog_filename", "keys.log"),
    lambda context: setattr(context, "sni_callback", lambda *args: None),
    lambda context: setattr(context, "hostname_checks_common_name", True),
    lambda context: context.session_stats(),
], ids=["set_ciphers", "get_ciphers", "set_ecdh_curve", "load_dh_params", "npn", "post_handshake_auth",
        "keylog_filename", "sni_callback", "hostname_checks_common_name", "session_stats"])
def test_unsupported_features_raise(context, call):
    with pytest.raises(NotImplementedError):
        call(context)


def test_disabled_features_may_be_set_off(context):
    context.post_handshake_auth = False
    context.keylog_filename = None
    context.sni_callback = None


@pytest.mark.parametrize("name", [b"", b"x" * 256])
def test_alpn_length_is_checked_like_ssl(context, schan_module, name):
    with pytest.raises(schan_module.SSLError, match="1 to 255"):
        context.set_alpn_protocols([name.decode()])
    with pytest.raises(ssl.SSLError, match="1 to 255"):
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).set_alpn_protocols([name.decode()])


def test_load_verify_locations_needs_an_argument(context):
    with pytest.raises(TypeError):
        context.load_verify_locations()


def test_missing_cafile_raises_file_not_found(context, tmp_path):
    with pytest.raises(FileNotFoundError):
        context.load_verify_locations(cafile=str(tmp_path / "missing.pem"))


def test_cafile_without_certificate_raises_ssl_error(context, schan_module, pki):
    with pytest.raises(schan_module.SSLError) as caught:
        context.load_verify_locations(cafile=pki.path("leaf.key"))
    assert caught.value.reason == "SCHAN_E_BAD_FORMAT"
    assert "leaf.key" in str(caught.value)


def test_cafile_and_cadata_forms(context, pki):
    context.load_verify_locations(cafile=pki.path("root.pem"))
    context.load_verify_locations(cadata=pki.read("inter.pem").decode("ascii"))
    der = b"".join(ssl.PEM_cert_to_DER_cert(pki.read(name).decode("ascii"))
                   for name in ("foreign-root.pem", "self-signed.pem"))
    context.load_verify_locations(cadata=der)
    assert context.cert_store_stats()["x509_ca"] == 4
    subjects = [certificate["subject"] for certificate in context.get_ca_certs()]
    assert subjects[0] == ((("commonName", "schan test root"),),)
    assert context.get_ca_certs(binary_form=True)[2] == der[:len(context.get_ca_certs(True)[2])]


def test_pem_bytes_as_cadata_raise_ssl_error(context, schan_module, pki):
    with pytest.raises(schan_module.SSLError, match="DER"):
        context.load_verify_locations(cadata=pki.read("root.pem"))


def test_capath_loads_every_certificate_file(context, pki, tmp_path):
    for name in ("root.pem", "foreign-root.pem"):
        shutil.copy(pki.path(name), tmp_path / name)
    (tmp_path / "notes.txt").write_text("not a certificate")
    context.load_verify_locations(capath=str(tmp_path))
    assert context.cert_store_stats()["x509_ca"] == 2


def test_empty_capath_raises(context, schan_module, tmp_path):
    with pytest.raises(schan_module.SSLError, match="no PEM certificate"):
        context.load_verify_locations(capath=str(tmp_path))


def test_create_default_context_purposes(schan_module, pki):
    client = schan_module.create_default_context(cafile=pki.path("root.pem"))
    assert client.protocol == ssl.PROTOCOL_TLS_CLIENT
    assert client.verify_mode == ssl.CERT_REQUIRED
    assert client.check_hostname
    server = schan_module.create_default_context(ssl.Purpose.CLIENT_AUTH)
    assert server.protocol == ssl.PROTOCOL_TLS_SERVER
    assert server.verify_mode == ssl.CERT_NONE
    with pytest.raises(ValueError):
        schan_module.create_default_context("1.2.3")


def test_wrap_socket_needs_server_hostname(context):
    with socket.socket() as raw:
        with pytest.raises(ValueError, match="check_hostname requires server_hostname"):
            context.wrap_socket(raw)


@pytest.mark.parametrize("hostname", ["", ".example.com", "a\0b"])
def test_invalid_server_hostname_raises(context, hostname):
    with socket.socket() as raw:
        with pytest.raises(ValueError):
            context.wrap_socket(raw, server_hostname=hostname)


def test_server_hostname_on_server_side_raises(schan_module, pki):
    context = schan_module.SSLContext(schan_module.PROTOCOL_TLS_SERVER)
    with socket.socket() as raw:
        with pytest.raises(ValueError, match="client mode"):
            context.wrap_socket(raw, server_side=True, server_hostname="localhost")


def test_session_resumption_is_not_supported(context):
    with socket.socket() as raw:
        with pytest.raises(NotImplementedError):
            context.wrap_socket(raw, server_hostname="localhost", session=object())


def test_ssl_constants_are_exported(schan_module):
    for name in ("CERT_NONE", "CERT_OPTIONAL", "CERT_REQUIRED", "PROTOCOL_TLS_CLIENT", "PROTOCOL_TLS_SERVER",
                 "OP_NO_TLSv1_3", "VERIFY_DEFAULT", "SSL_ERROR_EOF", "HAS_SNI", "HAS_ALPN", "HAS_TLSv1_3"):
        assert getattr(schan_module, name) == getattr(ssl, name), name


def test_exceptions_follow_ssl_hierarchy(schan_module):
    assert issubclass(schan_module.SSLError, OSError)
    assert issubclass(schan_module.SSLError, ssl.SSLError)
    for name in ("SSLZeroReturnError", "SSLWantReadError", "SSLWantWriteError", "SSLSyscallError",
                 "SSLEOFError", "SSLCertVerificationError"):
        ours = getattr(schan_module, name)
        assert issubclass(ours, schan_module.SSLError), name
        assert issubclass(ours, getattr(ssl, name)), name
    assert issubclass(schan_module.SSLCertVerificationError, ValueError)
    assert schan_module.CertificateError is schan_module.SSLCertVerificationError


def test_load_cert_chain_errors(schan_module, pki, tmp_path):
    context = schan_module.SSLContext(schan_module.PROTOCOL_TLS_SERVER)
    with pytest.raises(FileNotFoundError):
        context.load_cert_chain(str(tmp_path / "missing.pem"))
    with pytest.raises(schan_module.SSLError) as mismatch:
        context.load_cert_chain(pki.path("leaf.pem"), pki.path("wrong-name.key"))
    assert mismatch.value.reason == "SCHAN_E_KEY_MISMATCH"
    with pytest.raises(schan_module.SSLError) as bad_format:
        context.load_cert_chain(pki.path("leaf.key"), pki.path("leaf.key"))
    assert bad_format.value.reason == "SCHAN_E_BAD_FORMAT"


def test_encrypted_key_password_forms(schan_module, pki, tmp_path):
    encrypted = tmp_path / "leaf-encrypted.key"
    subprocess.run(["openssl", "pkey", "-in", pki.path("leaf.key"), "-aes256", "-passout", "pass:secret",
                    "-out", str(encrypted)], check=True, capture_output=True, timeout=60)
    context = schan_module.SSLContext(schan_module.PROTOCOL_TLS_SERVER)
    with pytest.raises(schan_module.SSLError) as missing:
        context.load_cert_chain(pki.path("leaf-chain.pem"), str(encrypted))
    assert missing.value.reason == "SCHAN_E_BAD_PASSWORD"
    with pytest.raises(schan_module.SSLError):
        context.load_cert_chain(pki.path("leaf-chain.pem"), str(encrypted), password="wrong")
    context.load_cert_chain(pki.path("leaf-chain.pem"), str(encrypted), password="secret")
    context.load_cert_chain(pki.path("leaf-chain.pem"), str(encrypted), password=b"secret")
    calls = []
    context.load_cert_chain(pki.path("leaf-chain.pem"), str(encrypted),
                            password=lambda: calls.append(1) or "secret")
    assert calls == [1]
    context.load_cert_chain(pki.path("leaf-chain.pem"), pki.path("leaf.key"),
                            password=lambda: calls.append(2) or "unused")
    assert calls == [1]


@pytest.mark.parametrize("name, password", [("leaf.p12", "secret"), ("leaf-legacy.p12", "secret"),
                                            ("leaf-nopass.p12", None)])
def test_load_pkcs12(schan_module, pki, name, password):
    context = schan_module.SSLContext(schan_module.PROTOCOL_TLS_SERVER)
    context.load_pkcs12(pki.path(name), password)


def test_pkcs12_wrong_password_raises(schan_module, pki):
    context = schan_module.SSLContext(schan_module.PROTOCOL_TLS_SERVER)
    with pytest.raises(schan_module.SSLError) as caught:
        context.load_pkcs12(pki.path("leaf.p12"), "wrong")
    assert caught.value.reason == "SCHAN_E_BAD_PASSWORD"


def test_server_without_certificate_raises(schan_module):
    context = schan_module.SSLContext(schan_module.PROTOCOL_TLS_SERVER)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with socket.create_connection(listener.getsockname(), timeout=5) as client:
            accepted, _ = listener.accept()
            with accepted, pytest.raises(schan_module.SSLError, match="load_cert_chain"):
                context.wrap_socket(accepted, server_side=True)
