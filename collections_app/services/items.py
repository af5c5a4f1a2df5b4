"""An item's change of status or place, and the history row that records it.

Every service that lends, returns, moves, receives, displays, boxes or writes off a volume calls
`item_transition` (a few locked items, as model instances) or `item_transition_many` (thousands,
by id). Each writes the history rows first, reading every item's status and site as they are
before the change, then updates the items — in the caller's transaction, on rows the caller has
locked. Writing the history by hand beside an `update()` got the order wrong in more than one
place; here it is right once, and it is the one place that keeps the summary beside the items
(holdings per site, class and status: `services/holdings.py`) current, in the same transaction.

`to_status=None` keeps each item's status (a display or a box changes where a volume stands, a
renewal only its loan); `to_site` moves the volumes; `fields` sets any other columns of the item
(`home_site`, `display`, `box`, `last_loan_at`) in the same UPDATE.

One volume — every scan at a desk — is written with fixed SQL strings, prepared on PostgreSQL
(`sharedloan.prepared`): built by the ORM, its history row and its UPDATE cost more Python time
than the rest of a checkout's writes together (docs/scale.md). The same rows, in the same order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection
from django.utils import timezone

from collections_app.models import Item, ItemEvent
from collections_app.services.holdings import KEEP, record_change
from sharedloan.prepared import insert_one, update_one

BATCH = 2000
CHUNK = 5000  # ids per statement: well inside SQLite's 32,766 parameters


def _user_or_none(user):
    return user if user is not None and user.is_authenticated else None


def _changes(to_status, to_site, at, fields) -> dict:
    changes = dict(fields)
    if to_status is not None:
        changes["status"] = to_status
        changes["status_changed_at"] = at
    if to_site is not None:
        changes["current_site"] = to_site
    return changes


def _record_holdings(item_ids, to_status, to_site, fields) -> None:
    display = fields.get("display", fields.get("display_id", KEEP))
    record_change(
        item_ids,
        status=KEEP if to_status is None else to_status,
        site_id=KEEP if to_site is None else to_site.pk,
        display_id=getattr(display, "pk", display),
        last_loan_at=fields.get("last_loan_at", KEEP),
    )


def item_transition(
    *,
    items: Iterable[Item],
    kind: str,
    to_status: str | None = None,
    to_site=None,
    user=None,
    at=None,
    transfer=None,
    note: str = "",
    **fields,
) -> int:
    """Record and apply one change to each of `items` (locked by the caller); the instances are
    updated in memory too, so the caller can go on reading them."""
    items = list(items)
    if not items:
        return 0
    at = at or timezone.now()
    user = _user_or_none(user)
    events = [
        ItemEvent(
            library_id=item.library_id,
            item_id=item.pk,
            kind=kind,
            at=at,
            from_status=item.status,
            to_status=item.status if to_status is None else to_status,
            from_site_id=item.current_site_id,
            to_site_id=to_site.pk if to_site is not None else item.current_site_id,
            transfer=transfer,
            user=user,
            note=note,
        )
        for item in items
    ]
    if len(events) == 1:
        insert_one(events[0])
    else:
        ItemEvent.objects.bulk_create(events, batch_size=BATCH)
    changes = _changes(to_status, to_site, at, fields)
    if changes:
        ids = [item.pk for item in items]
        _record_holdings(ids, to_status, to_site, fields)
        if len(ids) == 1:
            update_one(Item, ids[0], changes)
        else:
            for start in range(0, len(ids), CHUNK):
                Item.objects.filter(pk__in=ids[start : start + CHUNK]).update(**changes)
        for item in items:
            for name, value in changes.items():
                setattr(item, name, value)
    return len(items)


def item_transition_many(
    *,
    item_ids: Sequence[int],
    kind: str,
    to_status: str | None = None,
    to_site=None,
    user=None,
    at=None,
    transfer=None,
    note: str = "",
    **fields,
) -> int:
    """The same change for a large batch, by id: the history rows are written by the database
    itself, one INSERT … SELECT per chunk (no model instances), then one UPDATE per chunk."""
    if not item_ids:
        return 0
    at = at or timezone.now()
    user = _user_or_none(user)
    events, table = ItemEvent._meta.db_table, Item._meta.db_table
    to_status_sql = "%s" if to_status is not None else "status"
    to_site_sql = "%s" if to_site is not None else "current_site_id"
    changes = _changes(to_status, to_site, at, fields)
    written = 0
    with connection.cursor() as cursor:
        for start in range(0, len(item_ids), CHUNK):
            chunk = list(item_ids[start : start + CHUNK])
            params = [kind, at]
            params += [to_status] if to_status is not None else []
            params += [to_site.pk] if to_site is not None else []
            params += [transfer.pk if transfer else None, user.pk if user else None, note, *chunk]
            cursor.execute(
                f"""
                INSERT INTO {events} (library_id, item_id, kind, at, from_status, to_status,
                    from_site_id, to_site_id, transfer_id, user_id, note)
                SELECT library_id, id, %s, %s, status, {to_status_sql}, current_site_id,
                    {to_site_sql}, %s, %s, %s
                FROM {table} WHERE id IN ({", ".join(["%s"] * len(chunk))})
                """,
                params,
            )
            written += cursor.rowcount
            if changes:
                _record_holdings(chunk, to_status, to_site, fields)
                Item.objects.filter(pk__in=chunk).update(**changes)
    return written
