# shellcheck shell=bash
# scripts/bench-lib.sh: what the bench-NAME scripts share. Sourced, not run.
#
# A benchmark script sets `bench_build_args` (what `cargo build --release` needs for it),
# defines three functions and ends with `bench_main "$@"`:
#
#   bench_rows                  one tab-separated line per row: ID, what is measured,
#                               unit, lesson label, reference label, target (or -)
#   bench_prepare DIR QUICK     make the fixtures in the empty folder DIR (QUICK: 1 for
#                               --quick, tiny sizes; else 0)
#   bench_once DIR ID SIDE      one measured run of SIDE (lesson or reference) of row ID:
#                               check the answer (bench_fail if wrong), print the figure
#
# and optionally bench_standalone_extra DIR (more output for a person, after the table).
# bench_main turns that into the contract `cargo lesson bench` drives (the `Benchmarks`
# section of crates/cargo-lesson/README.md):
#
#   scripts/bench-NAME rows
#   scripts/bench-NAME prepare DIR [--quick]
#   scripts/bench-NAME once DIR ID lesson|reference
#   scripts/bench-NAME                       # standalone: prepare, once per side, side by side
#
# The programs come from $BENCH_BIN_DIR (cargo lesson bench sets it to the release
# folder); without it, `once` and the standalone run build them first.

set -euo pipefail
export LC_ALL=C

bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench_self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
bench_name=$(basename "$0")
bench_server_pid=
# shellcheck disable=SC2034 # for the scripts that source this
bench_server_port=

# bench_fail MESSAGE...: a wrong answer or a broken run: say why on stderr, exit 1.
bench_fail() {
  echo "$bench_name: $*" >&2
  exit 1
}

# bench_need COMMAND PACKAGE: exit 3 (the contract's "missing tool") without COMMAND.
bench_need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "missing: $1 (Debian package $2)" >&2
    exit 3
  fi
}

# bench_build: the release programs, unless BENCH_BIN_DIR already names them.
bench_build() {
  if [ -n "${BENCH_BIN_DIR:-}" ]; then return; fi
  local target=${CARGO_TARGET_DIR:-$bench_root/target}
  case $target in /*) ;; *) target=$bench_root/$target ;; esac
  # shellcheck disable=SC2154 # bench_build_args: set by the script that sources this
  echo "$bench_name: building: cargo build --release ${bench_build_args[*]}" >&2
  (cd "$bench_root" && CARGO_TARGET_DIR=$target cargo build --release --quiet "${bench_build_args[@]}")
  export BENCH_BIN_DIR=$target/release
}

# bench_now: microseconds since the epoch, without starting a process.
bench_now() {
  echo "${EPOCHREALTIME//[.,]/}"
}

# bench_rate COUNT START END: COUNT per second between two bench_now readings.
bench_rate() {
  awk -v n="$1" -v us=$(($3 - $2)) 'BEGIN { printf "%.1f\n", n / ((us > 0 ? us : 1) / 1e6) }'
}

# bench_start_server LOG STDIN PROGRAM ARGS...: start a server in the background with
# STDIN as its input, stdout in LOG.out and stderr in LOG.err; wait (at most 10 s) for
# its `listening on ADDR` line. Sets bench_server_pid and bench_server_port.
bench_start_server() {
  local log=$1 input=$2
  shift 2
  : >"$log.out"
  "$@" <"$input" >"$log.out" 2>"$log.err" &
  bench_server_pid=$!
  local banner='' tries=0
  while [ $tries -lt 1000 ]; do
    banner=$(head -n 1 "$log.out" 2>/dev/null || true)
    case $banner in "listening on "*) break ;; esac
    kill -0 "$bench_server_pid" 2>/dev/null || break
    sleep 0.01
    tries=$((tries + 1))
  done
  # shellcheck disable=SC2034 # bench_server_port: for the scripts that source this
  case $banner in
    "listening on "*) bench_server_port=${banner##*:} ;;
    *) bench_fail "$1 printed no \`listening on ADDR\` line: $(head -c 500 "$log.err")" ;;
  esac
}

# bench_stop_server: stop the server started last (if it still runs); its exit status.
bench_stop_server() {
  local status=0
  if [ -n "$bench_server_pid" ]; then
    kill "$bench_server_pid" 2>/dev/null || true
    wait "$bench_server_pid" 2>/dev/null || status=$?
    bench_server_pid=
  fi
  return $status
}

# bench_wait_server: wait for the server to end by itself; its exit status.
bench_wait_server() {
  local status=0
  [ -n "$bench_server_pid" ] || return 0
  wait "$bench_server_pid" || status=$?
  bench_server_pid=
  return $status
}

bench_usage() {
  cat >&2 <<EOF
usage: $bench_name                                  (standalone: both sides, side by side)
       $bench_name rows
       $bench_name prepare DIR [--quick]
       $bench_name once DIR ID lesson|reference
EOF
  exit 2
}

bench_main() {
  case ${1:-} in
    rows)
      [ $# -eq 1 ] || bench_usage
      bench_rows
      ;;
    prepare)
      [ $# -eq 2 ] || { [ $# -eq 3 ] && [ "$3" = --quick ]; } || bench_usage
      [ -d "$2" ] || bench_fail "prepare: $2 is not a folder"
      bench_prepare "$2" "$([ $# -eq 3 ] && echo 1 || echo 0)"
      ;;
    once)
      [ $# -eq 4 ] || bench_usage
      case $4 in lesson | reference) ;; *) bench_usage ;; esac
      bench_rows | cut -f 1 | grep -qxF -- "$3" || bench_fail "once: no row $3"
      bench_build
      # Whatever happens, the server goes too; the exit status stays the script's.
      trap 'status=$?; bench_stop_server || true; exit $status' EXIT
      bench_once "$2" "$3" "$4"
      ;;
    "")
      bench_standalone
      ;;
    *)
      bench_usage
      ;;
  esac
}

# The standalone run: a temporary folder, prepare, one run of each side of each row,
# printed side by side with the ratio. Exit 1 on a wrong answer, or (with MIN_RATIO set)
# on a ratio below MIN_RATIO.
bench_standalone() {
  bench_build
  local work status=0
  work=$(mktemp -d "${TMPDIR:-/tmp}/$bench_name.XXXXXX")
  # shellcheck disable=SC2064 # expand $work now
  trap "rm -rf '$work'" EXIT
  "$bench_self" prepare "$work" || exit $?
  local id what unit lesson reference target l r ratio verdict
  while IFS=$'\t' read -r id what unit lesson reference target; do
    echo
    echo "== $id: $what"
    l=$("$bench_self" once "$work" "$id" lesson | tail -n 1) || { echo "$lesson: WRONG (see above)"; status=1; continue; }
    r=$("$bench_self" once "$work" "$id" reference | tail -n 1) || { echo "$reference: WRONG (see above)"; status=1; continue; }
    printf '%-28s %14.0f %s\n' "$lesson" "$l" "$unit" "$reference" "$r" "$unit"
    ratio=$(awk -v l="$l" -v r="$r" 'BEGIN { if (r > 0) printf "%.1f", l / r; else print "inf" }')
    if [ "$target" = - ]; then
      verdict="reported only"
    else
      verdict=$(awk -v x="$ratio" -v t="$target" 'BEGIN { print (x == "inf" || x >= t) ? "met" : "NOT met" }')
      verdict="target ${target}x: $verdict"
    fi
    echo "ratio: ${ratio}x ($verdict)"
    if [ -n "${MIN_RATIO:-}" ] && awk -v x="$ratio" -v m="$MIN_RATIO" 'BEGIN { exit !(x != "inf" && x < m) }'; then
      echo "ratio ${ratio}x is below MIN_RATIO=$MIN_RATIO"
      status=1
    fi
  done < <("$bench_self" rows)
  if declare -F bench_standalone_extra >/dev/null; then
    bench_standalone_extra "$work" || status=1
  fi
  exit $status
}
