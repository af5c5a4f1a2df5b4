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

`insert_one` and `update_one` write one row through it, for the desk's writes that the ORM
built anew on every scan (the loan, the item's history row and its update); `model_columns`
and `model_from_row` turn a row read by a fixed string into the instance the ORM would make.
"""

import functools

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model

NEVER_BY_COUNT = 2**31 - 1  # psycopg prepares a statement after this many runs unless asked


def fixed_cursor(db=None):
    """A cursor whose statements PostgreSQL keeps prepared on this connection, for a `with`
    block. Only for SQL strings that do not change from call to call (their values passed as
    parameters): each distinct string is one prepared statement on every connection. `db`: a
    connection other than the default one.

    The connection keeps one such cursor open from block to block: building Django's cursor
    and its wrapper anew cost as much Python time as sending and reading the statement (40 of
    100 µs). A block opened inside another's gets a cursor of its own, so that neither reads
    the other's rows."""
    # The wrapper itself: each attribute read through the `connection` proxy costs a lookup.
    db = connections[DEFAULT_DB_ALIAS] if db is None else db
    if db.vendor != "postgresql" or not settings.DATABASE_PREPARED_STATEMENTS:
        return db.cursor()
    # As db.cursor() does, with the server-binding cursor in place of Django's own.
    db.close_if_health_check_failed()
    kept = getattr(db, "_kept_fixed_cursor", None)
    if (
        kept is not None
        and not kept.busy
        and kept.connection is db.connection
        and not db.queries_logged
    ):
        return kept
    db.ensure_connection()
    db.validate_thread_sharing()
    psycopg_connection = db.connection
    if psycopg_connection.prepare_threshold is None:
        # Django turns preparing off on its connections, which psycopg then refuses even when
        # asked; Django's own cursors bind values on the client and never prepare, so with a
        # threshold never reached only this cursor's statements are prepared.
        psycopg_connection.prepare_threshold = NEVER_BY_COUNT
    raw = _prepared_cursor_class()(psycopg_connection)
    if db.queries_logged:
        # Logged (tests, DEBUG): a cursor each time, as Django's own debug cursors are.
        return db.make_debug_cursor(raw)
    if kept is not None and kept.busy and kept.connection is psycopg_connection:
        return db.make_cursor(raw)  # inside another block: closed at this block's end
    kept = db._kept_fixed_cursor = _KeptCursor(psycopg_connection, db.make_cursor(raw))
    return kept


class _KeptCursor:
    """The connection's open prepared cursor, lent to one `with` block at a time."""

    __slots__ = ("busy", "connection", "cursor")

    def __init__(self, connection, cursor):
        self.connection, self.cursor, self.busy = connection, cursor, False

    def __enter__(self):
        self.busy = True
        return self.cursor

    def __exit__(self, *exc_info):
        self.busy = False


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


def insert_one(instance: Model) -> None:
    """INSERT `instance` as a new row with one fixed statement per model, as `bulk_create` of one
    would (each field's `pre_save`, then its database value; no signals, no history row), and
    set its primary key."""
    db = connections[DEFAULT_DB_ALIAS]
    model = type(instance)
    fields, sql = _insert_sql(model, db.vendor)
    values = [field.get_db_prep_save(field.pre_save(instance, True), db) for field in fields]
    with fixed_cursor(db) as cursor:
        cursor.execute(sql, values)
        if db.features.can_return_columns_from_insert:
            instance.pk = cursor.fetchone()[0]
        else:
            instance.pk = cursor.lastrowid
    instance._state.adding, instance._state.db = False, db.alias


@functools.cache
def _insert_sql(model, vendor: str):
    fields = tuple(field for field in model._meta.concrete_fields if not field.primary_key)
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(field.column for field in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if connection.features.can_return_columns_from_insert:
        sql += f" RETURNING {model._meta.pk.column}"
    return fields, sql


def update_one(model, pk, changes: dict) -> int:
    """UPDATE the row `pk` of `model` with `changes` (field names or attnames to values, a
    related instance standing for its key), as `model.objects.filter(pk=pk).update(**changes)`
    would with plain values: one fixed statement per set of fields changed. Returns the rows
    updated."""
    db = connections[DEFAULT_DB_ALIAS]
    names = tuple(changes)
    fields, sql = _update_sql(model, names)
    values = []
    for field, name in zip(fields, names, strict=True):
        value = changes[name]
        if isinstance(value, Model):
            value = getattr(value, field.target_field.attname)
        values.append(field.get_db_prep_save(value, db))
    with fixed_cursor(db) as cursor:
        cursor.execute(sql, [*values, pk])
        return cursor.rowcount


@functools.cache
def _update_sql(model, names: tuple):
    fields = tuple(model._meta.get_field(name) for name in names)
    assignments = ", ".join(f"{field.column} = %s" for field in fields)
    sql = f"UPDATE {model._meta.db_table} SET {assignments} WHERE {model._meta.pk.column} = %s"
    return fields, sql


@functools.cache
def model_columns(model, vendor: str):
    """Each concrete field of `model`, its column and the converters the ORM applies to it on
    the `vendor`'s database: what `model_from_row` needs to read a row of all of them."""
    columns = []
    for field in model._meta.concrete_fields:
        column = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        columns.append((field, column, converters))
    return columns


def model_from_row(model, columns, values):
    """A model instance from a row of `columns` (see `model_columns`), converted as the ORM
    converts them (SQLite's booleans arrive as integers, its timestamps as text)."""
    db = connections[DEFAULT_DB_ALIAS]
    converted = []
    for (_field, column, converters), value in zip(columns, values, strict=True):
        for convert in converters:
            value = convert(value, column, db)
        converted.append(value)
    return model.from_db(db.alias, [field.attname for field, _, _ in columns], converted)
