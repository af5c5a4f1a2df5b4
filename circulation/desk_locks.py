"""The row locks every checkout takes, as hand-written statements.

A checkout is the hottest path of the platform: a desk scans a book every few seconds, a county
many times a second at peak. Built with the ORM, these reads (the reader, the item with its
title, site and display, then the reader's loan counts and whether a hold or an open transfer
concerns the item) cost more Python time to compile and to turn into model instances than
everything else in a checkout together. Here each is one fixed SQL string; the rows become the
same model instances the rest of the service uses, with the few related fields it reads
attached, the others loading on access as with `only()`.

Lock first, count after. Under READ COMMITTED, PostgreSQL takes a statement's snapshot before
the statement waits for a row lock: a count or an EXISTS read in the same statement as the
`FOR UPDATE` sees the database as it was before the lock was granted, so ten checkouts of one
reader queued behind each other would each count the loans made before the queue formed. The
counts are therefore a statement of their own (`count_for_checkout`), run once both rows are
locked: a new statement, a new snapshot, every loan committed by whoever held the locks before.
"""

from typing import NamedTuple

from django.db import connection
from django.utils import timezone

from circulation.due_dates import local_zone
from circulation.models import ClosedDay, Hold, Loan, LoanRule, Patron
from collections_app.models import Display, Item, Site, Title, TransferLine
from sharedloan.prepared import fixed_cursor

ITEM_FIELDS = (
    "id",
    "library_id",
    "barcode",
    "title_id",
    "call_number",
    "home_site_id",
    "current_site_id",
    "display_id",
    "box_id",
    "status",
)
PATRON_FIELDS = (
    "id",
    "library_id",
    "card_number",
    "name",
    "category",
    "home_site_id",
    "is_suspended",
    "suspended_reason",
)


def _for_update(table_alias: str) -> str:
    if not connection.features.has_select_for_update:
        return ""  # SQLite: one writer at a time, the transaction itself is the lock
    if connection.features.has_select_for_update_of:
        return f" FOR UPDATE OF {table_alias}"
    return " FOR UPDATE"


def lock_patron(*, patron_id=None, library_id=None, card_number=None):
    """The reader, locked; their loans are counted by `count_for_checkout` once the item is
    locked too."""
    where, params = (
        ("p.id = %s", [patron_id])
        if patron_id is not None
        else ("p.library_id = %s AND p.card_number = %s", [library_id, card_number])
    )
    sql = (
        f"SELECT {', '.join('p.' + f for f in PATRON_FIELDS)} "
        f"FROM {Patron._meta.db_table} p WHERE {where}{_for_update('p')}"
    )
    rows = _fetch(sql, params)
    if not rows:
        return None
    return Patron.from_db(connection.alias, PATRON_FIELDS, rows[0])


def lock_item_for_checkout(barcode: str):
    """The item, locked, with its title text, current site name and display site attached."""
    sql = (
        f"SELECT {', '.join('i.' + f for f in ITEM_FIELDS)}, t.title, s.name, d.site_id "
        f"FROM {Item._meta.db_table} i "
        f"JOIN {Title._meta.db_table} t ON t.id = i.title_id "
        f"JOIN {Site._meta.db_table} s ON s.id = i.current_site_id "
        f"LEFT JOIN {Display._meta.db_table} d ON d.id = i.display_id "
        f"WHERE i.barcode = %s{_for_update('i')}"
    )
    rows = _fetch(sql, [barcode])
    if not rows:
        # When the item moved to another site while this statement waited for its lock,
        # PostgreSQL re-checks the join against the site row it read before the wait, finds no
        # match and drops the item. Asked again, a new snapshot sees where it is now.
        rows = _fetch(sql, [barcode])
    if not rows:
        return None
    values = rows[0]
    n = len(ITEM_FIELDS)
    item = Item.from_db(connection.alias, ITEM_FIELDS, values[:n])
    title_text, site_name, display_site_id = values[n:]
    cache = item._state.fields_cache
    cache["title"] = Title.from_db(connection.alias, ("id", "title"), (item.title_id, title_text))
    cache["current_site"] = Site.from_db(
        connection.alias, ("id", "name"), (item.current_site_id, site_name)
    )
    cache["display"] = (
        Display.from_db(connection.alias, ("id", "site_id"), (item.display_id, display_site_id))
        if item.display_id
        else None
    )
    return item


class Lookups(NamedTuple):
    """What the count statement also reads for the rest of the checkout."""

    rules: list  # the library's loan rules for the reader's category at this kind of site
    closed_days_ahead: bool  # whether any day from today on is closed at the site


def count_for_checkout(*, patron: Patron, item: Item, site: Site, now) -> Lookups:
    """With both rows locked, one statement: the reader's `loans_out` and `loans_overdue`, and
    `has_hold` / `on_transfer` telling whether a hold or an open transfer line concerns the
    item, so that the common case (neither) costs no further query. The same statement reads
    the loan rules the reader's category may fall under (`rules.loan_rule_for` chooses among
    them) and whether the site has a closed day ahead (when not, the due date needs no
    calendar): two statements fewer on every checkout."""
    loans, holds, lines = Loan._meta.db_table, Hold._meta.db_table, TransferLine._meta.db_table
    open_statuses = ", ".join(["%s"] * len(Hold.OPEN))
    rule_fields = [field.attname for field in LoanRule._meta.concrete_fields]
    sql = (
        "SELECT c.loans_out, c.loans_overdue, c.has_hold, c.on_transfer, c.closed_ahead, "
        f"{', '.join('r.' + f for f in rule_fields)} FROM (SELECT "
        f"(SELECT count(*) FROM {loans} l WHERE l.patron_id = %s "
        "AND l.returned_at IS NULL) AS loans_out, "
        f"(SELECT count(*) FROM {loans} l WHERE l.patron_id = %s "
        "AND l.returned_at IS NULL AND l.due_at < %s) AS loans_overdue, "
        f"EXISTS (SELECT 1 FROM {holds} h WHERE (h.item_id = %s AND h.status = %s) "
        f"OR (h.patron_id = %s AND h.title_id = %s AND h.status IN ({open_statuses})))"
        " AS has_hold, "
        f"EXISTS (SELECT 1 FROM {lines} tl WHERE tl.item_id = %s AND tl.is_open) AS on_transfer, "
        f"EXISTS (SELECT 1 FROM {ClosedDay._meta.db_table} cd WHERE cd.library_id = %s "
        "AND cd.date >= %s AND (cd.site_id = %s OR cd.site_id IS NULL)) AS closed_ahead) c "
        f"LEFT JOIN {LoanRule._meta.db_table} r ON r.library_id = %s AND r.category = %s "
        "AND r.site_kind IN (%s, '')"
    )
    params = [
        patron.pk,
        patron.pk,
        now,
        item.pk,
        Hold.Status.TRAPPED.value,
        patron.pk,
        item.title_id,
        *(s.value for s in Hold.OPEN),
        item.pk,
        site.library_id,
        timezone.localtime(now, local_zone()).date(),
        site.pk,
        site.library_id,
        patron.category,
        site.kind,
    ]
    rows = _fetch(sql, params)
    loans_out, loans_overdue, has_hold, on_transfer, closed_ahead = rows[0][:5]
    patron.loans_out, patron.loans_overdue = loans_out, loans_overdue
    item.has_hold, item.on_transfer = bool(has_hold), bool(on_transfer)
    rules = [
        LoanRule.from_db(connection.alias, rule_fields, row[5:])
        for row in rows
        if row[5] is not None  # no rule: the LEFT JOIN's one row of nulls
    ]
    return Lookups(rules=rules, closed_days_ahead=bool(closed_ahead))


def _fetch(sql, params):
    with fixed_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
