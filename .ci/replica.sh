#!/usr/bin/env bash
# A real read replica on this machine: pg_basebackup of the PostgreSQL cluster on 127.0.0.1:5432
# into a second data directory, started as a hot standby on 127.0.0.1:$REPLICA_PORT streaming
# from the first; then the report tests with DATABASE_REPLICA_URL pointing at it, and the lag
# of a committed write, idle and under the checkout benchmark's load. Safe to run again: a
# standby left by an earlier run is stopped and removed first, and this one on exit. Arguments,
# if any, are the tests to run instead of the report tests.
set -euo pipefail
cd "$(dirname "$0")/.."

PRIMARY_PORT=5432
REPLICA_PORT=${REPLICA_PORT:-5433}
REPLICA_DIR=${REPLICA_DIR:-/var/tmp/sharedloan-ci-replica}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/$(ls /usr/lib/postgresql | sort -V | tail -n1)/bin}
DB=sharedloan_replica
PROBE_DB=sharedloan_replica_probe
BENCH_DB=sharedloan_replica_bench
PRIMARY=postgres://postgres@127.0.0.1:$PRIMARY_PORT
REPLICA=postgres://postgres@127.0.0.1:$REPLICA_PORT

step() { printf '\n--> %s\n' "$*"; }
export PGOPTIONS="-c client_min_messages=warning"
psql_primary() { psql -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -qAt "$@"; }
psql_replica() { psql -h 127.0.0.1 -p "$REPLICA_PORT" -U postgres -qAt "$@"; }
# PostgreSQL refuses to run as root: the standby belongs to the postgres OS user.
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop_replica() {
  if [ -f "$REPLICA_DIR/data/postmaster.pid" ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$REPLICA_DIR/data" -m fast -w stop >/dev/null || true
  fi
  rm -rf "$REPLICA_DIR"
}
cleanup() {
  stop_replica
  for db in "$DB" "test_$DB" "$PROBE_DB" "$BENCH_DB"; do
    psql_primary -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" postgres || true
  done
}
trap cleanup EXIT
stop_replica

step "the primary accepts replication connections from 127.0.0.1"
[ "$(psql_primary -c 'SHOW wal_level' postgres)" != minimal ]
[ "$(psql_primary -c 'SHOW max_wal_senders' postgres)" -gt 0 ]
HBA=$(psql_primary -c "SHOW hba_file" postgres)
if ! grep -Eq '^[[:space:]]*host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$HBA"; then
  echo "host replication all 127.0.0.1/32 trust  # sharedloan CI: the read replica" >>"$HBA"
  psql_primary -c "SELECT pg_reload_conf()" postgres >/dev/null
fi
if pg_isready -q -h 127.0.0.1 -p "$REPLICA_PORT"; then
  echo "something else already listens on 127.0.0.1:$REPLICA_PORT (set REPLICA_PORT)" >&2
  exit 1
fi

step "pg_basebackup into $REPLICA_DIR/data, a hot standby on 127.0.0.1:$REPLICA_PORT"
mkdir -p "$REPLICA_DIR"
[ "$(id -u)" = 0 ] && chown postgres: "$REPLICA_DIR"
# -R writes standby.signal and primary_conninfo; -X stream brings the WAL of the copy itself.
as_postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres \
  -D "$REPLICA_DIR/data" -X stream -R -c fast --no-password
# A hot standby needs these at least as large as on its primary.
same() { printf '%s = %s\n' "$1" "$(psql_primary -c "SHOW $1" postgres)"; }
as_postgres tee "$REPLICA_DIR/data/postgresql.conf" >/dev/null <<EOF
port = $REPLICA_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$REPLICA_DIR'
hot_standby = on
hot_standby_feedback = on
shared_buffers = 128MB
# A reporting standby: room for the report pages' groupings to hash in memory (the primary's
# holdings query asks for the same with SET LOCAL).
work_mem = 64MB
$(same max_connections)
$(same max_worker_processes)
$(same max_locks_per_transaction)
$(same max_prepared_transactions)
$(same max_wal_senders)
EOF
as_postgres tee "$REPLICA_DIR/data/pg_hba.conf" >/dev/null <<EOF
local all all trust
host all all 127.0.0.1/32 trust
EOF
as_postgres "$PG_BIN/pg_ctl" -D "$REPLICA_DIR/data" -l "$REPLICA_DIR/replica.log" -w start >/dev/null
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p "$REPLICA_PORT" && break; sleep 1; done
[ "$(psql_replica -c 'SELECT pg_is_in_recovery()' postgres)" = t ]
for _ in $(seq 1 30); do
  state=$(psql_primary -c "SELECT state FROM pg_stat_replication WHERE client_addr = '127.0.0.1' LIMIT 1" postgres)
  [ "$state" = streaming ] && break
  sleep 1
done
echo "standby in recovery; the primary's wal sender is ${state:-not streaming}"
[ "$state" = streaming ]

step "report tests with the replica: DATABASE_REPLICA_URL=$REPLICA/$DB"
TESTS=("$@")
[ ${#TESTS[@]} -gt 0 ] || TESTS=(reports/tests sharedloan/tests/test_replica_router.py
  sharedloan/tests/test_replica_streaming.py)
PYTHONPATH=. DATABASE_URL=$PRIMARY/$DB DATABASE_REPLICA_URL=$REPLICA/$DB \
  .venv/bin/pytest -q -p sharedloan.tests.replica_plugin -m "not browser" "${TESTS[@]}"

step "a write on the primary appears on the replica: the lag, idle and under the desk's load"
psql_primary -c "CREATE DATABASE $PROBE_DB" postgres
for _ in $(seq 1 100); do
  psql_replica -c "SELECT 1" "$PROBE_DB" >/dev/null 2>&1 && break
  sleep 0.1
done
.venv/bin/python .ci/replica_lag.py "$PRIMARY/$PROBE_DB" "$REPLICA/$PROBE_DB" --label idle
# The checkout benchmark's quick mode (gunicorn, sessions, the desk's checkouts and returns)
# writes on the primary while the probe measures; the probe stops when the benchmark does.
DATABASE_URL=$PRIMARY/$BENCH_DB .venv/bin/python bench/checkout.py --quick \
  >"$REPLICA_DIR/bench.log" 2>&1 &
bench=$!
sleep 3
.venv/bin/python .ci/replica_lag.py "$PRIMARY/$PROBE_DB" "$REPLICA/$PROBE_DB" \
  --label "under bench/checkout.py --quick" --seconds 25
if ! wait "$bench"; then
  cat "$REPLICA_DIR/bench.log"
  exit 1
fi
sed -n '/^gunicorn:/,$p' "$REPLICA_DIR/bench.log" | sed 's/^/  bench: /'
