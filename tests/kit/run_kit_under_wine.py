#!/usr/bin/env python3
"""Pack the Windows test kit from a mingw build and run it under Wine.

Runs scripts/windows-kit --build-dir and unzips the kit into a temporary
folder. Then it runs `wine cmd /c run-tests.cmd` there, in a Wine prefix of
its own (BUILD_DIR/kit-wineprefix), and checks report.txt: every suite
reports its summary, no line reports a failure, and every skipped case names
a reason.
"""

import argparse
import glob
import os
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUITES = ("kit_tests", "core_tests", "schannel_verification_tests")
KIT_TIMEOUT_SECONDS = 240


def wine_environment(prefix):
    environment = dict(os.environ)
    environment["WINEPREFIX"] = prefix
    environment["WINEDEBUG"] = "-all"
    return environment


def create_prefix(environment):
    """Create the prefix on first use (about 7 s); later runs reuse it."""
    prefix = environment["WINEPREFIX"]
    if not os.path.isfile(os.path.join(prefix, "system.reg")):
        os.makedirs(prefix, exist_ok=True)
        subprocess.run(["wineboot", "--init"], env=environment, check=True, timeout=300,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def check_report(report):
    """Return the problems found in report.txt's text."""
    problems = []
    lines = report.splitlines()
    for suite in SUITES:
        if not any(line.startswith(suite + ": ") for line in lines):
            problems.append("no summary line for " + suite)
    for line in lines:
        if line.startswith("failed"):
            problems.append("a failure: " + line)
        if line.startswith("skipped"):
            reason = line.partition(": ")[2].strip()
            if not reason or reason == "no reason given":
                problems.append("a skip without a reason: " + line)
    if not any(line.startswith("passed   ") for line in lines):
        problems.append("no kit_tests case passed")
    if "Result: passed." not in report:
        problems.append("no 'Result: passed.' line")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build-dir", required=True, help="the mingw build folder whose programs the kit contains")
    arguments = parser.parse_args()
    build_dir = os.path.abspath(arguments.build_dir)
    environment = wine_environment(os.path.join(build_dir, "kit-wineprefix"))

    with tempfile.TemporaryDirectory(prefix="schan-kit-test-") as folder:
        archive = os.path.join(folder, "kit.zip")
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "windows-kit"), "--build-dir", build_dir,
                        "--output", archive], check=True)
        with zipfile.ZipFile(archive) as kit:
            kit.extractall(folder)
        kit_dir = glob.glob(os.path.join(folder, "schan-windows-kit-*"))[0]

        create_prefix(environment)
        try:
            result = subprocess.run(["wine", "cmd", "/c", "run-tests.cmd"], cwd=kit_dir, env=environment,
                                    timeout=KIT_TIMEOUT_SECONDS, capture_output=True, text=True)
        finally:
            subprocess.run(["wineserver", "-k"], env=environment, check=False)

        report_path = os.path.join(kit_dir, "report.txt")
        report = open(report_path, encoding="utf-8", errors="replace").read() if os.path.exists(report_path) else ""
        print(report)
        problems = check_report(report)
        if result.returncode != 0:
            problems.append("run-tests.cmd exited with code %d" % result.returncode)
        if problems:
            for log in sorted(glob.glob(os.path.join(kit_dir, "logs", "*.log"))):
                print("--- " + os.path.basename(log))
                print(open(log, encoding="utf-8", errors="replace").read())
            print("windows kit under Wine: " + "; ".join(problems))
            return 1
    print("windows kit under Wine: every part passed or was skipped with a reason")
    return 0


if __name__ == "__main__":
    sys.exit(main())
