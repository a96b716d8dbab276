#!/usr/bin/env bash
# test.sh — THE test command (CI runs it through .ci/run).
#
#   1. scripts/install-test-deps.sh: openssl, poppler-utils, qpdf, libnss3-tools, xmlsec1, curl
#      (apt, only what is missing) and a pyHanko virtualenv at $TEST_VENV (exported for the tests)
#   2. cargo fmt --check
#   3. cargo clippy --workspace --all-targets -D warnings
#   4. cargo build --workspace --bins   (the interop tests run these binaries; they would build
#      them themselves, this step only makes the cost and any build error visible up front)
#   5. cargo test --workspace --no-fail-fast
#   6. the README main command: cargo run -p signer -- demo (into target/demo-smoke)
#
# Env: TEST_VENV (default ~/.cache/esig-test-venv), CI=true (missing tools fail instead of
# skip; Cargo.lock must be up to date), TEST_SKIP_INSTALL=1 (skip step 1).
# Extra arguments go to the test binaries, e.g. a name filter: `scripts/test.sh agree`.
set -euo pipefail
cd "$(dirname "$0")/.."
export TEST_VENV="${TEST_VENV:-${HOME:-/tmp}/.cache/esig-test-venv}"

locked=()
case "${CI:-}" in true | 1 | yes) locked=(--locked) ;; esac

timings=()
current=""
report() {
  local rc=$?
  echo
  if [ "$rc" = 0 ]; then echo "==> all passed; time per step:"; else echo "==> FAILED in step ${current:-?} (exit $rc); time per step:"; fi
  printf '    %s\n' "${timings[@]}"
}
trap report EXIT
step() {
  local name="$1"
  shift
  echo
  echo "==> $name: $*"
  local t0=$SECONDS
  current="$name"
  "$@"
  timings+=("$(printf '%-8s %4ds' "$name" $((SECONDS - t0)))")
}

if [ "${TEST_SKIP_INSTALL:-0}" != 1 ]; then
  step install bash scripts/install-test-deps.sh
fi
step fmt cargo fmt --all -- --check
step clippy cargo clippy --workspace --all-targets "${locked[@]}" -- -D warnings
step build cargo build --workspace --bins "${locked[@]}"
step test cargo test --workspace --no-fail-fast "${locked[@]}" -- "$@"
# The README's main command, as a user types it (debug build: same code, already compiled),
# so a change that breaks `cargo run -p signer -- demo` fails here.
step demo cargo run -q -p signer "${locked[@]}" -- demo --out target/demo-smoke
