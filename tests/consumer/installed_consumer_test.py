#!/usr/bin/env python3
"""Install the build into a temporary prefix and build a consumer against it.

Steps, each failing the test with the command's output:
1. `cmake --install BUILD --prefix WORK/prefix`, then check the installed
   layout and that the CMake package does not mention GSL.
2. Configure and build tests/consumer/project with find_package(schan) and run
   both programs (shared and static) under peer_host.py: each performs a real
   handshake and GET against openssl s_server on 127.0.0.1.
3. Compile handshake.c with the flags of `pkg-config schan` and of
   `pkg-config --static schan-static`, and run both the same way.
"""
import argparse
import glob
import os
import shutil
import subprocess
import sys

STEP_TIMEOUT_S = 300


def run(command, env=None, cwd=None):
    print("+ " + " ".join(command), flush=True)
    completed = subprocess.run(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, timeout=STEP_TIMEOUT_S)
    print(completed.stdout, end="", flush=True)
    if completed.returncode != 0:
        raise SystemExit("installed consumer: command failed with exit code %d: %s"
                         % (completed.returncode, " ".join(command)))
    return completed.stdout


def check_layout(prefix):
    expected = [
        "include/schan/schan.h",
        "lib*/libschan.so",
        "lib*/libschan.so.1",
        "lib*/libschan_static.a",
        "lib*/cmake/schan/schanConfig.cmake",
        "lib*/cmake/schan/schanConfigVersion.cmake",
        "lib*/cmake/schan/schanTargets.cmake",
        "lib*/cmake/schan/schanStaticTargets.cmake",
        "lib*/pkgconfig/schan.pc",
        "lib*/pkgconfig/schan-static.pc",
        "bin/schan-client",
        "share/doc/schan/README.md",
    ]
    missing = [pattern for pattern in expected if not glob.glob(os.path.join(prefix, pattern))]
    if missing:
        raise SystemExit("installed consumer: missing from the install tree: " + ", ".join(missing))

    for package_file in glob.glob(os.path.join(prefix, "lib*", "cmake", "schan", "*.cmake")):
        with open(package_file, encoding="utf-8") as text:
            if "gsl" in text.read().lower():
                raise SystemExit("installed consumer: %s refers to GSL, which is private to the library"
                                 % package_file)


def run_under_peer_host(python, peer_host, program, env):
    output = run([python, peer_host, "--", program], env=env)
    if "PASS" not in output:
        raise SystemExit("installed consumer: %s did not print PASS" % program)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", required=True, help="the schan build folder to install")
    parser.add_argument("--work-dir", required=True, help="scratch folder, deleted and recreated")
    parser.add_argument("--source", required=True, help="tests/consumer in the source tree")
    parser.add_argument("--peer-host", required=True, help="tests/support/peer_host.py")
    parser.add_argument("--config", default="", help="build configuration to install")
    args = parser.parse_args()

    shutil.rmtree(args.work_dir, ignore_errors=True)
    os.makedirs(args.work_dir)
    prefix = os.path.join(args.work_dir, "prefix")

    install = ["cmake", "--install", args.build_dir, "--prefix", prefix]
    if args.config:
        install += ["--config", args.config]
    run(install)
    check_layout(prefix)
    libdir = os.path.dirname(glob.glob(os.path.join(prefix, "lib*", "libschan.so"))[0])

    # find_package: the package's imported targets carry the include folder and libraries.
    project_build = os.path.join(args.work_dir, "cmake-consumer")
    run(["cmake", "-S", os.path.join(args.source, "project"), "-B", project_build,
         "-DCMAKE_PREFIX_PATH=" + prefix, "-DCMAKE_BUILD_TYPE=Release"])
    run(["cmake", "--build", project_build])
    for name in ("consumer_shared", "consumer_static"):
        run_under_peer_host(sys.executable, args.peer_host, os.path.join(project_build, name), dict(os.environ))

    # pkg-config: the shared build has no run path, so the loader is pointed at the prefix.
    pkg_env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(libdir, "pkgconfig"))
    compiler = os.environ.get("CC", "cc")
    source = os.path.join(args.source, "handshake.c")
    variants = [("pkgconfig_shared", ["schan"]), ("pkgconfig_static", ["--static", "schan-static"])]
    for name, package in variants:
        flags = run(["pkg-config", "--cflags", "--libs"] + package, env=pkg_env).split()
        program = os.path.join(args.work_dir, name)
        run([compiler, "-std=c99", "-pedantic", "-Werror", "-Wall", "-Wextra", "-o", program, source] + flags)
        run_env = dict(os.environ, LD_LIBRARY_PATH=libdir)
        run_under_peer_host(sys.executable, args.peer_host, program, run_env)

    print("PASS")


if __name__ == "__main__":
    main()
