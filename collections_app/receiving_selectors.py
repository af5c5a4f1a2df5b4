"""Reads for the receiving pages: the reconciliation of a consignment and the lists sent back
to the lender. Callers fetch the consignment through `accounts.scope` first."""

from django.db.models import Count, Min, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collections_app.models import AwaitingBarcodes, Consignment, Item, ReceiptEntry

RECEIVED = (ReceiptEntry.Outcome.RECEIVED, ReceiptEntry.Outcome.DAMAGED)


def missing_items(consignment: Consignment):
    """Before sign-off the items not scanned yet; after it, those recorded missing then."""
    if consignment.signed_off_at is None:
        items = consignment.items.filter(status=Item.Status.EXPECTED)
    else:
        items = consignment.items.filter(
            pk__in=consignment.receipt.filter(outcome=ReceiptEntry.Outcome.MISSING).values("item")
        )
    return items.select_related("title").order_by("barcode")


def extra_scans(consignment: Consignment):
    """Barcodes scanned that the manifest does not list, once each, with the first scan."""
    return (
        consignment.receipt.filter(outcome=ReceiptEntry.Outcome.EXTRA)
        .values("barcode")
        .annotate(scans=Count("id"), first_at=Min("at"))
        .order_by("barcode")
    )


def recent_scans(consignment: Consignment, limit: int = 12):
    return (
        consignment.receipt.exclude(outcome=ReceiptEntry.Outcome.MISSING)
        .select_related("item__title")
        .order_by("-at", "-id")[:limit]
    )


def reconciliation(consignment: Consignment) -> dict:
    entries = consignment.receipt.all()
    received = entries.filter(outcome__in=RECEIVED).values("item").distinct().count()
    damaged = entries.filter(outcome=ReceiptEntry.Outcome.DAMAGED).values("item").distinct().count()
    awaiting = AwaitingBarcodes.objects.filter(consignment=consignment).aggregate(
        copies=Sum("copies"), titles=Count("id")
    )
    outcome_counts = dict(
        entries.values("outcome").annotate(n=Count("id")).order_by().values_list("outcome", "n")
    )
    return {
        "manifest_items": consignment.items.count(),
        "received": received,
        "damaged": damaged,
        "missing": missing_items(consignment).count(),
        "extra": extra_scans(consignment).count(),
        "already": outcome_counts.get(ReceiptEntry.Outcome.ALREADY, 0),
        "invalid": outcome_counts.get(ReceiptEntry.Outcome.INVALID, 0),
        "awaiting_copies": awaiting["copies"] or 0,
        "awaiting_titles": awaiting["titles"],
    }


MISSING_HEADERS = [_("条码号"), _("题名"), "ISBN", _("索书号"), _("中图分类号"), _("批次号")]
EXTRA_HEADERS = [_("条码号"), _("扫描次数"), _("首次扫描时间"), _("批次号")]


def missing_rows(consignment: Consignment):
    for item in missing_items(consignment).iterator(chunk_size=2000):
        yield [
            item.barcode,
            item.title.title,
            item.title.isbn,
            item.call_number,
            item.title.clc,
            consignment.reference,
        ]


def extra_rows(consignment: Consignment):
    for row in extra_scans(consignment):
        yield [
            row["barcode"],
            row["scans"],
            timezone.localtime(row["first_at"]).strftime("%Y-%m-%d %H:%M:%S"),
            consignment.reference,
        ]
