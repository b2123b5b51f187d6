#!/usr/bin/env python3
"""Writes docs/criterion.md from the results of `cargo bench -p monocoque-benches`.

Reads criterion's saved estimates (target/criterion/<group>/{libzmq,monocoque}/new/,
and monocoque-io2/ and monocoque-2t/ where the group has them: PUB/SUB through
handles of a context with two I/O threads, and with native sockets on two compio
threads), turns each median time per iteration into messages (or round trips)
per second with the group's declared throughput, and prints one table row per group
with the ratios.

    cargo bench -p monocoque-benches
    python3 scripts/criterion_table.py [criterion-dir] > docs/criterion.md
"""

import json
import os
import platform
import subprocess
import sys
import time


def rate(directory):
    """Elements per second at the median, or None if the benchmark did not run."""
    try:
        with open(os.path.join(directory, "new", "benchmark.json")) as f:
            elements = json.load(f)["throughput"]["Elements"]
        with open(os.path.join(directory, "new", "estimates.json")) as f:
            median_ns = json.load(f)["median"]["point_estimate"]
    except (OSError, KeyError, ValueError):
        return None
    return elements / (median_ns * 1e-9)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else default_dir()
    rows = []
    for group in sorted(os.listdir(root)):
        libzmq = rate(os.path.join(root, group, "libzmq"))
        mono = rate(os.path.join(root, group, "monocoque"))
        io2 = rate(os.path.join(root, group, "monocoque-io2"))
        two = rate(os.path.join(root, group, "monocoque-2t"))
        if libzmq and mono:
            rows.append((group, libzmq, mono, io2, two))
    print("# criterion: monocoque and libzmq side by side\n")
    print("Written by `scripts/criterion_table.py` from `cargo bench -p monocoque-benches`")
    print("(`benches/`): sender and receiver in one process, libzmq through the `zmq`")
    print("crate (its sender on a thread of its own), monocoque on one compio runtime")
    print("thread. Each sample moves about a second of traffic; the figure is criterion's")
    print("median per iteration turned into messages per second (REQ/REP: round trips")
    print("per second). Unpinned: `scripts/compare.sh` (docs/benchmarks.md) is the")
    print("measurement with processes pinned per core.\n")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
          f"kernel {platform.release()}; {rustc()}\n")
    print("`monocoque-io2`: the PUB/SUB groups again through handles of a context with two")
    print("I/O threads (`HandleOneWay` in benches/src/lib.rs). `monocoque-2t`: native")
    print("sockets on two compio threads, the XPUB on one and the SUBs on the other")
    print("(`ThreadsPubSub`).\n")
    print("| benchmark | libzmq (/s) | monocoque (/s) | monocoque / libzmq "
          "| monocoque-io2 (/s) | io2 / libzmq | monocoque-2t (/s) | 2t / libzmq |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for group, libzmq, mono, io2, two in rows:
        print(f"| {group} | {libzmq:,.0f} | {mono:,.0f} | {mono / libzmq:.2f} "
              f"| {beside(io2, libzmq)} | {beside(two, libzmq)} |")


def beside(rate_, libzmq):
    """A rate and its ratio to libzmq as two cells, or two empty cells."""
    return f"{rate_:,.0f} | {rate_ / libzmq:.2f}" if rate_ else " | "


def default_dir():
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        capture_output=True, text=True, check=True)
    return os.path.join(json.loads(meta.stdout)["target_directory"], "criterion")


def rustc():
    try:
        return subprocess.run(["rustc", "--version"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "rustc unknown"


if __name__ == "__main__":
    main()
