#!/usr/bin/env bash
# reference-verify.sh: the `verify` CLI contract on top of pyHanko (reference_verify.py), for
# testing the test harness itself:  VERIFY_BIN=tests/py/reference-verify.sh cargo test -p interop-tests
export PYTHONDONTWRITEBYTECODE=1
exec "${TEST_VENV:-$HOME/.cache/esig-test-venv}/bin/python" "$(dirname "$0")/reference_verify.py" "$@"
