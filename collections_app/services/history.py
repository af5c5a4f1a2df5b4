"""Item history rows, written in the same transaction as the change they record."""

from collections.abc import Iterable

from django.utils import timezone

from collections_app.models import Item, ItemEvent

BATCH = 2000


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
