#!/usr/bin/env python3
"""Test check_abi.py's policy on four small C libraries built with cc -g.

The baseline library exports f(int) and h(size_t). Against it, a library that
adds g() must pass with the addition reported, one where f takes a long must
fail, and one where h takes a uint32_t must fail too. Both types are typedefs
from system headers, which a header filter would hide.
"""
import os
import subprocess
import sys
import tempfile

CHECK_ABI = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_abi.py")

HEADER_BASE = "#include <stddef.h>\n#include <stdint.h>\nint f(int value);\nint h(size_t size);\n"
HEADER_ADDED = HEADER_BASE + "int g(void);\n"
HEADER_CHANGED = HEADER_BASE.replace("int f(int value)", "int f(long value)")
HEADER_TYPEDEF = HEADER_BASE.replace("size_t size", "uint32_t size")
SOURCE = '#include "api.h"\nint f(%s value) { return (int)value; }\nint h(%s size) { return (int)size; }\n%s'


def build(folder, name, header, parameter_type, extra, size_type="size_t"):
    source_folder = os.path.join(folder, name)
    os.makedirs(source_folder)
    with open(os.path.join(source_folder, "api.h"), "w", encoding="ascii") as out:
        out.write(header)
    with open(os.path.join(source_folder, "api.c"), "w", encoding="ascii") as out:
        out.write(SOURCE % (parameter_type, size_type, extra))
    library = os.path.join(source_folder, "libapi.so")
    subprocess.run([os.environ.get("CC", "cc"), "-g", "-shared", "-fPIC", "-Wl,-soname,libapi.so.1", "-o", library,
                    os.path.join(source_folder, "api.c")], check=True)
    return source_folder, library


def check(library, headers, baseline):
    completed = subprocess.run([sys.executable, CHECK_ABI, "--library", library, "--headers", headers,
                                "--baseline", baseline], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(completed.stdout, end="")
    return completed.returncode, completed.stdout


def main():
    failures = []
    with tempfile.TemporaryDirectory(prefix="check_abi_test_") as folder:
        base_headers, base_library = build(folder, "base", HEADER_BASE, "int", "")
        baseline = os.path.join(folder, "base.abi")
        subprocess.run([sys.executable, CHECK_ABI, "--update", "--library", base_library, "--headers", base_headers,
                        "--baseline", baseline], check=True)

        status, report = check(base_library, base_headers, baseline)
        if status != 0:
            failures.append("the unchanged library failed the check")

        added_headers, added_library = build(folder, "added", HEADER_ADDED, "int", "int g(void) { return 0; }\n")
        status, report = check(added_library, added_headers, baseline)
        if status != 0:
            failures.append("an added function failed the check")
        if "'function int g()'" not in report:
            failures.append("the added function g() is missing from the report")

        changed_headers, changed_library = build(folder, "changed", HEADER_CHANGED, "long", "")
        status, report = check(changed_library, changed_headers, baseline)
        if status == 0:
            failures.append("a changed parameter type (int to long) passed the check")
        if "type name changed from 'int' to 'long int'" not in report:
            failures.append("the report does not describe the changed parameter type")

        typedef_headers, typedef_library = build(folder, "typedef", HEADER_TYPEDEF, "int", "", "uint32_t")
        status, report = check(typedef_library, typedef_headers, baseline)
        if status == 0:
            failures.append("a changed parameter typedef (size_t to uint32_t) passed the check")

    for failure in failures:
        print("test_check_abi: FAIL: " + failure)
    if not failures:
        print("test_check_abi: PASS")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
