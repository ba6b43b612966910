#!/usr/bin/env python3
"""Build or check the schan wheel: the package with the shared library inside.

Uses the standard library only, so the build needs neither setuptools nor
wheel. The wheel is tagged py3-none-PLATFORM because the package is pure
Python but carries a native library for one platform.

  build_wheel.py --library build/linux/src/libschan.so --platform linux_x86_64 --output DIR
  build_wheel.py --check DIR/schan-0.1.0-py3-none-linux_x86_64.whl
"""

import argparse
import base64
import hashlib
import io
import os
import re
import sys
import zipfile

PACKAGE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schan")
# Timestamp of every entry, so that the same inputs give the same wheel.
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
# The name the library gets inside the package; schan/_library.py looks for these.
LIBRARY_NAMES = {"win": "schan.dll", "macosx": "libschan.dylib"}
DEFAULT_LIBRARY_NAME = "libschan.so.1"


def package_version():
    with open(os.path.join(PACKAGE_DIR, "__init__.py"), encoding="utf-8") as init:
        match = re.search(r'^__version__ = "([^"]+)"$', init.read(), re.M)
    if not match:
        raise SystemExit("build_wheel.py: no __version__ in schan/__init__.py")
    return match.group(1)


def metadata(version):
    return ("Metadata-Version: 2.1\n"
            "Name: schan\n"
            "Version: %s\n"
            "Summary: TLS through SChannel on Windows and OpenSSL 3 elsewhere, with the ssl module's API\n"
            "License: see the schan repository\n"
            "Requires-Python: >=3.8\n"
            "Classifier: Programming Language :: Python :: 3\n"
            "Classifier: Operating System :: Microsoft :: Windows\n"
            "Classifier: Operating System :: POSIX :: Linux\n" % version)


def wheel_file(platform):
    return ("Wheel-Version: 1.0\n"
            "Generator: schan build_wheel.py\n"
            "Root-Is-Purelib: false\n"
            "Tag: py3-none-%s\n" % platform)


def record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return "%s,sha256=%s,%d\n" % (name, digest, len(data))


def add_entry(archive, name, data, executable=False):
    info = zipfile.ZipInfo(name, ZIP_TIMESTAMP)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o755 if executable else 0o644) << 16
    archive.writestr(info, data)


def library_name(platform):
    for prefix, name in LIBRARY_NAMES.items():
        if platform.startswith(prefix):
            return name
    return DEFAULT_LIBRARY_NAME


def build(library, platform, output):
    version = package_version()
    dist_info = "schan-%s.dist-info" % version
    entries = []
    for name in sorted(os.listdir(PACKAGE_DIR)):
        if name.endswith(".py"):
            with open(os.path.join(PACKAGE_DIR, name), "rb") as source:
                entries.append(("schan/" + name, source.read(), False))
    with open(library, "rb") as native:
        entries.append(("schan/" + library_name(platform), native.read(), True))
    entries.append((dist_info + "/METADATA", metadata(version).encode(), False))
    entries.append((dist_info + "/WHEEL", wheel_file(platform).encode(), False))
    entries.append((dist_info + "/top_level.txt", b"schan\n", False))

    record = "".join(record_line(name, data) for name, data, _ in entries)
    record += dist_info + "/RECORD,,\n"
    entries.append((dist_info + "/RECORD", record.encode(), False))

    os.makedirs(output, exist_ok=True)
    path = os.path.join(output, "schan-%s-py3-none-%s.whl" % (version, platform))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, executable in entries:
            add_entry(archive, name, data, executable)
    temporary = path + ".tmp"
    with open(temporary, "wb") as wheel:
        wheel.write(buffer.getvalue())
    os.replace(temporary, path)
    return path


def check(path):
    """Verify the RECORD hashes and that the library and the package are inside."""
    platform = re.fullmatch(r"schan-[^-]+-py3-none-(.+)\.whl", os.path.basename(path))
    if not platform:
        raise SystemExit("%s: not a schan py3-none wheel name" % path)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        record_name = next(name for name in names if name.endswith(".dist-info/RECORD"))
        for line in archive.read(record_name).decode().splitlines():
            name, digest, size = line.rsplit(",", 2)
            if name == record_name:
                continue
            data = archive.read(name)
            if record_line(name, data) != line + "\n":
                raise SystemExit("%s: %s does not match its RECORD line (hash or size)" % (path, name))
        required = {"schan/__init__.py", "schan/" + library_name(platform.group(1))}
        missing = required - names
        if missing:
            raise SystemExit("%s: missing %s" % (path, ", ".join(sorted(missing))))
        wheel = archive.read(record_name.replace("RECORD", "WHEEL")).decode()
        if "Tag: py3-none-%s\n" % platform.group(1) not in wheel:
            raise SystemExit("%s: WHEEL does not carry the tag of the file name" % path)
    print("%s: %d files, RECORD hashes match" % (path, len(names)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--library", help="the built libschan.so or schan.dll to put into the wheel")
    parser.add_argument("--platform", help="wheel platform tag, for example linux_x86_64 or win_amd64")
    parser.add_argument("--output", help="folder the wheel is written to")
    parser.add_argument("--check", metavar="WHEEL", help="verify an existing wheel instead of building one")
    options = parser.parse_args()
    if options.check:
        check(options.check)
        return
    if not (options.library and options.platform and options.output):
        parser.error("--library, --platform and --output are required to build a wheel")
    print(build(options.library, options.platform, options.output))


if __name__ == "__main__":
    sys.exit(main())
