#!/usr/bin/env bash
# The cargo fuzz targets of fuzz/ (libFuzzer, coverage-guided), each for a few seconds from its
# committed seeds in fuzz/seeds/: CI runs this so the targets keep building and their properties
# keep holding. Long runs are the same script by hand:
#
#   .ci/fuzz.sh                       # every target, 5 s each
#   .ci/fuzz.sh 600 json_body         # one target for 10 minutes
#
# No sanitizer by default: the code under test is safe Rust, where indexing is checked and memory
# errors cannot happen, so AddressSanitizer would only watch the unsafe code inside dependencies
# (serde_json, http) while slowing both the build and every execution; `-a` keeps the debug assertions and overflow checks that a release build drops. FUZZ_SANITIZER
# picks one anyway (`address`, ...): their flags are nightly-only, which RUSTC_BOOTSTRAP=1 lets
# the stable compiler take, for this build alone (it lives in fuzz/target, apart from the
# service's). New corpus entries go to fuzz/corpus/<target> and crashing inputs to
# fuzz/artifacts/<target>/, both ignored by git.
set -euo pipefail
cd "$(dirname "$0")/.."

PER_TARGET_SECONDS="${1:-5}"
shift || true
CARGO_FUZZ_VERSION=0.13.2
FLAGS=(--sanitizer "${FUZZ_SANITIZER:-none}" --debug-assertions)

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
fi
cargo fuzz --version
export RUSTC_BOOTSTRAP=1

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list)
fi

# The service's `cargo fmt --check` does not reach this crate (a workspace of its own).
cargo fmt --check --manifest-path fuzz/Cargo.toml

started=$SECONDS
cargo fuzz build "${FLAGS[@]}"
echo "cargo fuzz build took $((SECONDS - started)) s"

LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target"
  # libFuzzer prints a line per new input; only the totals are worth a CI log, unless it fails.
  if ! cargo fuzz run "${FLAGS[@]}" "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
    -max_total_time="$PER_TARGET_SECONDS" -timeout=10 -print_final_stats=1 >"$LOG" 2>&1; then
    tail -n 80 "$LOG"
    echo "fuzz target $target failed; its input is in fuzz/artifacts/$target/"
    exit 1
  fi
  echo "$target: $(grep -E '^Done [0-9]+ runs' "$LOG"), $(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$LOG" | tail -n 1)"
done
