#!/usr/bin/env bash
# Real SOAP clients against the real server binary.
#
#   bash tests/peers/run.sh            (tests/run.sh installs what it needs first)
#   PEERS="python node" bash tests/peers/run.sh     (a subset)
#
# Builds the binary if needed, starts ONE `allps-ws serve --demo` on a fresh database and a
# free loopback port, then runs each client suite against it. Every suite loads the SERVED
# WSDL (http://ADDR/allps?wsdl) and calls Login, AddEmployer, AddClient and GetClient over
# SOAP 1.1 and SOAP 1.2, with refusals (Result codes) and typed faults (all but wcf also
# CreatePromissory, CreateDebiCheckPromissory and GetPromissory):
#
#   python  zeep, tests/peers/python/test_zeep.py (pytest, in .venv-peers)
#   node    node `soap`, tests/peers/node/test_soap.js (node:test; npm ci first)
#   java    JAX-WS RI wsimport (Debian jaxws): proxy generated from the served WSDL, compiled
#           with tests/peers/java/PeerTest.java
#   mono    Mono wsdl.exe-style proxies (Debian mono-devel), one per SOAP version, compiled
#           with tests/peers/mono/PeerTest.cs
#   wcf     Mono WCF (System.ServiceModel) with a hand-written contract (Mono's svcutil cannot
#           read a WSDL), tests/peers/mono/WcfPeer.cs: WCF's wire format (BOM for SOAP 1.2)
#
# Afterwards the server must still be up, must have logged no internal error, and must stop
# cleanly on SIGTERM. Prints one line per suite and `peers: N passed, M failed` (suites);
# exits non-zero on any failure. Suite output goes to a log shown when a suite fails.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
PEERS=${PEERS:-python node java mono wcf}
VENV=${ALLPS_PEERS_VENV:-$ROOT/.venv-peers}

work=$(mktemp -d "${TMPDIR:-/tmp}/allps-peers.XXXXXX")
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- the server
target_dir=${CARGO_TARGET_DIR:-}
if [ -z "$target_dir" ]; then
  target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
fi
# --bins --tests, not --bin allps-ws: with the test targets selected, cargo resolves the
# same features as `cargo test` (dev-dependencies unify features under resolver 2), so
# after `cargo test` this is a no-op instead of a second build of the whole tree.
echo "peers: building the server (cargo build --bins --tests)"
cargo build --quiet --bins --tests
bin="$target_dir/debug/allps-ws"
[ -x "$bin" ] || { echo "peers: $bin was not built" >&2; exit 1; }

"$bin" serve --demo --db "$work/peers.db" --listen 127.0.0.1:0 --log-level info \
  2>"$work/server.log" &
server_pid=$!
url=
for _ in $(seq 1 300); do
  url=$(sed -n 's#^allps-ws listening on \(http://[^ ]*/allps\) .*#\1#p' "$work/server.log" | head -n1)
  [ -n "$url" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "peers: the server exited at start:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
[ -n "$url" ] || { echo "peers: the server did not start within 30 s" >&2; cat "$work/server.log" >&2; exit 1; }
echo "peers: server at $url (log: server.log, database: fresh)"
export ALLPS_URL=$url

# ---------------------------------------------------------------- the suites
java_classpath() {
  local jars="FastInfoset gmbal istack-commons-runtime javax.activation javax.xml.soap-api jaxb-api
    jaxb-core jaxb-impl jaxb-runtime jaxws-api jaxws-rt jws-api metro-policy mimepull saaj-impl
    stax-ex streambuffer txw2" cp= jar
  for jar in $jars; do
    [ -f "/usr/share/java/$jar.jar" ] || { echo "missing /usr/share/java/$jar.jar (apt-get install jaxws)" >&2; return 1; }
    cp="$cp/usr/share/java/$jar.jar:"
  done
  printf '%s' "$cp"
}

suite_python() {
  [ -x "$VENV/bin/python" ] || { echo "no venv at $VENV (tests/run.sh creates it)"; return 1; }
  "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/peers/python
}

suite_node() {
  [ -d tests/peers/node/node_modules/soap ] || { echo "run: (cd tests/peers/node && npm ci)"; return 1; }
  node --test tests/peers/node/test_soap.js
}

suite_java() {
  command -v wsimport >/dev/null && command -v javac >/dev/null ||
    { echo "wsimport/javac missing (apt-get install jaxws; a JDK)"; return 1; }
  local cp dir="$work/java"
  cp=$(java_classpath) || return 1
  mkdir -p "$dir/src" "$dir/classes"
  wsimport -quiet -extension -XadditionalHeaders -Xnocompile -p allps.peer -d "$dir/classes" -s "$dir/src" "$url?wsdl"
  javac -nowarn -encoding UTF-8 -cp "$cp" -d "$dir/classes" "$dir"/src/allps/peer/*.java tests/peers/java/PeerTest.java
  # the SAAJ jars warn about a deprecated factory property on every start; not ours
  java -cp "$cp$dir/classes" PeerTest "$url" 2>&1 | grep -v -e 'javax.xml.soap.FactoryFinder find' -e 'deprecated META-INF/services'
}

suite_mono() {
  command -v wsdl >/dev/null && command -v mcs >/dev/null && command -v mono >/dev/null ||
    { echo "wsdl/mcs/mono missing (apt-get install mono-devel)"; return 1; }
  local dir="$work/mono" rc=0 v protocol define
  mkdir -p "$dir"
  for v in 11 12; do
    protocol=SOAP define=
    [ "$v" = 12 ] && protocol=SOAP12 define=-define:SOAP12
    wsdl -nologo "-protocol:$protocol" -namespace:Allps "-out:$dir/Allps$v.cs" "$url?wsdl"
    mcs -nologo -nowarn:414,649 $define "-out:$dir/peer$v.exe" -r:System.Web.Services -r:System.Xml \
      "$dir/Allps$v.cs" tests/peers/mono/PeerTest.cs
    mono "$dir/peer$v.exe" "$url" || rc=1
  done
  return $rc
}

suite_wcf() {
  command -v mcs >/dev/null && command -v mono >/dev/null ||
    { echo "mcs/mono missing (apt-get install mono-devel)"; return 1; }
  mcs -nologo "-out:$work/wcf.exe" -r:System.ServiceModel -r:System.Runtime.Serialization -r:System.Xml \
    tests/peers/mono/WcfPeer.cs
  mono "$work/wcf.exe" "$url"
}

# the number of checks a suite's output reports, for the summary line
checks_of() {
  case "$1" in
    python) sed -n 's/^\([0-9][0-9]*\) passed.*/\1/p' "$2" | tail -n1 ;;
    node) sed -n 's/^# pass \([0-9][0-9]*\)$/\1/p' "$2" | tail -n1 ;;
    java) sed -n 's/^java wsimport: \([0-9][0-9]*\) passed.*/\1/p' "$2" | tail -n1 ;;
    wcf) sed -n 's/^mono wcf: \([0-9][0-9]*\) passed.*/\1/p' "$2" | tail -n1 ;;
    mono) sed -n 's/^mono wsdl SOAP 1\.[12]: \([0-9][0-9]*\) passed.*/\1/p' "$2" | awk '{ s += $1 } END { if (NR) print s }' ;;
  esac
}

passed=0
failed=0
for suite in $PEERS; do
  case "$suite" in
    python) label="python zeep" ;;
    node) label="node soap" ;;
    java) label="java wsimport (JAX-WS RI)" ;;
    mono) label="mono wsdl (SoapHttpClientProtocol)" ;;
    wcf) label="mono WCF (hand-written contract)" ;;
    *) echo "peers: unknown suite $suite (python node java mono wcf)" >&2; exit 2 ;;
  esac
  log="$work/$suite.log"
  start=$SECONDS
  # not `( ... ) || rc=$?`: bash ignores set -e inside a subshell that is the left of ||
  set +e
  ( set -euo pipefail; "suite_$suite" ) >"$log" 2>&1
  rc=$?
  set -e
  took=$((SECONDS - start))
  checks=$(checks_of "$suite" "$log" || true)
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    printf 'PASS  %-38s %4s checks  %3ss\n' "$label" "${checks:-?}" "$took"
  else
    failed=$((failed + 1))
    printf 'FAIL  %-38s exit %s  %3ss; its output:\n' "$label" "$rc" "$took"
    sed 's/^/    | /' "$log" | tail -n 80
  fi
done

# ---------------------------------------------------------------- the server afterwards
server_ok=1
if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "FAIL  the server died during the suites"
  server_ok=0
else
  if grep -q 'internal error' "$work/server.log"; then
    echo "FAIL  the server logged internal errors:"
    grep 'internal error' "$work/server.log" | sed 's/^/    | /' | head -n 20
    server_ok=0
  fi
  requests=$(grep -c ' request ' "$work/server.log" || true)
  kill -TERM "$server_pid"
  src=0
  wait "$server_pid" || src=$?
  server_pid=
  if [ "$src" -ne 0 ]; then
    echo "FAIL  the server exited with status $src on SIGTERM"
    server_ok=0
  elif ! grep -q 'store closed' "$work/server.log"; then
    echo "FAIL  the server did not close the store on SIGTERM"
    server_ok=0
  else
    echo "ok    server answered $requests requests, logged no internal error, stopped cleanly on SIGTERM"
  fi
fi
if [ "$server_ok" -ne 1 ]; then
  failed=$((failed + 1))
  sed 's/^/    | /' "$work/server.log" | tail -n 40
fi

echo "peers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
