#!/usr/bin/env python3
"""Compare the ABI of a built libschan.so with the recorded baseline.

Runs libabigail's `abidiff` between ffi/libschan.abi (written by `abidw`) and
the library, looking at every exported function and every type it reaches,
and prints abidiff's report. The check fails on any incompatible change: a
removed or changed function or variable, a changed SONAME, or abidiff's
ABIDIFF_ABI_INCOMPATIBLE_CHANGE bit. Added functions are reported and pass,
because programs built against the baseline still load and run.

Recording a new baseline (see ffi/README.md for when that is allowed):
    check_abi.py --update --library build/linux/src/libschan.so
"""
import argparse
import os
import re
import subprocess
import sys

FFI_FOLDER = os.path.dirname(os.path.abspath(__file__))
DEFAULT_BASELINE = os.path.join(FFI_FOLDER, "libschan.abi")
DEFAULT_HEADERS = os.path.join(FFI_FOLDER, "..", "include", "schan")

# abidiff's exit status is a bit field (libabigail's abidiff manual).
ABIDIFF_ERROR = 1
ABIDIFF_USAGE_ERROR = 2
ABIDIFF_ABI_CHANGE = 4
ABIDIFF_ABI_INCOMPATIBLE_CHANGE = 8

# abidw options: only what schan.h declares, with no build paths, so the
# baseline does not depend on where it was built.
ABIDW_OPTIONS = ["--drop-private-types", "--exported-interfaces-only", "--no-corpus-path",
                 "--no-comp-dir-path", "--short-locs"]

# "Functions changes summary: 0 Removed, 1 Changed, 2 Added functions", and the
# same for variables. "(n filtered out)" counts harmless changes.
SUMMARY = re.compile(r"^\s*(Functions|Variables) changes summary: (\d+) Removed(?: \([^)]*\))?, "
                     r"(\d+) Changed(?: \([^)]*\))?, (\d+) Added", re.M)
SYMBOL_SUMMARY = re.compile(r"^\s*(Function|Variable) symbols changes summary: (\d+) Removed", re.M)


def record(library, headers, baseline):
    command = ["abidw", "--headers-dir", headers] + ABIDW_OPTIONS + ["--out-file", baseline, library]
    subprocess.run(command, check=True)
    print("check_abi: wrote the ABI of %s to %s" % (library, baseline))


def incompatible_changes(report, status):
    """Return the reasons the report is incompatible; an empty list means compatible."""
    reasons = []
    if status & ABIDIFF_ABI_INCOMPATIBLE_CHANGE:
        reasons.append("abidiff classified a change as incompatible")
    for kind, removed, changed, _added in SUMMARY.findall(report):
        if int(removed):
            reasons.append("removed %s: %s" % (kind.lower(), removed))
        if int(changed):
            reasons.append("changed %s: %s" % (kind.lower(), changed))
    for kind, removed in SYMBOL_SUMMARY.findall(report):
        if int(removed):
            reasons.append("removed %s symbols: %s" % (kind.lower(), removed))
    if "SONAME changed" in report:
        reasons.append("the SONAME changed")
    if status & ABIDIFF_ABI_CHANGE and not reasons and not SUMMARY.search(report):
        reasons.append("abidiff reported a change that this script cannot classify")
    return reasons


def compare(library, baseline):
    # No --hd2 here: with it, abidiff counts types from system headers as
    # private and filters a change between them (size_t to uint32_t) as
    # harmless. The library exports only schan.h's functions (schan.map), so
    # every type the comparison reaches is part of the C ABI.
    command = ["abidiff", "--exported-interfaces-only", "--no-show-locs", baseline, library]
    try:
        completed = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except FileNotFoundError:
        print("check_abi: abidiff not found: install the Debian package abigail-tools (scripts/setup-deps does)")
        return 1
    report = completed.stdout
    status = completed.returncode
    print(report, end="")

    if status & (ABIDIFF_ERROR | ABIDIFF_USAGE_ERROR):
        print("check_abi: abidiff failed with exit status %d: %s" % (status, " ".join(command)))
        return 1

    reasons = incompatible_changes(report, status)
    if reasons:
        print("check_abi: incompatible ABI change against %s: %s." % (baseline, "; ".join(reasons)))
        print("check_abi: restore the ABI, or follow ffi/README.md to bump SCHAN_ABI_VERSION "
              "and the SONAME and record a new baseline.")
        return 1
    if status & ABIDIFF_ABI_CHANGE:
        print("check_abi: compatible ABI additions only (listed above); the baseline still holds.")
    else:
        print("check_abi: the ABI matches %s." % baseline)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", required=True, help="the built libschan.so")
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="abidw output to compare with")
    parser.add_argument("--headers", default=DEFAULT_HEADERS, help="folder of the public headers")
    parser.add_argument("--update", action="store_true", help="write the baseline instead of comparing")
    args = parser.parse_args()

    if args.update:
        record(args.library, args.headers, args.baseline)
        return 0
    return compare(args.library, args.baseline)


if __name__ == "__main__":
    sys.exit(main())
