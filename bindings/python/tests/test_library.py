"""Loading the shared library: SCHAN_LIBRARY, the package folder, errors."""

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from conftest import BINDING_DIR


def run_import(environment, code="import schan; print(schan.LIBRARY_PATH)"):
    """Import schan in a fresh interpreter; return the completed process."""
    env = dict(os.environ)
    env.update(environment)
    env["PYTHONPATH"] = str(BINDING_DIR)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


def test_library_version_and_backend(schan_module):
    assert schan_module.ABI_VERSION >= 1
    assert schan_module.LIBRARY_VERSION.count(".") == 2
    assert schan_module.BACKEND in ("openssl", "schannel")


def test_library_from_environment(schan_module):
    library = os.environ.get("SCHAN_LIBRARY")
    if not library:
        pytest.skip("SCHAN_LIBRARY is not set")
    assert os.path.samefile(schan_module.LIBRARY_PATH, library)


def test_missing_library_raises_import_error(tmp_path):
    missing = tmp_path / "libschan-missing.so"
    result = run_import({"SCHAN_LIBRARY": str(missing)})
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    assert str(missing) in result.stderr
    assert "ABI version 1" in result.stderr


def test_library_without_schan_symbols_raises(tmp_path):
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build a stand-in library")
    source = tmp_path / "other.c"
    source.write_text("int not_schan(void) { return 0; }\n")
    library = tmp_path / "libother.so"
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(library), str(source)], check=True, timeout=60)
    result = run_import({"SCHAN_LIBRARY": str(library)})
    assert result.returncode != 0
    assert "is not a schan library" in result.stderr


def test_too_old_library_raises(tmp_path):
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build a stand-in library")
    source = tmp_path / "old.c"
    source.write_text(textwrap.dedent("""\
        unsigned schan_abi_version(void) { return 0; }
        """))
    library = tmp_path / "libold.so"
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(library), str(source)], check=True, timeout=60)
    result = run_import({"SCHAN_LIBRARY": str(library)})
    assert result.returncode != 0
    assert "ABI version 0" in result.stderr
    assert "needs ABI version 1 or newer" in result.stderr


def test_library_next_to_package(tmp_path):
    library = os.environ.get("SCHAN_LIBRARY")
    if not library:
        pytest.skip("SCHAN_LIBRARY is not set")
    package = tmp_path / "schan"
    shutil.copytree(BINDING_DIR / "schan", package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(library, package / "libschan.so")
    env = dict(os.environ)
    env.pop("SCHAN_LIBRARY")
    env["PYTHONPATH"] = str(tmp_path)
    result = subprocess.run([sys.executable, "-c", "import schan; print(schan.LIBRARY_PATH)"],
                            env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(package / "libschan.so")
