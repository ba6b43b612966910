#!/usr/bin/env python3
"""Run every schan benchmark and write docs/benchmarks.md.

scripts/bench builds the programs and calls this script. Each benchmark
pairs a schan command with a reference command that does the same work
without schan. One round runs both once, in alternating order, and yields
one ratio. Rounds repeat until the last three ratios lie within SPREAD of
their median, or until MAX_ROUNDS ran. The report gives the medians. Ratios come
from rounds of the same run only, because absolute times on a shared
machine drift between runs.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIB = 1 << 20

# Narrows TLS 1.3 to one cipher suite for schan and the references alike:
# OpenSSL reads this file through OPENSSL_CONF when libssl starts.
OPENSSL_CONF = """\
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_section
[ssl_section]
system_default = system_default_section
[system_default_section]
Ciphersuites = TLS_AES_128_GCM_SHA256
"""


class Runner:
    def __init__(self, options, environment):
        self.options = options
        self.environment = environment

    def once(self, command, timeout):
        result = subprocess.run(command, env=self.environment, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError("%s failed with exit code %d: %s" % (" ".join(command), result.returncode,
                                                                    result.stderr.strip()[-2000:]))
        return json.loads(result.stdout.strip().splitlines()[-1])

    def compare(self, schan_command, reference_command, metric, timeout=600):
        """Run both commands in rounds; return medians and the median ratio schan/reference."""
        schan_values, reference_values, ratios = [], [], []
        for round_index in range(self.options.max_rounds):
            pair = [(schan_values, schan_command), (reference_values, reference_command)]
            if round_index % 2:
                pair.reverse()
            for values, command in pair:
                values.append(self.once(command, timeout)[metric])
            ratios.append(schan_values[-1] / reference_values[-1])
            if len(ratios) >= 3:
                recent = ratios[-3:]
                middle = statistics.median(recent)
                if (max(recent) - min(recent)) / middle <= self.options.spread:
                    break
        recent = ratios[-3:]
        return {
            "schan": statistics.median(schan_values),
            "reference": statistics.median(reference_values),
            "ratio": statistics.median(ratios),
            "rounds": len(ratios),
            "spread": (max(recent) - min(recent)) / statistics.median(recent),
        }


def command_line(command):
    return " ".join(os.path.relpath(part, ROOT) if part.startswith(ROOT) else part for part in command)


def make_pki(folder):
    subprocess.run([sys.executable, os.path.join(ROOT, "tests", "support", "test_pki.py"), folder],
                   check=True, capture_output=True)
    with open(os.path.join(folder, "leaf-ec-chain.pem"), "wb") as chain:
        for name in ("leaf-ec.pem", "inter.pem"):
            with open(os.path.join(folder, name), "rb") as part:
                chain.write(part.read())


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return "%d CPUs (nproc), %s, %s, %s" % (os.cpu_count(), model, platform.platform(),
                                           subprocess.run(["openssl", "version"], capture_output=True,
                                                          text=True).stdout.strip())


class Report:
    def __init__(self):
        self.lines = []
        self.targets = []

    def section(self, title, text):
        self.lines += ["", "## " + title, "", text.strip(), ""]

    def table(self, unit, rows):
        self.lines.append("| case | schan %s | reference %s | ratio | rounds | spread |" % (unit, unit))
        self.lines.append("|---|---:|---:|---:|---:|---:|")
        for name, result in rows:
            self.lines.append("| %s | %.1f | %.1f | %.3f | %d | %.1f%% |" % (
                name, result["schan"], result["reference"], result["ratio"], result["rounds"],
                100 * result["spread"]))
        self.lines.append("")

    def command(self, text):
        self.lines += ["Command of one round:", "", "```", text, "```", ""]

    def target(self, name, goal, measured, met, cause=""):
        """Record a target; the known cause is printed only for a shortfall."""
        if met:
            self.targets.append((name, goal, measured, "met", ""))
        else:
            self.targets.append((name, goal, measured, "shortfall", cause or "not profiled"))


def bench_native(runner, report, options, pki):
    program = os.path.join(options.build, "bench", "bench_native")
    size = options.bytes

    rows = []
    for write_size in (65536, 16384, 1024):
        # Small writes cost more per byte, so they move less data per round.
        divisor = {65536: 1, 16384: 4, 1024: 16}[write_size]
        payload = max(size // divisor, MIB)
        commands = [[program, pki, "bulk", impl, str(payload), str(write_size)] for impl in ("schan", "openssl")]
        result = runner.compare(commands[0], commands[1], "mib_per_cpu_s")
        rows.append(("%s MiB in %d-byte writes" % (payload // MIB, write_size), result))
        if write_size == 65536:
            bulk64 = result
            example = commands[0]
    report.section("Bulk throughput, native (OpenSSL backend)", """
A schan client and a schan server move data one way, pumped in memory through
the C ABI (schan_encrypt, schan_take_output, schan_feed, schan_decrypt) in
64 KiB transfers. The reference is a raw OpenSSL client and server joined by
memory BIOs in the same pump with no schan code. TLS 1.3, TLS_AES_128_GCM_SHA256,
ECDSA P-256 leaf. Figures in MiB of plaintext per CPU second; one untimed MiB
precedes the timed transfer.""")
    report.table("MiB/CPU-s", rows)
    report.command(command_line(example) + "   # and the same with openssl in place of schan")
    report.target("native bulk, 64 KiB writes", ">= 0.97x raw OpenSSL", "%.3fx" % bulk64["ratio"],
                  bulk64["ratio"] >= 0.97, options.causes.get("native-bulk", ""))

    rows = []
    worst = None
    for version in ("1.3", "1.2"):
        for key_type in ("ecdsa", "rsa"):
            commands = [[program, pki, "handshake", impl, version, key_type, "full", str(options.handshakes)]
                        for impl in ("schan", "openssl")]
            result = runner.compare(commands[0], commands[1], "per_cpu_s")
            rows.append(("TLS %s, %s leaf, full" % (version, "ECDSA P-256" if key_type == "ecdsa" else "RSA-2048"),
                         result))
            worst = result if worst is None or result["ratio"] < worst["ratio"] else worst
    resumed_rows = []
    for version in ("1.3", "1.2"):
        commands = [[program, pki, "handshake", impl, version, "ecdsa", "resume", str(options.handshakes)]
                    for impl in ("schan", "openssl")]
        result = runner.compare(commands[0], commands[1], "per_cpu_s")
        resumed = [runner.once(command, 600)["resumed"] for command in commands]
        resumed_rows.append(("TLS %s, ECDSA P-256 leaf, resumed (%d and %d of %d resumed)" % (
            version, resumed[0], resumed[1], options.handshakes), result))
    report.section("Handshake rate, in memory", """
Handshakes per CPU second, client and server in one thread, each handshake
with new sessions made from configs (schan) or SSL_CTX objects (OpenSSL) built
once. The client verifies the chain against the test root and the host name.
In the resumed rows both clients talk to the same raw OpenSSL server, which
issues tickets, because a schan server with the OpenSSL backend sends none. The
schan client has schan_config_enable_resumption on, and the raw client reuses
the SSL_SESSION of its previous connection.""")
    report.table("handshakes/CPU-s", rows + resumed_rows)
    report.command(command_line(commands[0]))
    report.target("handshakes (worst full case)", ">= 0.95x raw OpenSSL", "%.3fx" % worst["ratio"],
                  worst["ratio"] >= 0.95, options.causes.get("handshake", ""))

    allocation_rows = []
    worst_allocations = 0.0
    for write_size in (65536, 1024):
        payload = min(size, 256 * MIB) if write_size == 65536 else 16 * MIB
        command = [program, pki, "allocations", str(payload), str(write_size)]
        result = runner.once(command, 600)
        worst_allocations = max(worst_allocations, result["per_record"])
        allocation_rows.append("| %d MiB in %d-byte writes | %d | %d | %.4f |" % (
            result["bytes"] // MIB, write_size, result["records"], result["allocations"], result["per_record"]))
    memory = {impl: runner.once([program, pki, "idle-memory", impl, "100"], 600) for impl in ("schan", "openssl")}
    report.section("Allocations and memory", """
Method: bench_native replaces the global operator new and delete. schan's C++
code allocates through them, while OpenSSL allocates with malloc, so the
counters see schan's own allocations only. "Allocations per record" counts
operator new calls during a steady-state transfer (after one untimed MiB) on
both the client and the server, divided by the records sent. "Own bytes" are
the bytes schan holds through operator new per idle open session (100 sessions
after a TLS 1.3 handshake with an ECDSA leaf, no data sent). "Heap bytes" are
glibc's bytes in use (mallinfo2) per session, schan and OpenSSL together, next
to the same figure for a raw OpenSSL session whose memory BIOs keep the
buffers of the handshake.""")
    report.lines += ["| transfer | records | operator new calls | per record |", "|---|---:|---:|---:|"]
    report.lines += allocation_rows + [""]
    report.lines += ["| idle session | schan own bytes | schan heap bytes | raw OpenSSL heap bytes |",
                     "|---|---:|---:|---:|"]
    for role in ("client", "server"):
        report.lines.append("| %s | %d | %d | %d |" % (role, memory["schan"][role + "_own"],
                                                       memory["schan"][role + "_heap"],
                                                       memory["openssl"][role + "_heap"]))
    report.lines.append("")
    report.command(command_line([program, pki, "idle-memory", "schan", "100"]))
    report.target("heap allocations per record, steady state", "0", "%.4f" % worst_allocations,
                  worst_allocations == 0)
    own = max(memory["schan"]["client_own"], memory["schan"]["server_own"])
    report.target("memory per idle session beyond the backend", "<= 40 KiB", "%.1f KiB" % (own / 1024),
                  own <= 40 * 1024)


def bench_wine(runner, report, options, pki):
    program = os.path.join(options.mingw_build, "bench", "bench_sspi.exe")
    wrapper = [sys.executable, os.path.join(ROOT, "bench", "wine_bulk.py"), program, pki]
    size = options.wine_bytes
    commands = [wrapper + [impl, str(size), "65536"] for impl in ("schan", "sspi")]
    result = runner.compare(commands[0], commands[1], "mib_per_s")
    report.section("Bulk throughput, SChannel under Wine", """
The Windows build's client (schan's code linked statically) sends data in
64 KiB writes over loopback TCP to a native receiver, a Python ssl server.
The reference is a raw SSPI client loop (InitializeSecurityContext and
EncryptMessage, no schan code) sending to the same receiver. Wine 8's SChannel negotiates TLS
1.2 only; the cipher suite is the receiver's choice. Figures in MiB per second
of wall-clock time, which ends when the receiver acknowledges the last byte,
because the CPU time of a Wine process also lands in wineserver.""")
    report.table("MiB/s", [("%d MiB in 65536-byte writes" % (size // MIB), result)])
    report.command(command_line(commands[0]))
    report.target("SChannel bulk under Wine, 64 KiB writes", ">= 0.97x raw SSPI", "%.3fx" % result["ratio"],
                  result["ratio"] >= 0.97, options.causes.get("wine-bulk", ""))


def bench_python(runner, report, options, pki):
    script = os.path.join(ROOT, "bench", "python_bulk.py")
    rows = []
    for mode, label in (("socket", "SSLSocket over loopback TCP"), ("object", "SSLObject and MemoryBIO in memory")):
        commands = [[sys.executable, script, pki, mode, impl, str(options.python_bytes)] for impl in ("schan", "ssl")]
        result = runner.compare(commands[0], commands[1], "mib_per_cpu_s")
        rows.append(("%s, %d MiB" % (label, options.python_bytes // MIB), result))
    report.section("Python binding", """
schan's Python package against the standard ssl module (%s), both as clients
sending in 64 KiB writes to the same server built on ssl. TLS 1.3,
TLS_AES_128_GCM_SHA256, ECDSA P-256 leaf. Figures in MiB per CPU second of the
client process (the server runs in a child process over TCP, and in the same
process with SSLObject).""" % sys.version.split()[0])
    report.table("MiB/CPU-s", rows)
    report.command(command_line(commands[0]))
    worst = min(result["ratio"] for _name, result in rows)
    report.target("Python bulk", ">= 1.0x ssl", "%.3fx" % worst, worst >= 1.0, options.causes.get("python", ""))


def bench_lisp(runner, report, options, pki):
    script = os.path.join(ROOT, "bench", "lisp_bulk.lisp")
    commands = [["sbcl", "--script", script, ROOT, pki, impl, str(options.lisp_bytes)] for impl in ("schan", "cl+ssl")]
    result = runner.compare(commands[0], commands[1], "mib_per_cpu_s")
    report.section("Lisp binding", """
SBCL writes data with write-sequence in 64 KiB vectors through schan's TLS
stream and through CL+SSL's stream (Debian's cl-plus-ssl) over loopback TCP to
the same receiver, a Python ssl server in a child process, which acknowledges
the last byte. CL+SSL is given the socket's file descriptor, its fast path;
schan's stream runs over the usocket stream. Figures in MiB per CPU second of
the SBCL process.""")
    report.table("MiB/CPU-s", [("%d MiB in 65536-byte writes" % (options.lisp_bytes // MIB), result)])
    report.command(command_line(commands[0]))
    report.target("Lisp bulk", ">= 2x CL+SSL", "%.3fx" % result["ratio"], result["ratio"] >= 2.0,
                  options.causes.get("lisp", ""))


def write_report(report, options, started):
    header = [
        "# Benchmarks",
        "",
        "Generated by `./scripts/bench` on %s UTC; do not edit by hand. Machine: %s." % (
            started.strftime("%Y-%m-%d %H:%M"), machine()),
        "",
        "Most figures are per CPU second of the measuring process, which load from",
        "other programs on a shared machine changes far less than wall-clock time.",
        "Every ratio is schan's figure divided by the reference's, as the median of",
        "per-round ratios from interleaved rounds of this run (higher is better for",
        "schan). Rounds stop when the last three ratios lie within %.0f%% of their" % (100 * options.spread),
        "median, or after %d rounds; the spread column shows that range. Absolute" % options.max_rounds,
        "figures depend on the machine and its load and are not comparable between runs.",
        "",
        "## Targets",
        "",
        "| target | goal | measured | result | cause of a shortfall |",
        "|---|---|---|---|---|",
    ]
    for row in report.targets:
        header.append("| %s | %s | %s | %s | %s |" % row)
    notes_path = os.path.join(ROOT, "bench", "notes.md")
    notes = []
    if os.path.exists(notes_path):
        with open(notes_path) as handle:
            notes = ["", handle.read().strip()]
    with open(options.output, "w") as handle:
        handle.write("\n".join(header + report.lines + notes).rstrip() + "\n")


def load_causes():
    path = os.path.join(ROOT, "bench", "causes.json")
    if not os.path.exists(path):
        return {}
    with open(path) as handle:
        return json.load(handle)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", required=True, help="native release build folder")
    parser.add_argument("--mingw-build", help="mingw release build folder; omit to skip the Wine benchmark")
    parser.add_argument("--bytes", type=int, default=1024 * MIB, help="native bulk bytes at 64 KiB writes")
    parser.add_argument("--wine-bytes", type=int, default=256 * MIB, help="bytes sent under Wine")
    parser.add_argument("--python-bytes", type=int, default=256 * MIB, help="bytes sent by the Python clients")
    parser.add_argument("--lisp-bytes", type=int, default=256 * MIB, help="bytes sent by the Lisp clients")
    parser.add_argument("--handshakes", type=int, default=500, help="handshakes per round")
    parser.add_argument("--max-rounds", type=int, default=9, help="rounds after which a benchmark stops (default 9)")
    parser.add_argument("--spread", type=float, default=0.05, help="relative spread that ends the rounds")
    parser.add_argument("--skip", action="append", default=[], choices=["native", "wine", "python", "lisp"],
                        help="leave out a group of benchmarks; may be repeated")
    parser.add_argument("--output", default=os.path.join(ROOT, "docs", "benchmarks.md"))
    options = parser.parse_args()
    options.causes = load_causes()
    started = datetime.datetime.now(datetime.timezone.utc)

    work = tempfile.mkdtemp(prefix="schan-bench-")
    try:
        pki = os.path.join(work, "pki")
        os.mkdir(pki)
        make_pki(pki)
        conf = os.path.join(work, "openssl.cnf")
        with open(conf, "w") as handle:
            handle.write(OPENSSL_CONF)
        environment = dict(os.environ, OPENSSL_CONF=conf,
                           SCHAN_LIBRARY=os.path.join(os.path.abspath(options.build), "src", "libschan.so"))
        runner = Runner(options, environment)
        report = Report()
        steps = [("native", bench_native), ("wine", bench_wine), ("python", bench_python), ("lisp", bench_lisp)]
        for name, step in steps:
            if name in options.skip or (name == "wine" and not options.mingw_build):
                continue
            print("=== %s" % name, flush=True)
            step(runner, report, options, pki)
        write_report(report, options, started)
        print("\n".join("%s: %s (%s, goal %s)" % (row[0], row[3], row[2], row[1]) for row in report.targets))
        print("wrote %s" % options.output)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
