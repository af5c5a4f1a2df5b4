"""Receiving an NLC consignment: announce it, import its manifest, scan the boxes in, sign off.

announced → receiving → active. The import creates the titles and, for every volume with a
barcode, an Item in the state "expected" (待验收) at the central library, with its history row;
volumes without a barcode are counted on AwaitingBarcodes. Scanning turns an expected item
available (or damaged) at the central library; sign-off records every item not scanned as
missing. Every service locks the consignment row first, so scans, imports and the sign-off of
one consignment never interleave; bulk work is all or nothing, written set-based.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.scope import can_manage_library, can_work_at_site
from collections_app.barcodes import BARCODE, normalise_barcode
from collections_app.errors import Refused
from collections_app.importing import ImportOptions, Manifest, read_manifest
from collections_app.models import (
    AwaitingBarcodes,
    Consignment,
    ConsignmentImport,
    Item,
    ItemEvent,
    Library,
    ReceiptEntry,
    Site,
    Title,
)
from collections_app.receiving_selectors import reconciliation
from collections_app.services.holdings import holdings_add_new
from collections_app.services.items import item_transition, item_transition_many
from collections_app.title_keys import title_search_keys

BATCH = 2000
IMPORTABLE = (Consignment.Status.ANNOUNCED, Consignment.Status.RECEIVING)


def _lock(consignment: Consignment) -> Consignment:
    return (
        Consignment.objects.select_for_update()
        .select_related("library", "lender")
        .get(pk=consignment.pk)
    )


def central_site(library: Library) -> Site:
    """Where a consignment arrives: the county library's central library (总馆)."""
    site = (
        Site.objects.filter(library=library, kind=Site.Kind.CENTRAL, is_active=True)
        .order_by("pk")
        .first()
    )
    if site is None:
        raise Refused(
            _("%(library)s还没有启用的总馆站点，无法接收图书。") % {"library": library},
            code="no_central_site",
        )
    return site


def _require_manager(user, consignment: Consignment) -> None:
    # user=None is the management command, run by whoever may run commands on the server.
    if user is not None and not can_manage_library(user, consignment.library):
        raise Refused(
            _("只有%(library)s的馆员可以办理这个批次。") % {"library": consignment.library},
            code="librarian_only",
        )


# Announce ----------------------------------------------------------------------------------


def consignment_announce(
    *,
    user,
    library: Library,
    lender: Library,
    reference: str,
    agreement_date,
    term_ends_on=None,
    expected_count: int = 0,
    note: str = "",
) -> Consignment:
    if user is not None and not can_manage_library(user, library):
        raise Refused(
            _("只有%(library)s的馆员可以登记批次。") % {"library": library},
            code="librarian_only",
        )
    if not lender.is_lender:
        raise Refused(_("出借馆必须是国家图书馆。"), code="lender_not_national")
    if term_ends_on is not None and term_ends_on <= agreement_date:
        raise Refused(_("期满日期应晚于协议日期。"), code="term_ends_too_early")
    reference = reference.strip()
    try:
        with transaction.atomic():
            return Consignment.objects.create(
                library=library,
                lender=lender,
                reference=reference,
                agreement_date=agreement_date,
                term_ends_on=term_ends_on,
                expected_count=expected_count,
                note=note,
            )
    except IntegrityError:
        raise Refused(
            _("%(lender)s已有批次号为“%(reference)s”的批次。")
            % {"lender": lender, "reference": reference},
            code="consignment_reference_taken",
        ) from None


# Import ------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    consignment: Consignment
    manifest: Manifest
    filename: str = ""
    sha256: str = ""
    already_imported: bool = False
    previous_at: datetime | None = None
    committed: bool = False

    @property
    def has_errors(self) -> bool:
        return bool(self.manifest.errors)

    def summary(self) -> str:
        manifest = self.manifest
        if self.already_imported and self.previous_at is not None:
            return _("这个文件已于 %(at)s 导入批次 %(reference)s，这次没有新建任何记录。") % {
                "at": timezone.localtime(self.previous_at).strftime("%Y-%m-%d %H:%M"),
                "reference": self.consignment.reference,
            }
        if self.already_imported:
            return _("清单中的图书已全部在批次 %(reference)s 中，这次没有新建任何记录。") % {
                "reference": self.consignment.reference
            }
        counts = {
            "format": manifest.format_label,
            "titles": manifest.title_count,
            "items": manifest.item_count,
            "awaiting": manifest.awaiting_count,
        }
        if self.committed:
            return (
                _(
                    "已导入 %(format)s 清单：%(titles)s 种，%(items)s 册待验收，"
                    "%(awaiting)s 册待贴条码。"  # kept in two parts to fit the line
                )
                % counts
            )
        if self.has_errors:
            return _("清单有 %(n)s 处错误，未导入任何记录。") % {"n": len(manifest.errors)}
        return (
            _("预览 %(format)s 清单：%(titles)s 种，%(items)s 册有条码，%(awaiting)s 册待贴条码。")
            % counts
        )


def _check_barcodes(manifest: Manifest, consignment: Consignment) -> bool:
    """Duplicates within the file and against the database, as row-numbered errors. True when
    every barcode is already an item of this very consignment: the manifest was imported."""
    first_seen: dict[str, str] = {}
    for title in manifest.titles:
        for copy in title.copies:
            if copy.barcode in first_seen:
                manifest.error(
                    copy.where,
                    copy.field,
                    copy.barcode,
                    _("条码号重复，与%(first)s相同") % {"first": first_seen[copy.barcode]},
                )
            else:
                first_seen[copy.barcode] = copy.where
    if not first_seen:
        return False
    existing: dict[str, int] = {}
    codes = list(first_seen)
    chunk = max(1, (connection.features.max_query_params or 10000) - 10)
    for start in range(0, len(codes), chunk):
        existing.update(
            Item.objects.filter(barcode__in=codes[start : start + chunk]).values_list(
                "barcode", "consignment_id"
            )
        )
    if len(existing) == len(first_seen) and set(existing.values()) == {consignment.pk}:
        return True
    for title in manifest.titles:
        for copy in title.copies:
            if copy.barcode in existing and first_seen.get(copy.barcode) == copy.where:
                message = (
                    _("条码号已在本批次中导入过")
                    if existing[copy.barcode] == consignment.pk
                    else _("条码号已被其他图书使用")
                )
                manifest.error(copy.where, copy.field, copy.barcode, message)
    return False


def consignment_import(
    *,
    user,
    consignment: Consignment,
    data: bytes,
    filename: str = "",
    options: ImportOptions | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Read, validate and (unless `dry_run`) write a manifest, all or nothing. A dry run returns
    every problem in `result.manifest.problems`; a commit with errors raises Refused listing
    them all, and writes nothing."""
    _require_manager(user, consignment)
    sha256 = hashlib.sha256(data).hexdigest()
    result = ImportResult(consignment, Manifest(""), filename, sha256)
    previous = (
        ConsignmentImport.objects.filter(consignment=consignment, sha256=sha256).first()
        if consignment.pk
        else None
    )
    if previous is not None:
        result.already_imported, result.previous_at = True, previous.created_at
        return result
    if consignment.status not in IMPORTABLE:
        raise Refused(
            _("批次状态为“%(status)s”，不能再导入清单。")
            % {"status": consignment.get_status_display()},
            code="consignment_not_importable",
        )
    result.manifest = manifest = read_manifest(data, options=options)
    if manifest.titles and _check_barcodes(manifest, consignment) and not manifest.awaiting_count:
        # The same volumes in another file (the XLSX of a CSV already imported, say).
        result.already_imported = True
        return result
    if dry_run:
        return result
    if manifest.errors:
        raise Refused(
            result.summary(),
            [problem.as_problem() for problem in manifest.errors],
            code="import_invalid",
        )
    try:
        with transaction.atomic():
            _write(user, _lock(consignment), result)
    except IntegrityError:
        # Another import of the same file or barcodes committed a moment ago.
        raise Refused(
            _("有条码号刚被另一次导入使用，未导入任何记录，请重新预览。"), code="import_conflict"
        ) from None
    result.committed = True
    return result


def _insert(model, columns: list[str], rows: list[tuple]) -> list[int]:
    """Insert `rows` (tuples in `columns` order) and return their new ids, in order.

    On PostgreSQL the ids are drawn from the table's sequence in one query and the rows go in
    by COPY, the same path as the benchmark's raw baseline; elsewhere (SQLite) by bulk_create.
    No model instances either way: an import is 90,000 rows."""
    if not rows:
        return []
    if connection.vendor == "postgresql":
        table = model._meta.db_table
        with connection.cursor() as cursor:
            raw = cursor.cursor
            raw.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, len(rows)],
            )
            ids = [row[0] for row in raw.fetchall()]
            names = ", ".join(connection.ops.quote_name(name) for name in columns)
            with raw.copy(
                f"COPY {connection.ops.quote_name(table)} (id, {names}) FROM STDIN"
            ) as copy:
                for pk, row in zip(ids, rows, strict=True):
                    copy.write_row((pk, *row))
        return ids
    created = model.objects.bulk_create(
        [model(**dict(zip(columns, row, strict=True))) for row in rows], batch_size=BATCH
    )
    return [obj.pk for obj in created]


def _write(user, consignment: Consignment, result: ImportResult) -> None:
    manifest = result.manifest
    if consignment.status not in IMPORTABLE:
        raise Refused(
            _("批次状态已变为“%(status)s”。") % {"status": consignment.get_status_display()},
            code="consignment_not_importable",
        )
    site = central_site(consignment.library)
    now = timezone.now()
    library_id = consignment.library_id
    user_id = user.pk if user is not None and user.is_authenticated else None
    title_ids = _insert(
        Title,
        ["library_id", "isbn", "title", "responsibility", "publisher", "year", "clc", "clc_top",
         "price", "marc", "created_at", "title_pinyin", "title_initials"],
        [
            (library_id, entry.isbn, entry.title[:500], entry.responsibility[:500],
             entry.publisher[:200], entry.year, entry.clc[:64], entry.clc_top, entry.price,
             entry.marc, now, *title_search_keys(entry.title[:500]).values())
            for entry in manifest.titles
        ],
    )  # fmt: skip
    item_ids = _insert(
        Item,
        ["library_id", "barcode", "title_id", "consignment_id", "owner_id", "call_number",
         "home_site_id", "current_site_id", "status", "status_changed_at"],
        [
            (library_id, copy.barcode, title_id, consignment.pk, consignment.lender_id,
             (copy.call_number or entry.call_number)[:64], site.pk, site.pk,
             Item.Status.EXPECTED, now)
            for entry, title_id in zip(manifest.titles, title_ids, strict=True)
            for copy in entry.copies
        ],
    )  # fmt: skip
    holdings_add_new(
        library_id=library_id,
        owner_id=consignment.lender_id,
        site_id=site.pk,
        consignment_id=consignment.pk,
        status=Item.Status.EXPECTED,
        by_class=Counter(entry.clc_top for entry in manifest.titles for _copy in entry.copies),
    )
    note = _("批次 %(reference)s 清单") % {"reference": consignment.reference}
    _insert(
        ItemEvent,
        ["library_id", "item_id", "kind", "at", "from_status", "to_status", "from_site_id",
         "to_site_id", "user_id", "note"],
        [
            (library_id, item_id, ItemEvent.Kind.IMPORTED, now, "", Item.Status.EXPECTED,
             site.pk, site.pk, user_id, note)
            for item_id in item_ids
        ],
    )  # fmt: skip
    _insert(
        AwaitingBarcodes,
        ["library_id", "consignment_id", "title_id", "copies"],
        [
            (library_id, consignment.pk, title_id, entry.awaiting)
            for entry, title_id in zip(manifest.titles, title_ids, strict=True)
            if entry.awaiting
        ],
    )
    ConsignmentImport.objects.create(
        library_id=library_id,
        consignment=consignment,
        sha256=result.sha256,
        filename=result.filename[:255],
        file_format=manifest.file_format,
        encoding=manifest.encoding,
        title_count=manifest.title_count,
        item_count=manifest.item_count,
        awaiting_count=manifest.awaiting_count,
        created_by=user,
        created_at=now,
    )
    if not consignment.expected_count:
        consignment.expected_count = manifest.item_count + manifest.awaiting_count
        consignment.save(update_fields=["expected_count"])


# Receipt -----------------------------------------------------------------------------------


def consignment_start_receiving(*, user, consignment: Consignment) -> Consignment:
    with transaction.atomic():
        consignment = _lock(consignment)
        _require_manager(user, consignment)
        if consignment.status != Consignment.Status.ANNOUNCED:
            raise Refused(
                _("批次状态为“%(status)s”，不能开始验收。")
                % {"status": consignment.get_status_display()},
                code="consignment_not_announced",
            )
        if not consignment.items.exists() and not consignment.awaiting.exists():
            raise Refused(_("请先导入批次清单，再开始验收。"), code="manifest_missing")
        consignment.status = Consignment.Status.RECEIVING
        consignment.save(update_fields=["status"])
        return consignment


@dataclass
class ScanResult:
    barcode: str
    outcome: str
    message: str
    title: str = ""
    call_number: str = ""
    counts: dict = field(default_factory=dict)

    @property
    def is_expected(self) -> bool:
        return self.outcome in (ReceiptEntry.Outcome.RECEIVED, ReceiptEntry.Outcome.DAMAGED)

    def as_json(self) -> dict:
        outcome = ReceiptEntry.Outcome(self.outcome)
        return {
            "barcode": self.barcode,
            "outcome": self.outcome,
            "label": str(outcome.label),
            "message": self.message,
            "title": self.title,
            "call_number": self.call_number,
            "counts": self.counts,
        }


def normalise_scan(raw: str) -> str:
    # Full-width digits and letters come from a scanner on a Chinese input method.
    return normalise_barcode(raw)


def consignment_scan(
    *, user, consignment: Consignment, barcode: str, damaged: bool = False, counts: bool = True
) -> ScanResult:
    """One barcode scanned at the central library: expected → available (or damaged); scanned
    before; not in the manifest; or not a barcode at all. Every scan is recorded.

    `counts=False` leaves out the running counts, which take most of a scan's time on a large
    consignment: a batch of scans (the API) asks for them once, after its last scan."""
    code = normalise_scan(barcode)
    with transaction.atomic():
        consignment = _lock(consignment)
        site = central_site(consignment.library)
        if user is not None and not can_work_at_site(user, site):
            raise Refused(
                _("您不能在“%(site)s”验收图书。") % {"site": site.name}, code="site_not_allowed"
            )
        if consignment.status != Consignment.Status.RECEIVING:
            raise Refused(
                _("批次状态为“%(status)s”，不在验收中。")
                % {"status": consignment.get_status_display()},
                code="consignment_not_receiving",
            )
        now = timezone.now()
        item = None
        if not code:
            raise Refused(_("请扫描条码。"), code="barcode_invalid")
        if not BARCODE.match(code):
            result = ScanResult(
                code[:64], ReceiptEntry.Outcome.INVALID, _("条码格式不符，请重新扫描。")
            )
        else:
            item = (
                Item.objects.select_for_update(of=("self",))
                .select_related("title")
                .filter(barcode=code, consignment=consignment)
                .first()
            )
            if item is None:
                result = ScanResult(
                    code, ReceiptEntry.Outcome.EXTRA, _("不在本批清单中，请放到清单外一侧。")
                )
            else:
                result = _receive(user, item, site, damaged, now)
        ReceiptEntry.objects.create(
            library_id=consignment.library_id,
            consignment=consignment,
            barcode=result.barcode,
            outcome=result.outcome,
            item=item,
            user=user,
            at=now,
        )
        if counts:
            result.counts = receipt_counts(consignment)
    return result


def _receive(user, item: Item, site: Site, damaged: bool, now) -> ScanResult:
    result = ScanResult(item.barcode, "", "", item.title.title, item.call_number)
    if item.is_expected:
        status = Item.Status.DAMAGED if damaged else Item.Status.AVAILABLE
        item_transition(
            items=[item], kind=ItemEvent.Kind.RECEIVED, to_status=status, to_site=site,
            user=user, at=now, note=_("验收时标记损坏") if damaged else "", home_site=site,
        )  # fmt: skip
        result.outcome = ReceiptEntry.Outcome.DAMAGED if damaged else ReceiptEntry.Outcome.RECEIVED
        result.message = _("已验收，标记为损坏。") if damaged else _("已验收。")
    elif damaged and item.is_available and item.current_site_id == site.pk:
        item_transition(
            items=[item], kind=ItemEvent.Kind.STATUS_CHANGED, to_status=Item.Status.DAMAGED,
            user=user, at=now, note=_("验收时标记损坏"),
        )  # fmt: skip
        result.outcome = ReceiptEntry.Outcome.DAMAGED
        result.message = _("已扫描过，现标记为损坏。")
    else:
        result.outcome = ReceiptEntry.Outcome.ALREADY
        result.message = _("已扫描过（%(status)s），无需重复扫描。") % {
            "status": item.get_status_display()
        }
    return result


def receipt_counts(consignment: Consignment) -> dict:
    """The running counts of the scan page: the same figures as the consignment's page."""
    return reconciliation(consignment)


@dataclass
class SignOff:
    consignment: Consignment
    missing: int
    outcomes: Counter


def consignment_sign_off(*, user, consignment: Consignment) -> SignOff:
    """Close the receipt: every item still expected is missing (with its history row and a
    receipt line for the list sent back to the lender); the consignment goes into service."""
    with transaction.atomic():
        consignment = _lock(consignment)
        _require_manager(user, consignment)
        if consignment.status != Consignment.Status.RECEIVING:
            raise Refused(
                _("批次状态为“%(status)s”，不能签收。")
                % {"status": consignment.get_status_display()},
                code="consignment_not_receiving",
            )
        now = timezone.now()
        ids = list(
            consignment.items.filter(status=Item.Status.EXPECTED)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        missing: list[Item] = []
        for start in range(0, len(ids), BATCH):
            missing.extend(
                Item.objects.select_for_update()
                .filter(pk__in=ids[start : start + BATCH], status=Item.Status.EXPECTED)
                .order_by("pk")
            )
        item_transition_many(
            item_ids=[item.pk for item in missing],
            kind=ItemEvent.Kind.STATUS_CHANGED,
            to_status=Item.Status.MISSING,
            user=user,
            at=now,
            note=_("批次验收时缺失"),
        )
        ReceiptEntry.objects.bulk_create(
            [
                ReceiptEntry(
                    library_id=consignment.library_id,
                    consignment=consignment,
                    barcode=item.barcode,
                    outcome=ReceiptEntry.Outcome.MISSING,
                    item=item,
                    user=user,
                    at=now,
                )
                for item in missing
            ],
            batch_size=BATCH,
        )
        consignment.status = Consignment.Status.ACTIVE
        consignment.signed_off_by = user
        consignment.signed_off_at = now
        consignment.save(update_fields=["status", "signed_off_by", "signed_off_at"])
        outcomes = Counter(
            dict(
                consignment.receipt.values("outcome")
                .annotate(n=Count("id"))
                .order_by()
                .values_list("outcome", "n")
            )
        )
    return SignOff(consignment, len(missing), outcomes)
