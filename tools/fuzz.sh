#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets/) for SECONDS each (default 60) on its committed seed corpus.
#
#   tools/fuzz.sh          # a minute per target
#   tools/fuzz.sh 600      # ten minutes per target
#
# Needs the nightly toolchain (installed on these machines) and cargo-fuzz (installed here if missing).
# New inputs go to a scratch corpus (target/fuzz-corpus/), never into fuzz/corpus/; a crash, a timeout or
# an out-of-memory stops the run with the input in fuzz/artifacts/<target>/ and a non-zero exit. Turn
# every crash into a regression test in tests/ before fixing it.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^rtas-fuzz$')
for t in $targets; do
  scratch="target/fuzz-corpus/$t"
  mkdir -p "$scratch"
  echo "== fuzz $t for ${secs}s"
  log="target/fuzz-$t.log"
  if ! cargo +nightly fuzz run --fuzz-dir fuzz "$t" "$scratch" "fuzz/corpus/$t" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "fuzz $t failed (crash, timeout, out of memory or build error; inputs in fuzz/artifacts/$t/)" >&2
    exit 1
  fi
  grep -E "stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)" "$log" | sed 's/^/  /'
done
