#!/usr/bin/env bash
# Measures BufferConfig presets with monocoque's perf tools (`--buffers`), pinned as
# compare.sh pins them (throughput: receiver on core 0, sender on core 1; latency:
# both on core 0), REPS runs each, medians printed. The figures behind
# BufferConfig::small() and ::large() in docs/performance.md.
#   scripts/buffers.sh                 # all cases
#   REPS=5 scripts/buffers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-3}
cargo build --release -q -p monocoque-examples \
    --example local_thr --example remote_thr --example local_lat --example remote_lat
bin=${CARGO_TARGET_DIR:-target}/release/examples
port=17555

# thr SIZE COUNT BUFFERS -> msg/s of one run
thr() {
    port=$((port + 1))
    local ep="tcp://127.0.0.1:$port"
    taskset -c 0 "$bin/local_thr" "$ep" "$1" "$2" --buffers "$3" > /tmp/buffers-thr.out &
    local pid=$!
    sleep 0.2
    taskset -c 1 "$bin/remote_thr" "$ep" "$1" "$2" --buffers "$3" > /dev/null
    wait "$pid"
    sed -n 's/^mean throughput: \([0-9]*\) \[msg\/s\]$/\1/p' /tmp/buffers-thr.out
}

# lat SIZE COUNT BUFFERS -> one-way latency in us of one run
lat() {
    port=$((port + 1))
    local ep="tcp://127.0.0.1:$port"
    taskset -c 0 "$bin/local_lat" "$ep" "$1" "$2" --buffers "$3" > /dev/null &
    local pid=$!
    sleep 0.2
    taskset -c 0 "$bin/remote_lat" "$ep" "$1" "$2" --buffers "$3" \
        | sed -n 's/^average latency: \([0-9.]*\) \[us\]$/\1/p'
    wait "$pid"
}

median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR + 1) / 2)]}'; }

run() {
    local kind=$1 size=$2 count=$3 buffers=$4 values=()
    for _ in $(seq "$REPS"); do values+=("$("$kind" "$size" "$count" "$buffers")"); done
    printf '%s %6s B %-14s median %s  (runs %s)\n' "$kind" "$size" "$buffers" \
        "$(printf '%s\n' "${values[@]}" | median)" "${values[*]}"
}

for buffers in default 16384:16384 large 262144:65536 65536:262144 1048576:1048576; do
    run thr 65536 50000 "$buffers"
done
for buffers in default small 4096:4096 large; do
    run thr 64 2000000 "$buffers"
done
for buffers in default small 4096:4096 large; do
    run lat 64 20000 "$buffers"
done
