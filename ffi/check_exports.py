#!/usr/bin/env python3
"""Check that a built schan library exports exactly the functions of schan.h.

Compares three lists: the SCHAN_API functions declared in the header, the
export list in ffi/schan.def, and the dynamic symbols of the library
(libschan.so through `nm -D`, schan.dll through `x86_64-w64-mingw32-objdump -p`).
Anything extra or missing fails with the names that differ.
"""
import argparse
import re
import subprocess
import sys


def header_functions(path):
    with open(path, encoding="utf-8") as header:
        text = header.read()
    return set(re.findall(r"SCHAN_API\s[^;(]*?\b(schan_\w+)\s*\(", text))


def def_functions(path):
    names = set()
    in_exports = False
    with open(path, encoding="utf-8") as listing:
        for line in listing:
            line = line.split(";", 1)[0].strip()
            if line == "EXPORTS":
                in_exports = True
            elif in_exports and line:
                names.add(line.split()[0])
    return names


def library_exports(path):
    if path.endswith(".dll"):
        output = subprocess.run(["x86_64-w64-mingw32-objdump", "-p", path], check=True,
                                capture_output=True, text=True).stdout
        table = output.split("[Ordinal/Name Pointer] Table", 1)
        if len(table) < 2:
            return set()
        return set(re.findall(r"\[\s*\d+\]\s+(\S+)", table[1].split("\n\n", 1)[0]))
    output = subprocess.run(["nm", "-D", "--defined-only", path], check=True,
                            capture_output=True, text=True).stdout
    return {line.split()[-1].split("@")[0] for line in output.splitlines()
            if len(line.split()) >= 3 and line.split()[1] in "TtWwDdBbRrVv"}


# DLLs that every supported Windows version ships; schan.dll and the tools
# must import nothing else (no libstdc++, libgcc or winpthread DLLs).
SYSTEM_DLLS = {"kernel32.dll", "msvcrt.dll", "secur32.dll", "crypt32.dll", "ncrypt.dll", "ntdll.dll",
               "ws2_32.dll", "advapi32.dll", "user32.dll", "bcrypt.dll", "sspicli.dll"}


def dll_imports(path):
    output = subprocess.run(["x86_64-w64-mingw32-objdump", "-p", path], check=True,
                            capture_output=True, text=True).stdout
    names = {name.lower() for name in re.findall(r"DLL Name: (\S+)", output)}
    return {name for name in names if not name.startswith("api-ms-win-")}


def report(label, expected, actual):
    missing = sorted(expected - actual)
    extra = sorted(actual - expected)
    for name in missing:
        print(f"{label}: missing {name}")
    for name in extra:
        print(f"{label}: unexpected {name}")
    return not missing and not extra


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--header", required=True)
    parser.add_argument("--def", dest="def_file", required=True)
    parser.add_argument("--library", required=True)
    args = parser.parse_args()

    declared = header_functions(args.header)
    listed = def_functions(args.def_file)
    exported = library_exports(args.library)

    ok = report("export list ffi/schan.def", declared, listed)
    ok = report(f"library {args.library}", declared, exported) and ok
    if args.library.endswith(".dll"):
        for extra in sorted(dll_imports(args.library) - SYSTEM_DLLS):
            print(f"library {args.library}: imports {extra}, which Windows does not ship")
            ok = False
    print(f"{len(declared)} functions declared, {len(listed)} listed, {len(exported)} exported")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
