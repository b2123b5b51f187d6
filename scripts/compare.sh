#!/usr/bin/env bash
# Compares monocoque with libzmq 4.3.4, and with two other pure-Rust ZeroMQs, using
# libzmq's perf tools' conventions.
#
# Builds, in release, monocoque's local_thr/remote_thr/local_lat/remote_lat (examples
# crate), the same tools on libzmq (perf crate: zmq_local_thr, ...) and on the rivals
# (perf-rivals crate: zeromq_* on zmq.rs, omq_* on OMQ.rs), then runs each case as two
# processes pinned with taskset, REPS times per implementation (alternating), and
# writes the medians to docs/benchmarks.md.
#
# Implementations, in the order each repetition runs them:
#   libzmq     the perf crate's zmq_* tools (libzmq 4.3.4 through the zmq crate)
#   base       with BASE_REV only: monocoque's tools as of that commit (native API)
#   monocoque  monocoque's tools, native compio sockets (--api native, the default)
#   handle     the same binaries with --api handle: a Context's thread-safe socket
#              handles, used from plain threads with blocking calls
#   tokio      the same binaries with --api tokio: the same handles, driven by their
#              send/recv futures on one current-thread tokio runtime (as the rivals)
#   zmq.rs     the `zeromq` crate (zmq.rs, tokio): zeromq_local_thr, ...
#   omq-tokio  the `omq-tokio` crate (OMQ.rs, tokio): omq_local_thr, ...
# RIVALS=0 leaves out zmq.rs and omq-tokio (and does not build them). Every
# implementation gets a ratio to libzmq. A tool that exits with code 2 does not
# support the pattern: its cell reads "n/a" and the run does not count as failed.
# docs/benchmarks-rivals.md describes the rivals' tools and how they differ.
#
# Cases: throughput of PUSH/PULL (64 B, 1 KiB, 64 KiB), DEALER/ROUTER and PUB/SUB with
# 1 and 8 subscribers (64 B, 1 KiB), over tcp and ipc; REQ/REP latency over tcp (64 B,
# 1 KiB; across cores and on one core). The throughput tools' 4th argument picks the
# pattern (see `local_thr` with no arguments); for PUB/SUB the publisher (remote_thr)
# binds and the N subscribers (local_thr) connect.
#
# Charts: the run also draws, with scripts/charts.py, PUSH/PULL tcp throughput by
# message size (16 B to 64 KiB) and PUB/SUB tcp fan-out by subscriber count (1, 8, 64
# and 256 subscribers; 64 B and 1 KiB) as SVG files in CHART_DIR, and the report gets
# a section per chart (its image and a table of the medians). The chart-only cases
# (PUSH/PULL tcp at 16, 256, 4096 and 16384 B, PUB/SUB tcp with 64 and 256
# subscribers) come on top of the cases above, whose PUSH/PULL tcp and PUB/SUB tcp
# rows the charts reuse. CHARTS=0 leaves out the chart-only cases and the charts;
# CASES=charts runs only the cases the charts use (and draws them).
#
#   scripts/compare.sh            full run (several minutes; run on a quiet machine)
#   QUICK=1 scripts/compare.sh    counts divided by 20: a smoke run, not a measurement
#   BASE_REV=<rev> scripts/compare.sh
#                                 also runs monocoque as built at git revision <rev>
#                                 ("base"), to show a change made nothing worse
#   CHARTS=0 scripts/compare.sh   the tables only: no chart-only cases, no charts
#   CASES=charts scripts/compare.sh
#                                 the charts' cases and the charts only
#
# With BASE_REV, <rev>'s perf examples are built (release) in a git worktree,
# BASE_WORKTREE (default /tmp/monocoque-base-<short sha>), with their own target
# directory, BASE_TARGET_DIR (default /tmp/monocoque-base-target); both are reused by
# later runs, so only the first one builds. libzmq's tools still come from this tree
# only. Each repetition of a case then runs libzmq, base and monocoque in turn, and the
# report adds, per case, base's median, the ratios base/libzmq, monocoque/libzmq and
# monocoque/base, each implementation's spread (its runs' min..max as % of its
# median) and a summary of monocoque vs base over all cases. Without BASE_REV the
# report is as before. Give a commit hash rather than a moving name (HEAD, a branch):
# the worktree is named after the commit it resolves to at the time.
#
# Environment: QUICK=1, REPS (default 5), BASE_PORT (default 15555), OUT (default
# docs/benchmarks.md), CARGO_TARGET_DIR (honoured, for this tree), BASE_REV,
# BASE_WORKTREE, BASE_TARGET_DIR, RIVALS (default 1), CHARTS (default 1), CASES
# (all, the default, or charts), CHART_DIR (default: charts/ beside OUT, so
# docs/charts). Needs Rust, gcc/g++, git and python3 (standard library only); without
# taskset the processes run unpinned and the report says so. PUB/SUB with 256
# subscribers needs about 600 file descriptors in the subscribers' process: the script
# raises its soft limit (ulimit -n) to 4096 if it is lower and the hard limit allows.
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
BASE_REV=${BASE_REV:-}
RIVALS=${RIVALS:-1}
CHARTS=${CHARTS:-1}
CASES=${CASES:-all}
CHART_DIR=${CHART_DIR:-$(dirname "$OUT")/charts}
case $CASES/$CHARTS in
all/[01] | charts/1) ;;
charts/*)
    echo "CASES=charts draws the charts: it cannot go with CHARTS=$CHARTS" >&2
    exit 2
    ;;
*)
    echo "CASES is all or charts, and CHARTS 0 or 1 (not CASES=$CASES CHARTS=$CHARTS)" >&2
    exit 2
    ;;
esac
IMPLS=(libzmq monocoque handle tokio)
BASE_SHA='' BASE_SHORT='' BASE_SUBJECT=''
if [ -n "$BASE_REV" ]; then
    if ! BASE_SHA=$(git rev-parse --verify --quiet "$BASE_REV^{commit}"); then
        echo "BASE_REV=$BASE_REV is not a commit of $ROOT" >&2
        exit 2
    fi
    BASE_SHORT=$(git rev-parse --short "$BASE_SHA")
    BASE_SUBJECT=$(git log -1 --format=%s "$BASE_SHA")
    BASE_TREE=${BASE_WORKTREE:-/tmp/monocoque-base-$BASE_SHORT}
    BASE_TARGET=${BASE_TARGET_DIR:-/tmp/monocoque-base-target}
    IMPLS=(libzmq base monocoque handle tokio)
fi
[ "$RIVALS" = 0 ] || IMPLS+=(zmq.rs omq-tokio)
# The ceiling of PUSH/PULL over tcp: the same bytes as a plain TCP transfer.
IMPLS+=(tcp-ceiling)

echo "== building (release) =="
cargo build --release -p monocoque-examples \
    --example local_thr --example remote_thr --example local_lat --example remote_lat
cargo build --release -p monocoque-perf --bins
[ "$RIVALS" = 0 ] || cargo build --release -p monocoque-perf-rivals --bins
TARGET=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
# The rival crates' versions, as Cargo.lock resolves them, for the report.
RIVAL_VERSIONS=''
if [ "$RIVALS" != 0 ]; then
    RIVAL_VERSIONS=$(cargo metadata --format-version 1 | python3 -c '
import json, sys
found = {p["name"]: p["version"] for p in json.load(sys.stdin)["packages"]
         if p["name"] in ("zeromq", "omq-tokio", "tokio")}
print(", ".join(n + " " + found.get(n, "?") for n in ("zeromq", "omq-tokio", "tokio")))')
fi
MONO=$TARGET/release/examples
ZMQ=$TARGET/release

# The base: only monocoque's examples, in a worktree of BASE_SHA with a target
# directory of its own (never this tree's: neither is rebuilt for the other). The
# worktree is reused only if it is still a clean checkout of exactly that commit.
if [ -n "$BASE_REV" ]; then
    echo "== building base $BASE_SHORT (release) in $BASE_TREE, target $BASE_TARGET =="
    if [ -e "$BASE_TREE" ]; then
        if [ "$(git -C "$BASE_TREE" rev-parse HEAD 2>/dev/null)" != "$BASE_SHA" ]; then
            echo "$BASE_TREE exists but is not a checkout of $BASE_SHA: remove it" \
                "(git worktree remove --force $BASE_TREE) or set BASE_WORKTREE" >&2
            exit 2
        fi
        if [ -n "$(git -C "$BASE_TREE" status --porcelain --untracked-files=no)" ]; then
            echo "$BASE_TREE has local changes: it would not be $BASE_SHA" >&2
            exit 2
        fi
    else
        # -f: also when a deleted worktree of that path is still registered.
        git worktree add -f --detach "$BASE_TREE" "$BASE_SHA"
    fi
    # Whether base's latency tools take dealer-router:N (the rtt case).
    BASE_HAS_RTT=0
    git grep -q 'dealer-router:' "$BASE_SHA" -- examples/perf/remote_lat.rs && BASE_HAS_RTT=1
    (cd "$BASE_TREE" && CARGO_TARGET_DIR=$BASE_TARGET cargo build --release \
        -p monocoque-examples \
        --example local_thr --example remote_thr --example local_lat --example remote_lat)
fi

PINNING="receiver/server on core 0, sender/client on core 1 (same-core latency: both on core 0)"
# The same for the charts' captions, which show throughput only.
CHART_PINNING="receiver (PULL; the subscribers' process) on core 0, sender (PUSH; the publisher) on core 1"
if command -v taskset >/dev/null 2>&1 && taskset -c 0,1 true 2>/dev/null; then
    pin() { taskset -c "$1" "${@:2}"; }
else
    echo "warning: taskset missing or cores 0-1 unavailable: running UNPINNED" >&2
    PINNING="none: taskset was not available, processes ran unpinned"
    CHART_PINNING="none (taskset was not available)"
    pin() { "${@:2}"; }
fi

# 256 subscribers are 256 connections in each process, and libzmq adds an eventfd per
# socket: raise a low soft limit on open files (1024 on many systems) while the hard
# limit allows.
if [ "$(ulimit -Sn)" != unlimited ] && [ "$(ulimit -Sn)" -lt 4096 ]; then
    HARD_FILES=$(ulimit -Hn)
    [ "$HARD_FILES" = unlimited ] && HARD_FILES=4096
    [ "$HARD_FILES" -gt 4096 ] && HARD_FILES=4096
    [ "$HARD_FILES" -gt "$(ulimit -Sn)" ] && ulimit -Sn "$HARD_FILES"
    if [ "$(ulimit -Sn)" -lt 2048 ]; then
        echo "warning: at most $(ulimit -Sn) open files per process: PUB/SUB with 256" \
            "subscribers may fail" >&2
    fi
fi

WORK=$(mktemp -d /tmp/monocoque-compare.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
RESULTS=$WORK/results.tsv
: >"$RESULTS"
# Copies, so that another run building a different BASE_REV into the shared target
# directory cannot change the base binaries under this one.
if [ -n "$BASE_REV" ]; then
    BASE_BIN=$WORK/base
    mkdir "$BASE_BIN"
    cp "$BASE_TARGET"/release/examples/{local_thr,remote_thr,local_lat,remote_lat} "$BASE_BIN"/
fi

# Waits (up to 10 s) until the server side of $1 is listening, so the client's first
# connect succeeds and is not delayed by a reconnect interval; gives up at once if
# process $2 (the binding side) has exited.
wait_listening() {
    local endpoint=$1 pid=$2 i
    for i in $(seq 1 1000); do
        kill -0 "$pid" 2>/dev/null || return 1
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

# run_pair IMPL KIND PATTERN ENDPOINT SIZE COUNT SERVER_CPU CLIENT_CPU -> prints the
# number; returns 2 if a tool exited with 2 (the pattern is not supported), 1 on
# another failure. KIND thr: server local_thr, client remote_thr, PATTERN push-pull,
# dealer-router or pub-sub:N (the tools' 4th argument; push-pull is left out so
# libzmq's 3-argument form is what runs); lat: server local_lat, client remote_lat,
# PATTERN req-rep; rtt: the latency tools with PATTERN dealer-router:N, the client's
# round trips per second. The binding side starts first and the other once it
# listens: the server, except for pub-sub, where the publisher (the client) binds.
run_pair() {
    local impl=$1 kind=$2 pattern=$3 endpoint=$4 size=$5 count=$6 scpu=$7 ccpu=$8
    local server client tool=$2
    local extra=()
    case $pattern in push-pull | req-rep) ;; *) extra=("$pattern") ;; esac
    if [ "$kind" = rtt ]; then
        tool=lat
        # The rival tools and a base before dealer-router:N have no such pattern.
        case $impl in zmq.rs | omq-tokio) return 2 ;; esac
        if [ "$impl" = base ] && [ "$BASE_HAS_RTT" = 0 ]; then return 2; fi
    fi
    case $impl in
    libzmq) server=$ZMQ/zmq_local_$tool client=$ZMQ/zmq_remote_$tool ;;
    base) server=$BASE_BIN/local_$tool client=$BASE_BIN/remote_$tool ;;
    monocoque) server=$MONO/local_$tool client=$MONO/remote_$tool ;;
    handle)
        server=$MONO/local_$tool client=$MONO/remote_$tool
        extra+=(--api handle)
        ;;
    tokio)
        server=$MONO/local_$tool client=$MONO/remote_$tool
        extra+=(--api tokio)
        ;;
    tcp-ceiling)
        case $kind/$pattern/$endpoint in
        thr/push-pull/tcp://*) server=$ZMQ/tcp_local_thr client=$ZMQ/tcp_remote_thr ;;
        *) return 2 ;;
        esac
        ;;
    zmq.rs) server=$ZMQ/zeromq_local_$tool client=$ZMQ/zeromq_remote_$tool ;;
    omq-tokio) server=$ZMQ/omq_local_$tool client=$ZMQ/omq_remote_$tool ;;
    *)
        echo "unknown implementation $impl" >&2
        return 1
        ;;
    esac
    local first=server firstcpu=$scpu second=client secondcpu=$ccpu
    case $pattern in pub-sub*) first=client firstcpu=$ccpu second=server secondcpu=$scpu ;; esac
    local firstbin secondbin
    if [ $first = server ]; then firstbin=$server secondbin=$client; else firstbin=$client secondbin=$server; fi
    case $endpoint in ipc://*) rm -f "${endpoint#ipc://}" ;; esac
    pin "$firstcpu" timeout $RUN_TIMEOUT "$firstbin" "$endpoint" "$size" "$count" "${extra[@]}" \
        >"$WORK/$first.out" 2>"$WORK/$first.err" &
    local fpid=$! src=0 frc=0
    if ! wait_listening "$endpoint" "$fpid"; then
        kill "$fpid" 2>/dev/null || true
        wait "$fpid" 2>/dev/null || frc=$?
        if [ $frc = 2 ]; then
            echo "n/a: $impl $kind $pattern: $(head -1 "$WORK/$first.err")" >&2
            return 2
        fi
        echo "FAILED: $impl $kind $pattern $endpoint: $first did not listen (rc $frc)" >&2
        cat "$WORK/$first.err" >&2
        return 1
    fi
    pin "$secondcpu" timeout $RUN_TIMEOUT "$secondbin" "$endpoint" "$size" "$count" "${extra[@]}" \
        >"$WORK/$second.out" 2>"$WORK/$second.err" || src=$?
    wait "$fpid" || frc=$?
    if [ $src = 2 ] || [ $frc = 2 ]; then
        echo "n/a: $impl $kind $pattern: $(cat "$WORK/server.err" "$WORK/client.err" | head -1)" >&2
        return 2
    fi
    if [ $src != 0 ] || [ $frc != 0 ]; then
        echo "FAILED: $impl $kind $pattern $endpoint $size $count ($first rc $frc, $second rc $src)" >&2
        cat "$WORK/server.err" "$WORK/client.err" >&2
        return 1
    fi
    if [ "$kind" = thr ]; then
        awk '/^mean throughput: .*\[msg\/s\]/ {print $3}' "$WORK/server.out"
    elif [ "$kind" = rtt ]; then
        awk '/^mean throughput: .*\[roundtrips\/s\]/ {print $3}' "$WORK/client.out"
    else
        awk '/^average latency:/ {print $3}' "$WORK/client.out"
    fi
}

# selected USE: whether a case for USE runs: "table" (the report's tables only: not
# with CASES=charts), "chart" (only the charts use it: not with CHARTS=0) or "both".
selected() {
    case $1 in
    table) [ "$CASES" = all ] ;;
    chart) [ "$CHARTS" = 1 ] ;;
    both) true ;;
    *)
        echo "unknown case use $1" >&2
        exit 2
        ;;
    esac
}

# run_case USE ID KIND PATTERN TRANSPORT SIZE COUNT SERVER_CPU CLIENT_CPU; USE as in
# selected.
run_case() {
    selected "$1" || return 0
    shift
    local id=$1 kind=$2 pattern=$3 transport=$4 size=$5 count=$(($6 / DIV)) scpu=$7 ccpu=$8
    local rep impl endpoint value rc
    echo "== $id: $kind $pattern $transport ${size} B x $count (cpus $scpu/$ccpu) =="
    for rep in $(seq 1 "$REPS"); do
        for impl in "${IMPLS[@]}"; do
            if [ "$transport" = tcp ]; then
                endpoint=tcp://127.0.0.1:$PORT
            else
                # In $WORK, removed at exit: libzmq and zmq.rs leave their files.
                endpoint=ipc://$WORK/$PORT.ipc
            fi
            PORT=$((PORT + 1))
            rc=0
            value=$(run_pair "$impl" "$kind" "$pattern" "$endpoint" "$size" "$count" "$scpu" "$ccpu") || rc=$?
            if [ $rc = 0 ] && [ -n "$value" ]; then
                printf '%s\t%s\t%s\n' "$id" "$impl" "$value" >>"$RESULTS"
                echo "  rep $rep $impl: $value"
            elif [ $rc = 2 ]; then
                printf '%s\t%s\tNA\n' "$id" "$impl" >>"$RESULTS"
                echo "  rep $rep $impl: n/a (pattern not supported)"
            else
                printf '%s\t%s\tFAIL\n' "$id" "$impl" >>"$RESULTS"
                echo "  rep $rep $impl: FAILED"
            fi
        done
    done
}

# The id is "KIND PATTERN TRANSPORT SIZE B [cross|same]"; the report and the charts
# are built from it. Counts keep each run around a second or less at libzmq's and
# monocoque's rates on a 2-core VM (zmq.rs's PUB/SUB is slower: up to ~20 s with 256
# subscribers), and the PUB/SUB ones moderate: with unlimited high-water marks
# whatever the subscribers have not read yet is queued in the publisher.
#        use   id                                      kind pattern        transport  size  count   server client
run_case chart "thr push-pull tcp 16 B"                thr push-pull      tcp        16    2000000 0 1
run_case both  "thr push-pull tcp 64 B"                thr push-pull      tcp        64    2000000 0 1
run_case chart "thr push-pull tcp 256 B"               thr push-pull      tcp        256   1500000 0 1
run_case both  "thr push-pull tcp 1024 B"              thr push-pull      tcp        1024  1000000 0 1
run_case chart "thr push-pull tcp 4096 B"              thr push-pull      tcp        4096  200000  0 1
run_case chart "thr push-pull tcp 16384 B"             thr push-pull      tcp        16384 60000   0 1
run_case both  "thr push-pull tcp 65536 B"             thr push-pull      tcp        65536 50000   0 1
run_case table "thr push-pull ipc 64 B"                thr push-pull      ipc        64    2000000 0 1
run_case table "thr push-pull ipc 1024 B"              thr push-pull      ipc        1024  1000000 0 1
run_case table "thr push-pull ipc 65536 B"             thr push-pull      ipc        65536 50000   0 1
for transport in tcp ipc; do
    fan=table # the tcp PUB/SUB rows are also the fan-out charts' 1 and 8 subscribers
    [ "$transport" = tcp ] && fan=both
    run_case table "thr dealer-router $transport 64 B"   thr dealer-router $transport 64    2000000 0 1
    run_case table "thr dealer-router $transport 1024 B" thr dealer-router $transport 1024  1000000 0 1
    run_case $fan  "thr pub-sub:1 $transport 64 B"       thr pub-sub:1     $transport 64    1000000 0 1
    run_case $fan  "thr pub-sub:1 $transport 1024 B"     thr pub-sub:1     $transport 1024  300000  0 1
    run_case $fan  "thr pub-sub:8 $transport 64 B"       thr pub-sub:8     $transport 64    300000  0 1
    run_case $fan  "thr pub-sub:8 $transport 1024 B"     thr pub-sub:8     $transport 1024  100000  0 1
    [ "$transport" = tcp ] || continue
    run_case chart "thr pub-sub:64 tcp 64 B"             thr pub-sub:64    tcp        64    40000   0 1
    run_case chart "thr pub-sub:64 tcp 1024 B"           thr pub-sub:64    tcp        1024  8000    0 1
    run_case chart "thr pub-sub:256 tcp 64 B"            thr pub-sub:256   tcp        64    8000    0 1
    run_case chart "thr pub-sub:256 tcp 1024 B"          thr pub-sub:256   tcp        1024  2000    0 1
done
# A ROUTER (server, core 0) echoing 1,000 DEALERs of one process (client, core 1):
# count is rounds, each a message from every DEALER and its echo.
run_case table "rtt dealer-router:1000 tcp 64 B"       rtt dealer-router:1000 tcp    64    200     0 1
run_case table "lat req-rep tcp 64 B cross"            lat req-rep        tcp        64    20000   0 1
run_case table "lat req-rep tcp 1024 B cross"          lat req-rep        tcp        1024  20000   0 1
run_case table "lat req-rep tcp 64 B same"             lat req-rep        tcp        64    20000   0 0
run_case table "lat req-rep tcp 1024 B same"           lat req-rep        tcp        1024  20000   0 0

CPU=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
[ -n "$CPU" ] || CPU=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -1)
LIBZMQ=$("$ZMQ/zmq_local_thr" --version)

mkdir -p "$(dirname "$OUT")"
RUN_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
# The charts first: the report shows their sections (from $WORK/charts.md) before the
# tables.
: >"$WORK/charts.md"
if [ "$CHARTS" = 1 ]; then
    quick_flag=()
    [ "$QUICK" = 1 ] && quick_flag=(--quick)
    python3 scripts/charts.py "$RESULTS" --chart-dir "$CHART_DIR" \
        --report-dir "$(dirname "$OUT")" --markdown "$WORK/charts.md" \
        --impls "${IMPLS[*]}" --date "$RUN_DATE" --cpu "${CPU:-unknown CPU} ($(nproc) cores online)" \
        --pinning "$CHART_PINNING" --reps "$REPS" "${quick_flag[@]}"
fi
IMPLS="${IMPLS[*]}" BASE_SHA="$BASE_SHA" BASE_SHORT="$BASE_SHORT" BASE_SUBJECT="$BASE_SUBJECT" \
    RIVAL_VERSIONS="$RIVAL_VERSIONS" python3 - "$RESULTS" "$OUT" "$WORK/charts.md" <<PY
import math, os, statistics, sys
results, out, figures = sys.argv[1], sys.argv[2], sys.argv[3]
impls = os.environ["IMPLS"].split()
base = "base" in impls
runs = {}
order = []
for line in open(results):
    case, impl, value = line.rstrip("\n").split("\t")
    if case not in runs:
        runs[case] = {i: [] for i in impls}
        order.append(case)
    runs[case][impl].append(value)

def ok_values(values):
    out = []
    for v in values:
        try:
            out.append(float(v))
        except ValueError:
            pass  # FAIL, NA
    return out

def median(values):
    ok = ok_values(values)
    return statistics.median(ok) if ok else None

# pattern -> (title, unit in the column headers, definition or None)
pub_sub_unit = "msg/s published, received by every subscriber"
rivals = "zmq.rs" in impls
pub_sub_text = (
    "An XPUB publisher (remote_thr) binds; local_thr's {n} SUB socket(s), all read on "
    "one thread (monocoque: one compio runtime; libzmq: one context, non-blocking "
    "receives and zmq_poll; tokio"
    + (", zmq.rs and omq-tokio" if rivals else "")
    + ": one task per subscriber on one current-thread tokio runtime) except handle's "
    "(one plain thread per subscriber"
    + "), connect and subscribe. The publisher starts once every subscription has "
    "arrived; high-water marks are unlimited on both sides"
    + (" (omq-tokio: its maximum, 2^20 messages, and xpub_nodrop; zmq.rs's XPUB never "
       "drops)" if rivals else "")
    + ". Throughput = messages published / time from the first message any "
    "subscriber received until every subscriber had received all of them.")
titles = {
    "push-pull": ("PUSH/PULL throughput", "msg/s", None),
    "dealer-router": ("DEALER/ROUTER throughput", "msg/s",
                      "DEALER (remote_thr) connects and sends; ROUTER (local_thr) binds "
                      "and receives [routing id, payload]; payloads are counted."),
    "req-rep": ("REQ/REP one-way latency", "us", None),
}
rtt_text = (
    "A ROUTER (local_lat) binds and echoes [routing id, payload]; remote_lat's {n} "
    "DEALERs, all used from one thread (monocoque: one compio runtime; libzmq: one "
    "context, blocking calls; handle: handles from one plain thread; tokio: their "
    "futures on one current-thread tokio runtime), connect. After an untimed round, "
    "each of the rounds has every DEALER send one message, then every DEALER receive "
    "its echo. Throughput = round trips (DEALERs x rounds) / time of the rounds.")
for case in order:
    pattern = case.split()[1]
    if pattern.startswith("pub-sub:"):
        n = int(pattern[len("pub-sub:"):])
        titles[pattern] = (f"PUB/SUB throughput, {n} subscriber{'s' if n > 1 else ''}",
                           pub_sub_unit, pub_sub_text.format(n=n))
    if pattern.startswith("dealer-router:"):
        n = int(pattern[len("dealer-router:"):])
        titles[pattern] = (f"ROUTER echoing {n:,} DEALERs", "round trips/s",
                           rtt_text.format(n=f"{n:,}"))
quick = "$QUICK" == "1"
rival_versions = os.environ.get("RIVAL_VERSIONS", "")
base_name = "base " + os.environ["BASE_SHORT"] if base else ""
names = {i: (base_name if i == "base" else i) for i in impls}
others = [i for i in impls if i != "libzmq"]
title = "# monocoque vs libzmq"
if rivals:
    title += ", zmq.rs and omq-tokio"
if base:
    title += f", and vs {base_name}"
lines = [title, ""]
if quick:
    lines += ["**QUICK=1 smoke run (counts / 20): these numbers are not measurements.**", ""]
lines += [
    "Written by \`scripts/compare.sh\` with libzmq's perf tools' conventions: throughput",
    "is \`local_thr\`'s mean msg/s (timed from the first message received), latency is",
    "\`remote_lat\`'s elapsed / (2 x round trips). Each value is the median of $REPS runs",
    "of a pair of processes; senders allocate and copy every message. The",
    "implementations, run in this order within each repetition:",
    "",
    "- **libzmq**: the \`perf\` crate's \`zmq_*\` binaries, libzmq through the \`zmq\` crate.",
]
if base:
    lines += [f"- **{base_name}**: monocoque's \`examples/perf\` as of commit {base_name[5:]}, "
              "built from a git worktree of that commit (native API)."]
lines += [
    "- **monocoque**: \`examples/perf\` (this tree), native compio sockets.",
    "- **handle**: the same binaries with \`--api handle\`: a \`Context\`'s thread-safe",
    "  socket handles, used from plain threads with blocking calls.",
    "- **tokio**: the same binaries with \`--api tokio\`: the same handles, driven by",
    "  their \`send\`/\`recv\` futures on one current-thread tokio runtime.",
]
if rivals:
    lines += [
        "- **zmq.rs**: the \`zeromq\` crate (tokio), \`perf-rivals\`' \`zeromq_*\` binaries.",
        "- **omq-tokio**: the \`omq-tokio\` crate (OMQ.rs), \`perf-rivals\`' \`omq_*\`",
        "  binaries; sockets driven on the tool's current-thread tokio runtime.",
    ]
lines += [
    "- **tcp-ceiling**: PUSH/PULL over tcp only: \`perf\`'s \`tcp_local_thr\` and",
    "  \`tcp_remote_thr\`, the same bytes as one plain TCP transfer (blocking \`std::net\`,",
    "  1 MiB reads and writes, no messaging library), counted in messages' worth.",
    "",
    "Ratios divide a row's median by libzmq's (throughput: > 1 is better; latency:",
    "< 1 is better). The spread is the row's lowest and highest run relative to its",
    "median (for latency the lowest is the best). \"n/a\": the implementation does not",
    "support the pattern. The criterion benches (both sides in one process, 16 B to",
    "64 KiB) are in docs/criterion.md; notes and profiles in docs/performance.md.",
    "",
]
if base:
    reps = int("$REPS")
    lines += [
        f"The first table sums up monocoque vs {base_name}; \"ranges\" says whether the",
        "two sets of runs overlap (each run of one better than every run of the other,",
        f"or not). With {reps} run{'s' if reps != 1 else ''} each and no real difference, "
        f"they fail to overlap by chance {200 / math.comb(2 * reps, reps):.1f}% of the time.",
        "",
    ]
lines += [
    "| | |",
    "| --- | --- |",
    "| date | $RUN_DATE |",
    "| kernel | $(uname -r) |",
    "| CPU | ${CPU:-unknown} ($(nproc) cores online) |",
    "| rustc | $(rustc --version) |",
    "| libzmq | ${LIBZMQ#libzmq } (zeromq-src, built by zmq-sys) |",
]
if rival_versions:
    lines += [f"| rivals | {rival_versions} (crates.io) |"]
lines += ["| pinning | $PINNING |"]
if base:
    lines += [f"| base | {os.environ['BASE_SHA']} ({os.environ['BASE_SUBJECT']}) |"]
lines += [""]

def spread(values, med):
    ok = ok_values(values)
    if not ok or not med:
        return "n/a"
    return f"{(min(ok) / med - 1) * 100:+.1f}% .. {(max(ok) / med - 1) * 100:+.1f}%"

def ranges(base_values, mono_values, higher_is_better):
    b, m = ok_values(base_values), ok_values(mono_values)
    if not b or not m:
        return "n/a"
    if min(m) > max(b):
        return "monocoque better, no overlap" if higher_is_better else "monocoque WORSE, no overlap"
    if max(m) < min(b):
        return "monocoque WORSE, no overlap" if higher_is_better else "monocoque better, no overlap"
    return "overlap"

summary = []
body = []
explained = set()
for case in order:
    kind, pattern, transport, size, unit_b, *where = case.split()
    title, unit, definition = titles[pattern]
    heading = f"## {title}, {transport}, {size} B"
    if where:
        heading += ", same core" if where[0] == "same" else ", cross-core"
    rate = kind in ("thr", "rtt")
    fmt = (lambda v: f"{v:,.0f}") if rate else (lambda v: f"{v:.3f}")
    med = {i: median(runs[case][i]) for i in impls}
    def show(i):
        if med[i] is not None:
            return fmt(med[i])
        return "n/a" if runs[case][i] and all(v == "NA" for v in runs[case][i]) else "failed"
    div = lambda a, b: f"{a / b:.2f}" if a and b else "n/a"
    better = "> 1 is better" if rate else "< 1 is better"
    sp = {i: spread(runs[case][i], med[i]) for i in impls}
    body += [heading, ""]
    # The definition once, under the first table of each pattern.
    if definition and pattern not in explained:
        explained.add(pattern)
        body += [definition, ""]
    header = f"| | median ({unit}) | spread of runs vs median | / libzmq ({better}) |"
    rule = "| --- | ---: | ---: | ---: |"
    if base:
        header += f" / base ({better}) |"
        rule += " ---: |"
    body += [header, rule]
    for i in impls:
        row = f"| {names[i]} | {show(i)} | {sp[i]} | {div(med[i], med['libzmq']) if i != 'libzmq' else ''} |"
        if base:
            row += f" {div(med[i], med['base']) if i == 'monocoque' else ''} |"
        body += [row]
    body += ["", "runs: " + "; ".join(names[i] + " " + ", ".join(runs[case][i]) for i in impls), ""]
    if base:
        summary += [f"| {heading[3:]} | {div(med['monocoque'], med['base'])} | {better[:3]} "
                    f"| {sp['base']} | {sp['monocoque']} "
                    f"| {ranges(runs[case]['base'], runs[case]['monocoque'], rate)} |"]
if base:
    lines += [f"## monocoque vs {base_name}", "",
              "| case | monocoque / base | better if | base spread | monocoque spread | ranges |",
              "| --- | ---: | :---: | ---: | ---: | --- |"] + summary + [""]
figure_lines = open(figures).read().splitlines()
lines += figure_lines + ([""] if figure_lines else [])
lines += body
open(out, "w").write("\n".join(lines))
PY
echo
echo "== wrote $OUT =="
cat "$OUT"
if grep -q FAIL "$RESULTS"; then
    echo "some runs failed" >&2
    exit 1
fi
