"""A cursor for fixed SQL strings that PostgreSQL plans once per connection.

The desk's hottest reads (the scan's site, the reader and item locks, the count that follows
them, the reader's loans) are fixed SQL strings. Sent with their values written in, as Django
sends every statement, PostgreSQL parses and plans each one anew, and for these small indexed
reads planning took several times what running them did (bench/checkout.py, docs/scale.md).
`fixed_cursor()` is Django's cursor — logged, counted, wrapped as any other — whose statements
are prepared on the server the first time a connection sends them and afterwards only bound
and run.

Django leaves prepared statements off so that a pooler in transaction mode keeps working; they
are asked for here only for these strings, and DATABASE_PREPARED_STATEMENTS=false turns them
off (PgBouncer before 1.21, or without `max_prepared_statements`, cannot keep them). On SQLite
it is the ordinary cursor.
"""

import functools

from django.conf import settings
from django.db import connection

NEVER_BY_COUNT = 2**31 - 1  # psycopg prepares a statement after this many runs unless asked


def fixed_cursor():
    """A cursor whose statements PostgreSQL keeps prepared on this connection. Only for SQL
    strings that do not change from call to call (their values passed as parameters): each
    distinct string is one prepared statement on every connection."""
    if connection.vendor != "postgresql" or not settings.DATABASE_PREPARED_STATEMENTS:
        return connection.cursor()
    # As connection.cursor() does, with the server-binding cursor in place of Django's own.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    psycopg_connection = connection.connection
    if psycopg_connection.prepare_threshold is None:
        # Django turns preparing off on its connections, which psycopg then refuses even when
        # asked; Django's own cursors bind values on the client and never prepare, so with a
        # threshold never reached only this cursor's statements are prepared.
        psycopg_connection.prepare_threshold = NEVER_BY_COUNT
    raw = _prepared_cursor_class()(psycopg_connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


@functools.cache
def _prepared_cursor_class():
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparedCursor(ServerBindingCursor):
        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

        def _send_query_prepared(self, name, pgq, *, binary=None):
            # psycopg keeps no statement text for a prepared run; Django's query log (and
            # every test that counts or reads statements) takes it from here.
            self._query = pgq
            return super()._send_query_prepared(name, pgq, binary=binary)

    return PreparedCursor
