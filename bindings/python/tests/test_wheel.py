"""The Linux wheel, installed into a fresh virtual environment, fetches a page."""

import os
import subprocess
import sys
import textwrap
import venv

import pytest

from conftest import IO_TIMEOUT

CLIENT = textwrap.dedent("""\
    import sys
    import urllib.error
    import urllib.request

    import schan

    print("library", schan.LIBRARY_PATH)
    context = schan.create_default_context(cafile=sys.argv[1])
    with urllib.request.urlopen(sys.argv[2], context=context, timeout=%d) as response:
        print("page", response.read().decode())
    try:
        urllib.request.urlopen(sys.argv[3], context=context, timeout=%d)
    except urllib.error.URLError as error:
        assert isinstance(error.reason, schan.SSLCertVerificationError), repr(error.reason)
        print("rejected", error.reason.reason)
    """) % (IO_TIMEOUT, IO_TIMEOUT)


@pytest.fixture
def wheel():
    path = os.environ.get("SCHAN_PYTHON_WHEEL")
    if not path:
        pytest.skip("SCHAN_PYTHON_WHEEL is not set (the CMake build sets it)")
    assert os.path.isfile(path), "the wheel %s was not built" % path
    return path


@pytest.fixture
def installed(wheel, tmp_path):
    """Return the interpreter of a fresh virtual environment with the wheel installed."""
    check = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True, timeout=60)
    if check.returncode != 0:
        pytest.skip("pip is missing for %s: install python3-pip" % sys.executable)
    environment = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(environment)
    python = environment / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-index",
                    "--no-deps", "--disable-pip-version-check", wheel],
                   check=True, capture_output=True, timeout=300)
    return python


def run_client(python, tmp_path, pki, good_url, bad_url):
    script = tmp_path / "client.py"
    script.write_text(CLIENT)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SCHAN_", "PYTHON"))}
    result = subprocess.run([str(python), str(script), pki.path("root.pem"), good_url, bad_url],
                            cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_wheel_in_fresh_venv_against_schan_server(installed, tmp_path, pki, schan_server):
    _good, good_port = schan_server("--http")
    _bad, bad_port = schan_server("--http", cert="wrong-name")
    output = run_client(installed, tmp_path, pki, "https://localhost:%d/" % good_port,
                        "https://localhost:%d/" % bad_port)
    assert "library %s" % (tmp_path / "venv") in output
    assert "page protocol: TLSv1.3" in output
    assert "rejected SCHAN_E_CERT_NAME_MISMATCH" in output


def test_wheel_in_fresh_venv_against_s_server(installed, tmp_path, pki, s_server):
    _good, good_port = s_server("-www")
    _bad, bad_port = s_server("-www", cert="wrong-name")
    output = run_client(installed, tmp_path, pki, "https://localhost:%d/" % good_port,
                        "https://localhost:%d/" % bad_port)
    assert "page HTTP/1.0 200 ok" not in output  # urlopen returns the body, without the status line
    assert "s_server -accept" in output
    assert "rejected SCHAN_E_CERT_NAME_MISMATCH" in output
