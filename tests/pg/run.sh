#!/usr/bin/env bash
# The PostgreSQL suite (issue 12), run by tests/run.sh: a throwaway cluster in a temporary
# directory, then the fixture suite and `replay` against PostgreSQL (ALLPS_TEST_DATABASE_URL
# switches the test store), then the three-node test (tests/pg/multinode.py), then the
# cluster is stopped and removed, also on failure.
#
# Environment: ALLPS_PG_PORT (default 55433), RUNS (reader runs of the multi-node test).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
DIR=$(mktemp -d /tmp/allps-pg.XXXXXX)
PORT=${ALLPS_PG_PORT:-55433}
trap 'bash tests/pg/cluster.sh stop "$DIR"' EXIT
eval "$(bash tests/pg/cluster.sh start "$DIR" "$PORT")"
echo "postgres: cluster in $DIR on port $PORT"
cargo build --quiet --bin allps-ws
ALLPS_TEST_DATABASE_URL=$ALLPS_TEST_DATABASE_URL cargo test --quiet --test fixtures --test replay
ALLPS_BIN="$ROOT/target/debug/allps-ws" python3 tests/pg/multinode.py
