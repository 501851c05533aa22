#!/usr/bin/env bash
# CI's fuzzing: builds every fuzz target (fuzz/fuzz_targets/) with libFuzzer's coverage instrumentation,
# debug assertions and overflow checks (no sanitizer: rtas has no unsafe parsing code, and the ASan build
# takes twice as long), then runs each for SECONDS (default 30), two at a time (a core each), on a scratch
# copy of its committed seed corpus. A crash, a timeout (10 s for one input) or an out-of-memory (2 GB)
# fails the run, with the input in target/fuzz-ci/artifacts/<target>/. Needs only the nightly toolchain
# (installed here if missing), not cargo-fuzz. tools/fuzz.sh is the longer, ASan run for people.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
if ! cargo +nightly --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal
fi
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
out=target/fuzz-ci
# An explicit target keeps the instrumentation out of build scripts (they run on the host, unlinked to
# libFuzzer).
host=$(rustc +nightly -vV | sed -n 's/^host: //p')
cargo +nightly build --release --manifest-path fuzz/Cargo.toml --target-dir "$out" --target "$host" --bins --quiet
bin="$out/$host/release"
targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^rtas-fuzz$')
# One target, SECONDS long, on a scratch copy of its corpus; returns libFuzzer's status.
one() {
  local t=$1 scratch="$out/corpus/$1"
  rm -rf "$scratch" && mkdir -p "$scratch" "$out/artifacts/$t"
  cp -r "fuzz/corpus/$t/." "$scratch/"
  "$bin/$t" "$scratch" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$out/artifacts/$t/" -print_final_stats=1 >"$out/$t.log" 2>&1
}
# Two targets at a time (one core each on a 2-core machine): every target still runs SECONDS.
set -- $targets
while [ $# -gt 0 ]; do
  batch=("$1"); shift
  if [ $# -gt 0 ]; then batch+=("$1"); shift; fi
  pids=()
  for t in "${batch[@]}"; do one "$t" & pids+=($!); done
  for i in "${!batch[@]}"; do
    t=${batch[$i]}
    if ! wait "${pids[$i]}"; then
      kill "${pids[@]}" 2>/dev/null || true
      tail -40 "$out/$t.log" >&2
      echo "fuzz $t failed: crash, timeout or out of memory (input in $out/artifacts/$t/)" >&2
      exit 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out/$t.log")
    echo "fuzz $t: ${secs} s, $runs inputs ($rate/s), no crash"
  done
done
