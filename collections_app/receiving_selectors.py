"""Reads for the receiving pages: the reconciliation of a consignment and the lists sent back
to the lender. Callers fetch the consignment through `accounts.scope` first."""

from django.db.models import Count, Min, Q, Sum
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
    """Every figure of a consignment's receipt, for its page, its scan page (also after each
    scan) and its sign-off page alike, so that they always agree.

    `received` counts the volumes scanned in (damaged ones included), once each. Before sign-off
    `waiting` and `missing` are both the volumes not scanned yet (what sign-off will record as
    missing); after it `waiting` is 0 and `missing` the volumes recorded missing. Either way
    received + missing = manifest_items (= expected)."""
    items = Item.objects.filter(consignment=consignment).aggregate(
        total=Count("id"), waiting=Count("id", filter=Q(status=Item.Status.EXPECTED))
    )
    scans = ReceiptEntry.objects.filter(consignment=consignment).aggregate(
        received=Count("item", distinct=True, filter=Q(outcome__in=RECEIVED)),
        damaged=Count("item", distinct=True, filter=Q(outcome=ReceiptEntry.Outcome.DAMAGED)),
        missing=Count("item", distinct=True, filter=Q(outcome=ReceiptEntry.Outcome.MISSING)),
        extra=Count("barcode", distinct=True, filter=Q(outcome=ReceiptEntry.Outcome.EXTRA)),
        already=Count("id", filter=Q(outcome=ReceiptEntry.Outcome.ALREADY)),
        invalid=Count("id", filter=Q(outcome=ReceiptEntry.Outcome.INVALID)),
    )
    awaiting = AwaitingBarcodes.objects.filter(consignment=consignment).aggregate(
        copies=Sum("copies"), titles=Count("id")
    )
    signed_off = consignment.signed_off_at is not None
    return {
        "manifest_items": items["total"],
        "expected": items["total"],
        "received": scans["received"],
        "waiting": 0 if signed_off else items["waiting"],
        "missing": scans["missing"] if signed_off else items["waiting"],
        "damaged": scans["damaged"],
        "extra": scans["extra"],
        "already": scans["already"],
        "invalid": scans["invalid"],
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
