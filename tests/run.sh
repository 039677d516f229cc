#!/usr/bin/env bash
# The project's one test command (README, .ci/run):
#
#   bash tests/run.sh
#
# 1. Installs what the tests need, only when missing (idempotent; `apt-get update` only if
#    a package has to be installed; sudo only when not root):
#      apt:  postgresql (the PostgreSQL suite), libxml2-utils (xmllint), curl (the integrators walk-through), chromium and
#            chromium-driver (the console's browser test), poppler-utils (pdftotext/pdfinfo for the document
#            tests), jaxws (wsimport) and mono-devel (wsdl, mcs, mono) for the Java and
#            .NET peers, a JDK / python3-venv / nodejs+npm only if the machine lacks them;
#      pip:  .venv-peers from tests/peers/python/requirements.txt (zeep, lxml, pytest);
#      npm:  `npm ci` in tests/peers/node (soap, from the committed package-lock.json).
# 2. Runs, continuing past a failure so every suite reports:
#      cargo test                    unit, integration and fixture tests (tests/fixtures.rs)
#      bash tests/kill9.sh           kill -9 in a month of collections vs an uninterrupted run
#                                    (again with BATCH=16: many full batches, read ahead)
#      bash tests/wsdl/check.sh      the WSDL against the WSDL/SOAP schemas, shape, samples
#      bash tests/peers/run.sh       real SOAP clients against the real server
#      bash tests/browser/run.sh     the operator console in headless Chromium
#      bash tests/pg/run.sh          fixtures and replay on PostgreSQL, the three-node test
# 3. Prints one line per suite and ends with `suites: N passed, M failed`; exits non-zero
#    when anything failed.
#
# Environment: ALLPS_SKIP_INSTALL=1 skips step 1; ALLPS_SKIP_POSTGRES=1 skips the
# PostgreSQL suite (and its apt package); PEERS="python node" limits the peers
# (default: python node java mono wcf; java and mono are then not installed either).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PEERS=${PEERS:-python node java mono wcf}
VENV=$ROOT/.venv-peers
started=$SECONDS

wants() { case " $PEERS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
say() { printf '== %s\n' "$*"; }

# ---------------------------------------------------------------- 1. install
install_apt() {
  local SUDO=
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
  local need=(libxml2-utils poppler-utils curl chromium chromium-driver)
  # The PostgreSQL suite's throwaway cluster (initdb, pg_ctl, psql).
  if [ "${ALLPS_SKIP_POSTGRES:-0}" != 1 ]; then need+=(postgresql); fi
  if wants java; then
    need+=(jaxws)
    command -v javac >/dev/null || need+=(default-jdk-headless)
  fi
  if wants mono || wants wcf; then need+=(mono-devel); fi
  if wants python && ! python3 -c 'import ensurepip, venv' 2>/dev/null; then need+=(python3-venv); fi
  if wants node && ! command -v npm >/dev/null; then need+=(nodejs npm); fi

  local missing=() pkg
  for pkg in "${need[@]}"; do
    dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null | grep -q '^ii' || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    echo "apt: ${need[*]} already installed"
    return
  fi
  command -v apt-get >/dev/null || { echo "apt: missing ${missing[*]} and no apt-get here; install them by hand" >&2; return 1; }
  echo "apt: installing ${missing[*]}"
  local t=$SECONDS apt=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
  $SUDO apt-get "${apt[@]}" update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "apt: installed in $((SECONDS - t)) s"
}

install_python() {
  local req=tests/peers/python/requirements.txt stamp="$VENV/.requirements.sha256" want
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    echo "pip: .venv-peers up to date"
    return
  fi
  local t=$SECONDS
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$req"
  echo "$want" >"$stamp"
  echo "pip: .venv-peers created in $((SECONDS - t)) s ($(tr '\n' ' ' < <(grep -v '^#' "$req")))"
}

install_node() {
  local dir=tests/peers/node
  if [ -f "$dir/node_modules/.package-lock.json" ] && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    echo "npm: tests/peers/node/node_modules up to date"
    return
  fi
  local t=$SECONDS
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "npm: npm ci in $dir took $((SECONDS - t)) s"
}

if [ "${ALLPS_SKIP_INSTALL:-0}" != 1 ]; then
  say "install (only what is missing)"
  t0=$SECONDS
  install_apt
  if wants python; then install_python; fi
  if wants node; then install_node; fi
  echo "install: $((SECONDS - t0)) s"
fi

# ---------------------------------------------------------------- 2. run
results=()
passed=0
failed=0
run_suite() {
  local name=$1 rc t=$SECONDS
  shift
  say "$name"
  set +e
  "$@"
  rc=$?
  set -e
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    results+=("$(printf 'PASS  %-22s %4ss' "$name" "$((SECONDS - t))")")
  else
    failed=$((failed + 1))
    results+=("$(printf 'FAIL  %-22s %4ss  (exit %s)' "$name" "$((SECONDS - t))" "$rc")")
  fi
}

run_suite "cargo test" cargo test --quiet
run_suite "kill -9 collections" env NOTES=600 KILLS=3 BIN=target/debug/allps-ws bash tests/kill9.sh
run_suite "kill -9, batches of 16" env NOTES=600 KILLS=3 BATCH=16 BIN=target/debug/allps-ws bash tests/kill9.sh
run_suite "wsdl check" bash tests/wsdl/check.sh
run_suite "real-client peers" bash tests/peers/run.sh
run_suite "console browser" bash tests/browser/run.sh
if [ "${ALLPS_SKIP_POSTGRES:-0}" != 1 ]; then
  run_suite "postgres" bash tests/pg/run.sh
fi

say "summary ($((SECONDS - started)) s)"
printf '%s\n' "${results[@]}"
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
