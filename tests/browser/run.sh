#!/usr/bin/env bash
# The console's browser test (tests/run.sh runs it as its own suite):
#
#   bash tests/browser/run.sh
#
# Builds the binary, starts `allps-ws serve --demo` on free loopback ports with a fresh
# database, starts chromedriver, and runs console_browser.py, which drives headless
# Chromium through the WebDriver protocol (Python standard library only). Screenshots of
# the main pages are checked non-blank in a temporary directory; SCREENSHOTS=docs/console
# writes them where docs/console.md shows them (refresh them that way).
# Needs the Debian packages chromium and chromium-driver (tests/run.sh installs them).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
command -v chromedriver >/dev/null || { echo "chromedriver missing: apt-get install chromium chromium-driver" >&2; exit 1; }
CHROME=${CHROME:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$CHROME" ] || { echo "chromium missing: apt-get install chromium" >&2; exit 1; }
cargo build --quiet --bin allps-ws
WORK=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
SOAP_PORT=$(free_port); CONSOLE_PORT=$(free_port); DRIVER_PORT=$(free_port)
./target/debug/allps-ws serve --demo --db "$WORK/allps.db" --listen "127.0.0.1:$SOAP_PORT" \
  --console-listen "127.0.0.1:$CONSOLE_PORT" --log-level warn >"$WORK/server.log" 2>&1 &
pids+=($!)
chromedriver --port="$DRIVER_PORT" >"$WORK/chromedriver.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  if curl -sf "http://127.0.0.1:$CONSOLE_PORT/health/live" >/dev/null 2>&1 \
     && curl -sf "http://127.0.0.1:$DRIVER_PORT/status" >/dev/null 2>&1; then break; fi
  sleep 0.2
done
set +e
python3 tests/browser/console_browser.py \
  --soap "http://127.0.0.1:$SOAP_PORT/allps" --console "http://127.0.0.1:$CONSOLE_PORT" \
  --driver "http://127.0.0.1:$DRIVER_PORT" --chrome "$CHROME" --profile "$WORK/profile" \
  --screenshots "${SCREENSHOTS:-$WORK/screenshots}"
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
  echo "--- server log"; tail -n 40 "$WORK/server.log"
  echo "--- chromedriver log"; tail -n 20 "$WORK/chromedriver.log"
fi
exit "$rc"
