"""Item history rows, written in the same transaction as the change they record."""

from collections.abc import Iterable

from django.db import connection
from django.utils import timezone

from collections_app.models import Item, ItemEvent

BATCH = 2000
CHUNK = 5000  # ids per statement: well inside SQLite's 32,766 parameters


def item_events_record(
    *,
    items: Iterable[Item],
    kind: str,
    to_status: str,
    user=None,
    at=None,
    from_status: str | None = None,
    to_site=None,
    transfer=None,
    note: str = "",
) -> int:
    """One history row per item; `from_status` and `from_site` are read from each item as it
    was before the change, so call this before updating the items in memory."""
    at = at or timezone.now()
    rows = [
        ItemEvent(
            library_id=item.library_id,
            item_id=item.pk,
            kind=kind,
            at=at,
            from_status=item.status if from_status is None else from_status,
            to_status=to_status,
            from_site_id=item.current_site_id,
            to_site_id=to_site.pk if to_site is not None else item.current_site_id,
            transfer=transfer,
            user=user if user is not None and user.is_authenticated else None,
            note=note,
        )
        for item in items
    ]
    ItemEvent.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)


def item_events_record_many(
    *,
    item_ids: list[int],
    kind: str,
    to_status: str,
    user=None,
    at=None,
    to_site=None,
    transfer=None,
    note: str = "",
) -> int:
    """The same rows for a large batch, written by the database itself: one
    INSERT … SELECT per chunk, reading each item's status and site as they are now, so call it
    before the UPDATE that changes them. No model instances, so 5,000 rows cost one statement."""
    if not item_ids:
        return 0
    at = at or timezone.now()
    events, items = ItemEvent._meta.db_table, Item._meta.db_table
    user_id = user.pk if user is not None and user.is_authenticated else None
    to_site_sql = "%s" if to_site is not None else "current_site_id"
    written = 0
    with connection.cursor() as cursor:
        for start in range(0, len(item_ids), CHUNK):
            chunk = item_ids[start : start + CHUNK]
            params = [kind, at, to_status]
            params += [to_site.pk] if to_site is not None else []
            params += [transfer.pk if transfer else None, user_id, note, *chunk]
            cursor.execute(
                f"""
                INSERT INTO {events} (library_id, item_id, kind, at, from_status, to_status,
                    from_site_id, to_site_id, transfer_id, user_id, note)
                SELECT library_id, id, %s, %s, status, %s, current_site_id, {to_site_sql},
                    %s, %s, %s
                FROM {items} WHERE id IN ({", ".join(["%s"] * len(chunk))})
                """,
                params,
            )
            written += cursor.rowcount
    return written
