#!/usr/bin/env bash
# Runs every cargo-fuzz target of monocoque-zmtp for a while and prints the executions.
#
#   scripts/fuzz.sh [seconds-per-target] [target...]     (default: 600 s, every target)
#
# Works on the stable toolchain: --sanitizer none needs no -Z flag (the code under test
# is safe Rust; the assertions in monocoque_zmtp::fuzz are the oracle). Needs
# `cargo install cargo-fuzz`.
#
# New inputs go to monocoque-zmtp/fuzz/target/corpus/<target> (git-ignored), seeded from
# the committed fuzz/corpus/<target>, so a run never dirties the committed corpus.
# Crashes land in fuzz/artifacts/<target>/; tests/fuzz_corpus.rs replays them.
set -euo pipefail

seconds=${1:-600}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
fuzz=$root/monocoque-zmtp/fuzz
all=(frame_decoder greeting command session pattern_ops engine_ops endpoint security_handshake zap_reply z85)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all[@]}"); fi
# The fuzz project keeps its own target dir unless the caller chose one.
unset CARGO_TARGET_DIR

cd "$fuzz"
cargo fuzz build --sanitizer none
logs=$fuzz/target/fuzz-logs
mkdir -p "$logs"

summary=()
status=0
for t in "${targets[@]}"; do
  work=$fuzz/target/corpus/$t
  mkdir -p "$work"
  echo "== $t: ${seconds}s"
  if cargo fuzz run "$t" --sanitizer none "$work" "$fuzz/corpus/$t" -- \
      -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
      >"$logs/$t.log" 2>&1; then
    result=ok
  else
    result="CRASH (see $logs/$t.log, fuzz/artifacts/$t/)"
    status=1
  fi
  runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 \2/p' "$logs/$t.log" | tail -1)
  if [ -z "$runs" ]; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\)/\1/p' "$logs/$t.log" | tail -1)
    runs="${runs:-0} $seconds"
  fi
  read -r execs secs <<<"$runs"
  rate=$(( execs / (secs > 0 ? secs : 1) ))
  cov=$(grep -o 'cov: [0-9]*' "$logs/$t.log" | tail -1 | cut -d' ' -f2)
  summary+=("$(printf '%-14s %6ss %12s execs %9s exec/s  cov %-6s %s' "$t" "$secs" "$execs" "$rate" "${cov:-?}" "$result")")
done

echo
echo "target          time    executions       rate      coverage  result"
printf '%s\n' "${summary[@]}"
exit $status
