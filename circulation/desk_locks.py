"""The two row locks every checkout takes, as hand-written statements.

A checkout is the hottest path of the platform: a desk scans a book every few seconds, a county
many times a second at peak. Built with the ORM, these two reads (the reader with their loan
counts, the item with its title, site, display and whether a hold or an open transfer concerns
it) cost more Python time to compile and to turn into model instances than everything else in a
checkout together. Here each is one fixed SQL string; the rows become the same model instances
the rest of the service uses, with the few related fields it reads attached, the others loading
on access as with `only()`.
"""

from django.db import connection

from circulation.models import Hold, Loan, Patron
from collections_app.models import Display, Item, Site, Title, TransferLine

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


def lock_patron(*, patron_id=None, library_id=None, card_number=None, now):
    """The reader, locked, with `loans_out` and `loans_overdue` counted in the same statement."""
    loans = Loan._meta.db_table
    where, params = (
        ("p.id = %s", [patron_id])
        if patron_id is not None
        else ("p.library_id = %s AND p.card_number = %s", [library_id, card_number])
    )
    sql = (
        f"SELECT {', '.join('p.' + f for f in PATRON_FIELDS)}, "
        f"(SELECT count(*) FROM {loans} l WHERE l.patron_id = p.id "
        "AND l.returned_at IS NULL) AS loans_out, "
        f"(SELECT count(*) FROM {loans} l WHERE l.patron_id = p.id "
        "AND l.returned_at IS NULL AND l.due_at < %s) AS loans_overdue "
        f"FROM {Patron._meta.db_table} p WHERE {where}{_for_update('p')}"
    )
    rows = _fetch(sql, [now, *params])
    if not rows:
        return None
    values = rows[0]
    patron = Patron.from_db(connection.alias, PATRON_FIELDS, values[: len(PATRON_FIELDS)])
    patron.loans_out, patron.loans_overdue = values[len(PATRON_FIELDS) :]
    return patron


def lock_item_for_checkout(barcode: str, patron_id: int):
    """The item, locked, with its title text, current site name and display site attached, and
    `has_hold` / `on_transfer` telling whether a hold or an open transfer line concerns it, so
    that the common case (neither) costs no further query."""
    holds, lines = Hold._meta.db_table, TransferLine._meta.db_table
    open_statuses = ", ".join(["%s"] * len(Hold.OPEN))
    sql = (
        f"SELECT {', '.join('i.' + f for f in ITEM_FIELDS)}, t.title, s.name, d.site_id, "
        f"EXISTS (SELECT 1 FROM {holds} h WHERE (h.item_id = i.id AND h.status = %s) "
        f"OR (h.patron_id = %s AND h.title_id = i.title_id AND h.status IN ({open_statuses}))), "
        f"EXISTS (SELECT 1 FROM {lines} tl WHERE tl.item_id = i.id AND tl.is_open) "
        f"FROM {Item._meta.db_table} i "
        f"JOIN {Title._meta.db_table} t ON t.id = i.title_id "
        f"JOIN {Site._meta.db_table} s ON s.id = i.current_site_id "
        f"LEFT JOIN {Display._meta.db_table} d ON d.id = i.display_id "
        f"WHERE i.barcode = %s{_for_update('i')}"
    )
    params = [Hold.Status.TRAPPED.value, patron_id, *(s.value for s in Hold.OPEN), barcode]
    rows = _fetch(sql, params)
    if not rows:
        return None
    values = rows[0]
    n = len(ITEM_FIELDS)
    item = Item.from_db(connection.alias, ITEM_FIELDS, values[:n])
    title_text, site_name, display_site_id, has_hold, on_transfer = values[n:]
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
    item.has_hold, item.on_transfer = bool(has_hold), bool(on_transfer)
    return item


def _fetch(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
