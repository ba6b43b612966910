#!/usr/bin/env python3
"""Run one round of the SChannel bulk benchmark under Wine; print one JSON line.

  wine_bulk.py BENCH_SSPI_EXE PKI schan|sspi BYTES WRITE_SIZE

Starts bench/python_bulk.py's receiver (a Python ssl server accepting TLS
1.2) and runs BENCH_SSPI_EXE against it with wine. WINEPREFIX selects the
Wine prefix; scripts/bench gives the benchmarks their own.
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    program, pki, implementation, total, write_size = sys.argv[1:]
    receiver = subprocess.Popen([sys.executable, os.path.join(HERE, "python_bulk.py"), pki, "serve", total, "1.2"],
                                stdout=subprocess.PIPE, text=True)
    try:
        port = receiver.stdout.readline().strip()
        result = subprocess.run(["wine", program, implementation, port, total, write_size],
                                capture_output=True, text=True, timeout=600,
                                env=dict(os.environ, WINEDEBUG="-all"))
        if result.returncode != 0:
            sys.exit("bench_sspi.exe failed with exit code %d: %s" % (result.returncode, result.stderr[-2000:]))
        receiver.wait(timeout=60)
        if receiver.returncode != 0:
            sys.exit("the receiver failed with exit code %d" % receiver.returncode)
        print(result.stdout.strip().splitlines()[-1])
    finally:
        if receiver.poll() is None:
            receiver.kill()
            receiver.wait()


if __name__ == "__main__":
    main()
