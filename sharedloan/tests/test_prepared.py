"""The desk's fixed SQL strings: prepared once per connection, through one cursor the connection
keeps open, which a block opened inside another's never shares."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sharedloan.prepared import fixed_cursor

pytestmark = pytest.mark.django_db

MARK = "SELECT %s::int AS fixed_cursor_test"


@pytest.fixture(autouse=True)
def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: on SQLite fixed_cursor() is Django's own cursor")


def _prepared(text):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", [f"%{text}%"]
        )
        return cursor.fetchone()[0]


def test_a_fixed_string_is_prepared_once_and_run_through_the_kept_cursor():
    cursors = []
    for n in range(3):
        with fixed_cursor() as cursor:
            cursor.execute(MARK, [n])
            assert cursor.fetchone() == (n,)
            cursors.append(cursor)
    assert cursors[0] is cursors[1] is cursors[2]
    assert _prepared("fixed_cursor_test") == 1


def test_a_block_inside_another_gets_a_cursor_of_its_own():
    with fixed_cursor() as outer:
        outer.execute(MARK, [1])
        with fixed_cursor() as inner:
            assert inner is not outer
            inner.execute(MARK, [2])
            assert inner.fetchone() == (2,)
        # The outer block's rows are still its own.
        assert outer.fetchone() == (1,)
    with fixed_cursor() as again:
        assert again is outer


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_gets_a_new_cursor():
    with fixed_cursor() as before:
        before.execute(MARK, [1])
        before.fetchone()
    connection.close()
    with fixed_cursor() as after:
        assert after is not before
        after.execute(MARK, [2])
        assert after.fetchone() == (2,)
    assert _prepared("fixed_cursor_test") == 1  # prepared again on the new connection


def test_statements_are_logged_with_their_text_when_queries_are_captured():
    with CaptureQueriesContext(connection) as captured:
        for n in range(2):
            with fixed_cursor() as cursor:
                cursor.execute(MARK, [n])
                cursor.fetchone()
    assert [query["sql"].count("fixed_cursor_test") for query in captured] == [1, 1]
