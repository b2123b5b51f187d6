#!/usr/bin/env bash
# Compares monocoque's CURVE with libzmq 4.3.5's (pyzmq's wheel, built with
# libsodium), in libzmq's perf tools' conventions, and writes the medians to OUT.
#
# Builds perf-curve/*.c with gcc against pyzmq's libzmq (scripts/pyzmq installs it
# the first time; zmq.h comes from the zeromq-src crate in the cargo registry) and
# monocoque's examples/perf tools in release, then runs each case as two processes
# pinned with taskset, REPS times per implementation, alternating:
#   - PUSH/PULL throughput over tcp, 64 B, 1 KiB, 64 KiB (receiver core 0, sender
#     core 1): libzmq CURVE, monocoque --curve, and monocoque without CURVE, so that
#     crypto's cost per message is 1/rate(curve) - 1/rate(plain);
#   - REQ/REP latency over tcp, 64 B and 1 KiB (both on core 0);
#   - CURVE handshakes per second (both on core 0): a new REQ per handshake that
#     connects, sends 1 byte, gets the echo and closes (linger 0); monocoque with
#     the native API and with handles (--api handle).
#
#   scripts/compare_curve.sh                 full run (a few minutes; a quiet machine)
#   QUICK=1 REPS=1 scripts/compare_curve.sh  counts / 20: a smoke run, not a measurement
#
# Environment: QUICK=1, REPS (default 5), BASE_PORT (default 16555), OUT (default
# docs/benchmarks-curve.md), CARGO_TARGET_DIR (honoured). Needs Rust, gcc, python3
# and network access the first time (pyzmq from PyPI).
set -euo pipefail

cd "$(dirname "$0")/.."
REPS=${REPS:-5}
PORT=${BASE_PORT:-16555}
OUT=${OUT:-docs/benchmarks-curve.md}
QUICK=${QUICK:-0}
DIV=1
[ "$QUICK" = 1 ] && DIV=20
RUN_TIMEOUT=120

echo "== building =="
cargo build --release -p monocoque-examples --example local_thr --example remote_thr \
    --example local_lat --example remote_lat \
    --example curve_handshakes --example curve_handshake_server
TARGET=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
MONO=$TARGET/release/examples
PY=$(scripts/pyzmq)
LIBZMQ_SO=$(ls "$(dirname "$PY")"/../lib/python3.*/site-packages/pyzmq.libs/libzmq-*.so.* | head -1)
LIBS=$(cd "$(dirname "$LIBZMQ_SO")" && pwd)
CARGO_REGISTRY=${CARGO_HOME:-$HOME/.cargo}/registry/src
ZMQ_H=$(ls "$CARGO_REGISTRY"/*/zeromq-src-*/vendor/include/zmq.h 2>/dev/null | head -1) ||
    true
if [ -z "$ZMQ_H" ]; then
    cargo fetch
    ZMQ_H=$(ls "$CARGO_REGISTRY"/*/zeromq-src-*/vendor/include/zmq.h | head -1)
fi
CBIN=$TARGET/perf-curve
mkdir -p "$CBIN"
for tool in curve_local_thr curve_remote_thr curve_local_lat curve_remote_lat \
    curve_handshakes curve_handshake_server; do
    gcc -O2 -Wall -Wextra -std=c99 -D_POSIX_C_SOURCE=200809L -I"$(dirname "$ZMQ_H")" \
        -o "$CBIN/$tool" "perf-curve/$tool.c" "$LIBZMQ_SO" -Wl,-rpath,"$LIBS"
done
LIBZMQ_VERSION=$("$PY" -c 'import zmq; print(zmq.zmq_version(), "(pyzmq", zmq.__version__ + ")")')

PINNING="throughput: receiver core 0, sender core 1; latency and handshakes: both on core 0"
# pin CPU sets PIN, the command prefix that pins to CPU. (A prefix, not a function
# running the command: $! of a backgrounded function is a subshell, and killing it
# would leave the server running.)
if command -v taskset >/dev/null 2>&1 && taskset -c 0,1 true 2>/dev/null; then
    pin() { PIN=(taskset -c "$1"); }
else
    echo "warning: taskset missing or cores 0-1 unavailable: running UNPINNED" >&2
    PINNING="none: taskset was not available"
    pin() { PIN=(); }
fi

WORK=$(mktemp -d /tmp/monocoque-compare-curve.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
: >"$WORK/results.tsv"
: >"$WORK/commands.tsv"

# Waits (up to 10 s) until something listens on tcp port $1; fails at once if
# process $2 has exited.
wait_listening() {
    local hex i
    hex=$(printf ':%04X' "$1")
    for i in $(seq 1 1000); do
        kill -0 "$2" 2>/dev/null || return 1
        # State 0A is LISTEN in /proc/net/tcp{,6}.
        awk -v p="$hex" '$2 ~ p"$" && $4 == "0A" {f=1} END {exit !f}' \
            /proc/net/tcp /proc/net/tcp6 2>/dev/null && return 0
        sleep 0.01
    done
    return 1
}

# commands IMPL KIND ENDPOINT SIZE COUNT: sets SERVER and CLIENT (arrays) for one run.
commands() {
    local impl=$1 kind=$2 endpoint=$3 size=$4 count=$5 flags=()
    # The handshake tools are CURVE always; the others with --curve.
    case $impl/$kind in */hs) ;; monocoque/*) flags=(--curve) ;; esac
    [ "$impl" = handle ] && flags=(--api handle)
    case $impl/$kind in
    libzmq/hs) SERVER=("$CBIN/curve_handshake_server" "$endpoint")
        CLIENT=("$CBIN/curve_handshakes" "$endpoint" "$count") ;;
    */hs) SERVER=("$MONO/curve_handshake_server" "$endpoint" "${flags[@]}")
        CLIENT=("$MONO/curve_handshakes" "$endpoint" "$count" "${flags[@]}") ;;
    libzmq/*) SERVER=("$CBIN/curve_local_$kind" "$endpoint" "$size" "$count")
        CLIENT=("$CBIN/curve_remote_$kind" "$endpoint" "$size" "$count") ;;
    *) SERVER=("$MONO/local_$kind" "$endpoint" "$size" "$count" "${flags[@]}")
        CLIENT=("$MONO/remote_$kind" "$endpoint" "$size" "$count" "${flags[@]}") ;;
    esac
}

# run_pair IMPL KIND PORT SERVER_CPU CLIENT_CPU: runs SERVER and CLIENT, prints the
# figure. The server binds and starts first; a handshake server runs until the
# client is done.
run_pair() {
    local impl=$1 kind=$2 port=$3 scpu=$4 ccpu=$5 spid src=0 frc=0
    pin "$scpu"
    "${PIN[@]}" timeout $RUN_TIMEOUT "${SERVER[@]}" >"$WORK/server.out" 2>"$WORK/server.err" &
    spid=$!
    if ! wait_listening "$port" "$spid"; then
        kill "$spid" 2>/dev/null || true
        echo "FAILED: $impl $kind: the server did not listen" >&2
        cat "$WORK/server.err" >&2
        return 1
    fi
    pin "$ccpu"
    "${PIN[@]}" timeout $RUN_TIMEOUT "${CLIENT[@]}" >"$WORK/client.out" 2>"$WORK/client.err" ||
        src=$?
    if [ "$kind" = hs ]; then
        kill "$spid" 2>/dev/null || true
        wait "$spid" 2>/dev/null || true
    else
        wait "$spid" || frc=$?
    fi
    if [ $src != 0 ] || [ $frc != 0 ]; then
        echo "FAILED: $impl $kind (server rc $frc, client rc $src)" >&2
        cat "$WORK/server.err" "$WORK/client.err" >&2
        return 1
    fi
    case $kind in
    thr) awk '/^mean throughput: .*\[msg\/s\]/ {print $3}' "$WORK/server.out" ;;
    lat) awk '/^average latency:/ {print $3}' "$WORK/client.out" ;;
    hs) awk '/^mean rate:/ {print $3}' "$WORK/client.out" ;;
    esac
}

# run_case KIND SIZE COUNT SERVER_CPU CLIENT_CPU IMPL...
run_case() {
    local kind=$1 size=$2 count=$(($3 / DIV)) scpu=$4 ccpu=$5 rep impl value
    local id="$kind $size B"
    [ "$kind" = hs ] && id=handshakes
    echo "== $id x $count (cpus $scpu/$ccpu): ${*:6} =="
    for rep in $(seq 1 "$REPS"); do
        for impl in "${@:6}"; do
            PORT=$((PORT + 1))
            commands "$impl" "$kind" "tcp://127.0.0.1:$PORT" "$size" "$count"
            if value=$(run_pair "$impl" "$kind" "$PORT" "$scpu" "$ccpu") &&
                [ -n "$value" ]; then
                echo "  rep $rep $impl: $value"
            else
                value=FAIL
                echo "  rep $rep $impl: FAILED"
            fi
            printf '%s\t%s\t%s\n' "$id" "$impl" "$value" >>"$WORK/results.tsv"
            if [ "$rep" = 1 ]; then
                printf '%s\t%s\ttaskset -c %s %s & taskset -c %s %s\n' "$id" "$impl" \
                    "$scpu" "${SERVER[*]#"$PWD/"}" "$ccpu" "${CLIENT[*]#"$PWD/"}" \
                    >>"$WORK/commands.tsv"
            fi
        done
    done
}

# On a 2-core VM a run takes about 1 s (libzmq, plain) to 10 s (monocoque CURVE, 64 KiB).
#        kind size  count   server client implementations
run_case thr  64    1000000 0 1 libzmq monocoque plain
run_case thr  1024  400000  0 1 libzmq monocoque plain
run_case thr  65536 20000   0 1 libzmq monocoque plain
run_case lat  64    20000   0 0 libzmq monocoque
run_case lat  1024  20000   0 0 libzmq monocoque
run_case hs   -     3000    0 0 libzmq monocoque handle

CPU=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -1)
mkdir -p "$(dirname "$OUT")"
INFO="| date | $(date -u '+%Y-%m-%d %H:%M UTC') |
| kernel | $(uname -r) |
| CPU | ${CPU:-unknown} ($(nproc) cores online) |
| rustc | $(rustc --version) |
| libzmq | $LIBZMQ_VERSION, with libsodium |
| pinning | $PINNING |
| runs per case | $REPS$([ "$QUICK" = 1 ] && echo ', QUICK=1: counts / 20') |" \
    QUICK=$QUICK python3 - "$WORK/results.tsv" "$WORK/commands.tsv" "$OUT" <<'PY'
import os, statistics, sys
results, commands, out = sys.argv[1:]
runs, order = {}, []
for line in open(results):
    case, impl, value = line.rstrip("\n").split("\t")
    if case not in runs:
        order.append(case)
    runs.setdefault(case, {}).setdefault(impl, []).append(value)

def med(case, impl):
    ok = [float(v) for v in runs[case].get(impl, []) if v != "FAIL"]
    return statistics.median(ok) if ok else None

def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "n/a"

def num(v, fmt):
    return fmt.format(v) if v is not None else "failed"

lines = ["# CURVE: monocoque vs libzmq 4.3.5", ""]
if os.environ["QUICK"] == "1":
    lines += ["**QUICK=1 smoke run (counts / 20): these numbers are not measurements.**", ""]
lines += [
    "Written by `scripts/compare_curve.sh`. libzmq: the C tools in `perf-curve/` on",
    "pyzmq's libzmq (built with libsodium); monocoque: `examples/perf` with `--curve`",
    "(native compio sockets). Both use the test keys of libzmq's `zmq_curve(7)`, the",
    "binding side as the CURVE server, no ZAP handler. Each value is the median of the",
    "runs listed; ratios are monocoque / libzmq.",
    "",
    "| | |", "| --- | --- |", os.environ["INFO"], "",
    "## PUSH/PULL throughput over tcp (msg/s, > 1 is better)", "",
    "\"plain\" is monocoque without CURVE; crypto per message = 1/curve - 1/plain.", "",
    "| size | libzmq CURVE | monocoque CURVE | monocoque / libzmq | monocoque plain "
    "| monocoque crypto per message |",
    "| ---: | ---: | ---: | ---: | ---: | ---: |",
]
for case in [c for c in order if c.startswith("thr ")]:
    z, m, p = med(case, "libzmq"), med(case, "monocoque"), med(case, "plain")
    cost = f"{(1 / m - 1 / p) * 1e9:,.0f} ns" if m and p else "n/a"
    lines.append(f"| {case.split()[1]} B | {num(z, '{:,.0f}')} | {num(m, '{:,.0f}')} "
                 f"| {ratio(m, z)} | {num(p, '{:,.0f}')} | {cost} |")
lines += ["", "## REQ/REP one-way latency over tcp, same core (us, < 1 is better)", "",
          "| size | libzmq CURVE | monocoque CURVE | monocoque / libzmq |",
          "| ---: | ---: | ---: | ---: |"]
for case in [c for c in order if c.startswith("lat ")]:
    z, m = med(case, "libzmq"), med(case, "monocoque")
    lines.append(f"| {case.split()[1]} B | {num(z, '{:.3f}')} | {num(m, '{:.3f}')} "
                 f"| {ratio(m, z)} |")
lines += ["", "## CURVE handshakes per second, same core (> 1 is better)", "",
          "Each: a new REQ connects, sends 1 byte, receives the echo, closes (linger 0).",
          "\"handle\": monocoque's `--api handle` (one `Context`, blocking calls).", "",
          "| libzmq | monocoque | monocoque / libzmq | handle | handle / libzmq |",
          "| ---: | ---: | ---: | ---: | ---: |"]
for case in [c for c in order if c == "handshakes"]:
    z, m, h = (med(case, i) for i in ("libzmq", "monocoque", "handle"))
    lines.append(f"| {num(z, '{:,.0f}')} | {num(m, '{:,.0f}')} | {ratio(m, z)} "
                 f"| {num(h, '{:,.0f}')} | {ratio(h, z)} |")
lines += ["", "## Runs", ""]
for case in order:
    lines.append(f"- {case}: " + "; ".join(
        f"{impl} {', '.join(values)}" for impl, values in runs[case].items()))
lines += ["", "## Commands", "",
          "The first run of each; the script starts the server, starts the client once",
          "the server listens, and runs both under `timeout 120`.", "",
          "```"]
lines += [f"# {case}, {impl}\n{command}" for case, impl, command in
          (line.rstrip("\n").split("\t") for line in open(commands))]
lines += ["```", ""]
open(out, "w").write("\n".join(lines))
PY
echo "== wrote $OUT =="
cat "$OUT"
if grep -q FAIL "$WORK/results.tsv"; then
    echo "some runs failed" >&2
    exit 1
fi
