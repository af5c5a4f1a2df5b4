"""Run database tests against a real streaming replica: `pytest -p sharedloan.tests.replica_plugin`
with DATABASE_URL naming the primary and DATABASE_REPLICA_URL its hot standby (.ci/replica.sh).

pytest-django creates the test database on the primary only: the replica alias is a test
mirror (settings.py), which keeps its own host and port and takes the test database's name, and
the CREATE DATABASE and the migrations reach the standby through the stream. For the report
pages to find a test's rows there, the rows must be committed, so this plugin

- makes every database test transactional and lets it use both aliases, and
- before each query on the replica, waits until the standby has replayed the primary's WAL up
  to the primary's position at that moment (what PostgreSQL's own tests do with
  pg_last_wal_replay_lsn), so that a test reads what it wrote, as a page pinned by the
  middleware does in production.

At the end it prints how many queries the replica answered and the longest wait.
"""

from __future__ import annotations

import time

import pytest

STATS = {"queries": 0, "waits": 0, "longest": 0.0, "waited": []}
CATCH_UP_TIMEOUT = 30.0


def _lsn(cursor, sql):
    cursor.execute(sql)
    return cursor.fetchone()[0]


def _replayed(replica_cursor, target) -> bool:
    replica_cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
    return bool(replica_cursor.fetchone()[0])


def wait_for_replay(primary_cursor, replica_cursor) -> float:
    """Seconds the replica took to replay the primary's WAL up to now; 0 if it already had."""
    target = _lsn(primary_cursor, "SELECT pg_current_wal_lsn()::text")
    started = time.monotonic()
    if _replayed(replica_cursor, target):
        return 0.0
    while not _replayed(replica_cursor, target):
        if time.monotonic() - started > CATCH_UP_TIMEOUT:
            raise AssertionError(f"the replica did not reach {target} in {CATCH_UP_TIMEOUT} s")
        time.sleep(0.001)
    return time.monotonic() - started


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    from django.conf import settings

    if "replica" not in settings.DATABASES:
        raise pytest.UsageError("replica_plugin needs DATABASE_REPLICA_URL (see .ci/replica.sh)")


def pytest_collection_modifyitems(items):
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is None:
            continue
        kwargs = {**marker.kwargs, "transaction": True, "databases": ["default", "replica"]}
        item.add_marker(pytest.mark.django_db(*marker.args, **kwargs), append=False)


@pytest.fixture(scope="session", autouse=True)
def _replica_has_the_test_database(django_db_setup, django_db_blocker):
    """The standby connects to the test database only once the stream has brought it."""
    import psycopg
    from django.db import connections

    replica = connections["replica"].settings_dict
    address = {"host": replica["HOST"], "port": replica["PORT"], "user": replica["USER"]}
    with (
        django_db_blocker.unblock(),
        connections["default"].cursor() as primary,
        psycopg.connect(**address, dbname="postgres", autocommit=True) as standby,
    ):
        waited = wait_for_replay(primary, standby.cursor())
    print(f"\nreplica: test database {replica['NAME']} streamed in {waited * 1000:.0f} ms")


@pytest.fixture(autouse=True)
def _replica_reads_what_was_written(request):
    if request.node.get_closest_marker("django_db") is None:
        yield
        return
    from django.db import connections

    primary, replica = connections["default"], connections["replica"]

    def catch_up(execute, sql, params, many, context):
        with primary.cursor() as primary_cursor:
            waited = wait_for_replay(primary_cursor, replica.connection.cursor())
        STATS["queries"] += 1
        STATS["waits"] += waited > 0
        if waited:
            STATS["waited"].append(waited)
        STATS["longest"] = max(STATS["longest"], waited)
        return execute(sql, params, many, context)

    with replica.execute_wrapper(catch_up):
        yield


def pytest_terminal_summary(terminalreporter):
    waited = sorted(STATS["waited"]) or [0.0]
    terminalreporter.write_line(
        f"replica: {STATS['queries']} queries answered by the streaming replica; "
        f"{STATS['waits']} found it behind the primary and waited for replay: "
        f"median {waited[len(waited) // 2] * 1000:.1f} ms, "
        f"longest {STATS['longest'] * 1000:.1f} ms"
    )
