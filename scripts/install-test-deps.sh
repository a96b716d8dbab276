#!/usr/bin/env bash
# install-test-deps.sh — install what the tests need, idempotently, and say what was done.
#
#   system : openssl, pdfsig + pdftoppm (poppler-utils), qpdf, certutil (libnss3-tools),
#            xmlsec1, curl; python3-venv when `python3 -m venv` cannot work.
#            With apt (Debian/Ubuntu) only the missing packages are installed, after a
#            single `apt-get update`; elsewhere a missing tool is reported and the script fails.
#   python : a virtualenv at $TEST_VENV (default ~/.cache/esig-test-venv, outside the
#            repository) holding the pins of scripts/test-requirements.txt (pyHanko,
#            pyhanko-cli, signxml, reportlab and their dependencies). pip is skipped when
#            the venv was already built from the same pins and still imports.
#
# Env: TEST_VENV      virtualenv path (default $HOME/.cache/esig-test-venv)
#      PYTHON         interpreter the venv is made from (default python3, needs >= 3.10)
#      TEST_SKIP_APT=1  never call apt-get (not root and no sudo, or a foreign distribution)
# Exit: 0 when everything is usable, 1 otherwise.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
req="$here/test-requirements.txt"
TEST_VENV="${TEST_VENV:-${HOME:-/tmp}/.cache/esig-test-venv}"
PYTHON="${PYTHON:-python3}"

say() { echo "install-test-deps: $*"; }

# ---- system packages: command -> Debian package ----
declare -A PKG_OF=(
  [openssl]=openssl [pdfsig]=poppler-utils [pdftoppm]=poppler-utils [qpdf]=qpdf
  [certutil]=libnss3-tools [xmlsec1]=xmlsec1 [curl]=curl [gs]=ghostscript [mutool]=mupdf-tools
)
missing_pkgs=()
missing_cmds=()
for cmd in "${!PKG_OF[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1; then
    missing_cmds+=("$cmd")
    p="${PKG_OF[$cmd]}"
    [[ " ${missing_pkgs[*]} " == *" $p "* ]] || missing_pkgs+=("$p")
  fi
done
# venv + ensurepip: Debian splits them into python3-venv
if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1 && [ ! -x "$TEST_VENV/bin/python" ]; then
  missing_pkgs+=(python3-venv)
  missing_cmds+=("$PYTHON -m venv")
fi

if [ "${#missing_pkgs[@]}" -eq 0 ]; then
  say "system tools present (${!PKG_OF[*]})"
elif [ "${TEST_SKIP_APT:-0}" != 1 ] && command -v apt-get >/dev/null 2>&1; then
  SUDO=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { say "need root or sudo to apt-get install ${missing_pkgs[*]}"; exit 1; }
    SUDO=(sudo)
  fi
  say "apt-get install ${missing_pkgs[*]} (missing: ${missing_cmds[*]})"
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" >/dev/null
else
  say "missing: ${missing_cmds[*]} — install the packages ${missing_pkgs[*]} (or equivalents) and re-run"
  exit 1
fi

# ---- python virtualenv ----
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
  || { say "$PYTHON is $("$PYTHON" --version 2>&1); pyHanko needs Python >= 3.10 (set PYTHON=...)"; exit 1; }
stamp="$TEST_VENV/.esig-test-requirements.sha256"
want="$(cat "$req" | sha256sum | cut -d' ' -f1)"
imports='import pyhanko, pyhanko_certvalidator, pyhanko.cli, signxml, reportlab, asn1crypto, cryptography'
if [ -x "$TEST_VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] \
  && "$TEST_VENV/bin/python" -c "$imports" >/dev/null 2>&1; then
  say "venv $TEST_VENV already matches scripts/test-requirements.txt (pip skipped)"
else
  if [ ! -x "$TEST_VENV/bin/python" ]; then
    say "creating venv $TEST_VENV"
    mkdir -p "$(dirname "$TEST_VENV")"
    "$PYTHON" -m venv "$TEST_VENV"
  fi
  say "pip install -r scripts/test-requirements.txt into $TEST_VENV"
  "$TEST_VENV/bin/python" -m pip install -q --disable-pip-version-check --require-virtualenv -r "$req"
  "$TEST_VENV/bin/python" -c "$imports"
  echo "$want" > "$stamp"
fi

# ---- final check ----
fail=0
for cmd in "${!PKG_OF[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || { say "still missing: $cmd"; fail=1; }
done
[ -x "$TEST_VENV/bin/pyhanko" ] || { say "still missing: $TEST_VENV/bin/pyhanko"; fail=1; }
if [ "$fail" = 0 ]; then
  say "ready: $(openssl version | cut -d' ' -f1-2), qpdf $(qpdf --version | head -1 | awk '{print $3}'), pdfsig $(pdfsig -v 2>&1 | head -1 | awk '{print $3}'), pyHanko $("$TEST_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("pyhanko"))') (TEST_VENV=$TEST_VENV)"
fi
exit "$fail"
