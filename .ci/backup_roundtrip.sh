#!/usr/bin/env bash
# The backup procedure of docs/deployment.md on the demo database: pg_dump, pg_restore into a
# new database, check_integrity on the restored copy, and the same row count in every table.
set -euo pipefail
cd "$(dirname "$0")/.."
SOURCE=${1:?database to back up}
RESTORED=${SOURCE}_restored
PSQL=(psql -h 127.0.0.1 -U postgres -qAt)
DUMP=$(mktemp --suffix=.dump)
trap 'rm -f "$DUMP"' EXIT

pg_dump -h 127.0.0.1 -U postgres --format=custom --file="$DUMP" "$SOURCE"
"${PSQL[@]}" -c "DROP DATABASE IF EXISTS $RESTORED" postgres
"${PSQL[@]}" -c "CREATE DATABASE $RESTORED" postgres
pg_restore -h 127.0.0.1 -U postgres --no-owner --dbname="$RESTORED" "$DUMP"
DATABASE_URL=postgres://postgres@127.0.0.1:5432/$RESTORED .venv/bin/python manage.py migrate --check
DATABASE_URL=postgres://postgres@127.0.0.1:5432/$RESTORED .venv/bin/python manage.py check_integrity

counts() {
  "${PSQL[@]}" -d "$1" -c "SELECT string_agg(format('SELECT %L, count(*) FROM %I', tablename, tablename), ' UNION ALL ' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'" \
    | "${PSQL[@]}" -d "$1" | sort
}
if ! diff <(counts "$SOURCE") <(counts "$RESTORED"); then
  echo "backup round trip: row counts differ" >&2
  exit 1
fi
echo "backup round trip: $(counts "$RESTORED" | wc -l) tables, the same rows, check_integrity clean"
"${PSQL[@]}" -c "DROP DATABASE $RESTORED" postgres
