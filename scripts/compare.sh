#!/usr/bin/env bash
# Compares monocoque with libzmq 4.3.4 using libzmq's perf tools' conventions.
#
# Builds, in release, monocoque's local_thr/remote_thr/local_lat/remote_lat (examples
# crate) and the same tools on libzmq (perf crate: zmq_local_thr, ...), then runs each
# case as two processes pinned with taskset, REPS times per implementation
# (alternating), and writes the medians to docs/benchmarks.md.
#
#   scripts/compare.sh            full run (several minutes; run on a quiet machine)
#   QUICK=1 scripts/compare.sh    counts divided by 20: a smoke run, not a measurement
#
# Environment: QUICK=1, REPS (default 5), BASE_PORT (default 15555), OUT (default
# docs/benchmarks.md), CARGO_TARGET_DIR (honoured). Needs Rust, gcc/g++ and python3;
# without taskset the processes run unpinned and the report says so.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
REPS=${REPS:-5}
PORT=${BASE_PORT:-15555}
OUT=${OUT:-docs/benchmarks.md}
QUICK=${QUICK:-0}
DIV=1
[ "$QUICK" = 1 ] && DIV=20
RUN_TIMEOUT=60

echo "== building (release) =="
cargo build --release -p monocoque-examples \
    --example local_thr --example remote_thr --example local_lat --example remote_lat
cargo build --release -p monocoque-perf --bins
TARGET=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
MONO=$TARGET/release/examples
ZMQ=$TARGET/release

PINNING="receiver/server on core 0, sender/client on core 1 (same-core latency: both on core 0)"
if command -v taskset >/dev/null 2>&1 && taskset -c 0,1 true 2>/dev/null; then
    pin() { taskset -c "$1" "${@:2}"; }
else
    echo "warning: taskset missing or cores 0-1 unavailable: running UNPINNED" >&2
    PINNING="none: taskset was not available, processes ran unpinned"
    pin() { "${@:2}"; }
fi

WORK=$(mktemp -d /tmp/monocoque-compare.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
RESULTS=$WORK/results.tsv
: >"$RESULTS"

# Waits (up to 10 s) until the server side of $1 is listening, so the client's first
# connect succeeds and is not delayed by a reconnect interval.
wait_listening() {
    local endpoint=$1 i
    for i in $(seq 1 1000); do
        case $endpoint in
        tcp://*)
            local hex
            hex=$(printf ':%04X' "${endpoint##*:}")
            # State 0A is LISTEN in /proc/net/tcp{,6}.
            if awk -v p="$hex" '$2 ~ p"$" && $4 == "0A" {f=1} END {exit !f}' \
                /proc/net/tcp /proc/net/tcp6 2>/dev/null; then return 0; fi ;;
        ipc://*)
            [ -S "${endpoint#ipc://}" ] && return 0 ;;
        esac
        sleep 0.01
    done
    echo "server did not start listening on $endpoint" >&2
    return 1
}

# run_pair IMPL KIND ENDPOINT SIZE COUNT SERVER_CPU CLIENT_CPU -> prints the number.
# KIND thr: server local_thr, client remote_thr; lat: server local_lat, client remote_lat.
run_pair() {
    local impl=$1 kind=$2 endpoint=$3 size=$4 count=$5 scpu=$6 ccpu=$7
    local server client
    if [ "$impl" = libzmq ]; then
        server=$ZMQ/zmq_local_$kind client=$ZMQ/zmq_remote_$kind
    else
        server=$MONO/local_$kind client=$MONO/remote_$kind
    fi
    case $endpoint in ipc://*) rm -f "${endpoint#ipc://}" ;; esac
    pin "$scpu" timeout $RUN_TIMEOUT "$server" "$endpoint" "$size" "$count" \
        >"$WORK/server.out" 2>"$WORK/server.err" &
    local spid=$!
    if ! wait_listening "$endpoint"; then
        kill "$spid" 2>/dev/null || true
        wait "$spid" 2>/dev/null || true
        return 1
    fi
    local crc=0 src=0
    pin "$ccpu" timeout $RUN_TIMEOUT "$client" "$endpoint" "$size" "$count" \
        >"$WORK/client.out" 2>"$WORK/client.err" || crc=$?
    wait "$spid" || src=$?
    if [ $crc != 0 ] || [ $src != 0 ]; then
        echo "FAILED: $impl $kind $endpoint $size $count (server rc $src, client rc $crc)" >&2
        cat "$WORK/server.err" "$WORK/client.err" >&2
        return 1
    fi
    if [ "$kind" = thr ]; then
        awk '/^mean throughput: .*\[msg\/s\]/ {print $3}' "$WORK/server.out"
    else
        awk '/^average latency:/ {print $3}' "$WORK/client.out"
    fi
}

# run_case ID KIND TRANSPORT SIZE COUNT SERVER_CPU CLIENT_CPU
run_case() {
    local id=$1 kind=$2 transport=$3 size=$4 count=$(($5 / DIV)) scpu=$6 ccpu=$7
    local rep impl endpoint value
    echo "== $id: $kind $transport ${size} B x $count (cpus $scpu/$ccpu) =="
    for rep in $(seq 1 "$REPS"); do
        for impl in libzmq monocoque; do
            if [ "$transport" = tcp ]; then
                endpoint=tcp://127.0.0.1:$PORT
            else
                endpoint=ipc:///tmp/monocoque-compare-$$-$PORT.ipc
            fi
            PORT=$((PORT + 1))
            if value=$(run_pair "$impl" "$kind" "$endpoint" "$size" "$count" "$scpu" "$ccpu"); then
                printf '%s\t%s\t%s\n' "$id" "$impl" "$value" >>"$RESULTS"
                echo "  rep $rep $impl: $value"
            else
                printf '%s\t%s\tFAIL\n' "$id" "$impl" >>"$RESULTS"
                echo "  rep $rep $impl: FAILED"
            fi
        done
    done
}

#        id                     kind transport size count    server client
run_case "thr tcp 64 B"         thr tcp 64    2000000 0 1
run_case "thr tcp 1024 B"       thr tcp 1024  1000000 0 1
run_case "thr tcp 65536 B"      thr tcp 65536 50000   0 1
run_case "thr ipc 64 B"         thr ipc 64    2000000 0 1
run_case "thr ipc 1024 B"       thr ipc 1024  1000000 0 1
run_case "lat tcp 64 B cross"   lat tcp 64    20000   0 1
run_case "lat tcp 1024 B cross" lat tcp 1024  20000   0 1
run_case "lat tcp 64 B same"    lat tcp 64    20000   0 0
run_case "lat tcp 1024 B same"  lat tcp 1024  20000   0 0

CPU=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
[ -n "$CPU" ] || CPU=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -1)
LIBZMQ=$("$ZMQ/zmq_local_thr" --version)

mkdir -p "$(dirname "$OUT")"
python3 - "$RESULTS" "$OUT" <<PY
import statistics, sys
results, out = sys.argv[1], sys.argv[2]
runs = {}
order = []
for line in open(results):
    case, impl, value = line.rstrip("\n").split("\t")
    if case not in runs:
        runs[case] = {"libzmq": [], "monocoque": []}
        order.append(case)
    runs[case][impl].append(value)

def median(values):
    ok = [float(v) for v in values if v != "FAIL"]
    return statistics.median(ok) if ok else None

titles = {
    "thr": ("PUSH/PULL throughput", "msg/s", "monocoque / libzmq (> 1 is better)"),
    "lat": ("REQ/REP one-way latency", "us", "monocoque / libzmq (< 1 is better)"),
}
quick = "$QUICK" == "1"
lines = ["# monocoque vs libzmq", ""]
if quick:
    lines += ["**QUICK=1 smoke run (counts / 20): these numbers are not measurements.**", ""]
lines += [
    "Written by \`scripts/compare.sh\` with libzmq's perf tools' conventions: throughput",
    "is \`local_thr\`'s mean msg/s (timed from the first message received), latency is",
    "\`remote_lat\`'s elapsed / (2 x round trips). Each value is the median of $REPS runs",
    "of a pair of processes (monocoque: \`examples/perf\`, libzmq: the \`perf\` crate's",
    "\`zmq_*\` binaries through the \`zmq\` crate); senders allocate and copy every message.",
    "",
    "| | |",
    "| --- | --- |",
    "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |",
    "| kernel | $(uname -r) |",
    "| CPU | ${CPU:-unknown} ($(nproc) cores online) |",
    "| rustc | $(rustc --version) |",
    "| libzmq | ${LIBZMQ#libzmq } (zeromq-src, built by zmq-sys) |",
    "| pinning | $PINNING |",
    "",
]
for case in order:
    kind, transport, size, unit_b, *where = case.split()
    title, unit, ratio_name = titles[kind]
    heading = f"## {title}, {transport}, {size} B"
    if where:
        heading += ", same core" if where[0] == "same" else ", cross-core"
    lz, mq = median(runs[case]["libzmq"]), median(runs[case]["monocoque"])
    fmt = (lambda v: f"{v:,.0f}") if kind == "thr" else (lambda v: f"{v:.3f}")
    show = lambda v: fmt(v) if v is not None else "failed"
    ratio = f"{mq / lz:.2f}" if lz and mq else "n/a"
    lines += [heading, "",
              f"| libzmq median ({unit}) | monocoque median ({unit}) | {ratio_name} |",
              "| ---: | ---: | ---: |",
              f"| {show(lz)} | {show(mq)} | {ratio} |", "",
              "runs: libzmq " + ", ".join(runs[case]["libzmq"]) +
              "; monocoque " + ", ".join(runs[case]["monocoque"]), ""]
open(out, "w").write("\n".join(lines))
PY
echo
echo "== wrote $OUT =="
cat "$OUT"
if grep -q FAIL "$RESULTS"; then
    echo "some runs failed" >&2
    exit 1
fi
