"""REST API of the collections, over the same scope and the same services as the pages.

Libraries are addressed by code, sites by `LIBRARY.site` (e.g. `SUIXIAN.xiaolin`), items by
barcode, boxes by the code on their label.

- /consignments/: announce one (POST); upload its manifest (`manifest/`, multipart, any format
  the web import takes; `dry_run` gives the web preview), answered 202 with the status URL of
  the background job; `start/` receiving, `scan/` barcodes in, `sign-off/`, and the
  `reconciliation/`, `missing/` and `extra/` lists of the sign-off page.
- /transfers/: create a draft from barcodes or from the filters of bulk allocation (POST), `add/`
  more, `dispatch/`, `receive/` by barcodes or box codes, `cancel/`.
- /boxes/: register (POST), `pack/`, `unpack/`, `send/` and `receive/` by box code.

Who may do what is asked of `accounts.scope`, as the pages ask it: a row outside the caller's
scope answers 404, a write by a role that only reads answers 403. The services decide the rest
and refuse with `Refused`, which answers 409 with the desk's message and every refused row
(sharedloan/api_errors.py). Work on a list of barcodes is all or nothing.
"""

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.reverse import reverse

from accounts.scope import (
    can_announce_consignment,
    can_manage_library,
    can_move_volumes,
    can_work_at_site,
    get_scoped_or_404,
    is_site_bound,
    scoped,
)
from collections_app import receiving_selectors, selectors
from collections_app.barcodes import is_barcode, normalise_barcode
from collections_app.errors import Problem, Refused
from collections_app.importing.limits import TooLarge, check_upload_size
from collections_app.importing.marc import parse_holdings
from collections_app.models import (
    Box,
    ClcClass,
    Consignment,
    Item,
    ItemEvent,
    Library,
    Site,
    Transfer,
    TransferLine,
)
from collections_app.receiving_views import ImportForm
from collections_app.services import transfers as transfer_services
from collections_app.services.boxes import box_create, box_pack, box_send, box_unpack
from collections_app.services.receiving import (
    central_site,
    consignment_announce,
    consignment_scan,
    consignment_sign_off,
    consignment_start_receiving,
    receipt_counts,
)
from jobs.api import JobStatusSerializer, job_status
from jobs.models import Job
from jobs.services import job_start, store_file

# Barcodes one request may carry: a few boxes' worth of scans, or one bulk allocation.
MAX_BARCODES = 5000
# Scans of one request: a few boxes' worth, answered well inside a web server's timeout.
MAX_SCANS = 500


class ScopedReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    def get_queryset(self):
        return scoped(super().get_queryset(), self.request.user)


def _validated(serializer_class, request, **context):
    serializer = serializer_class(data=request.data, context={"request": request, **context})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _site_in(library: Library, key: str) -> Site:
    """An active site of `library`, by `LIBRARY.site` or by its bare code."""
    library_code, dot, site_code = key.rpartition(".")
    site = (
        Site.objects.select_related("library")
        .filter(library=library, code=site_code if dot else key, is_active=True)
        .first()
    )
    if site is None or (dot and library_code != library.code):
        raise ApiValidationError(_("本馆没有代码为“%(key)s”的启用站点。") % {"key": key[:70]})
    return site


def _site_key(site: Site | None) -> str | None:
    return f"{site.library.code}.{site.code}" if site is not None else None


def _unknown_barcodes(library: Library, codes: list[str]) -> tuple[list[Item], list[Problem]]:
    """The items of `library` with these barcodes, and a problem for every code that is not
    one of its volumes (as the scan pages say it)."""
    items = {
        item.barcode: item
        for item in Item.objects.filter(library=library, barcode__in=codes).select_related("title")
    }
    unknown = [
        Problem(code, _("不是本馆的图书条码"), "item_not_found")
        for code in codes
        if code not in items
    ]
    return [items[code] for code in codes if code in items], unknown


# Fields -------------------------------------------------------------------------------------


class BarcodeField(serializers.CharField):
    """A barcode or box code as a scanner types it: cleaned as every scan is (full-width
    letters, spaces and invisible characters), then checked for the barcode format."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 200)
        kwargs.setdefault("help_text", "A barcode: letters, digits and hyphens, 3 to 32.")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        code = normalise_barcode(super().to_internal_value(data))
        if not is_barcode(code):
            raise ApiValidationError(
                _("%(code)s：条码只能由字母、数字和连字符组成，3 到 32 位。") % {"code": code[:40]},
                code="invalid",
            )
        return code


class BarcodeListField(serializers.ListField):
    """Barcodes in scanning order, each kept once."""

    def __init__(self, **kwargs):
        kwargs.setdefault("child", BarcodeField())
        kwargs.setdefault("max_length", MAX_BARCODES)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return list(dict.fromkeys(super().to_internal_value(data)))


class SiteKeyField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 70)
        super().__init__(**kwargs)


# Libraries, sites, items, history: read only --------------------------------------------------


class LibrarySerializer(serializers.ModelSerializer):
    province = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Library
        fields = ["code", "name", "kind", "province", "region"]


class LibraryViewSet(ScopedReadOnlyViewSet):
    queryset = Library.objects.select_related("province")
    serializer_class = LibrarySerializer
    lookup_field = "code"
    filterset_fields = ["kind"]


class SiteSerializer(serializers.ModelSerializer):
    library = serializers.SlugRelatedField(slug_field="code", read_only=True)
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    key = serializers.SerializerMethodField()

    class Meta:
        model = Site
        fields = [
            "key",
            "library",
            "code",
            "name",
            "kind",
            "parent",
            "address",
            "contact",
            "phone",
            "capacity",
            "is_active",
        ]

    def get_key(self, site) -> str:
        return f"{site.library.code}.{site.code}"


class SiteViewSet(ScopedReadOnlyViewSet):
    queryset = Site.objects.select_related("library", "parent")
    serializer_class = SiteSerializer
    lookup_field = "key"
    lookup_value_regex = r"[\w-]+\.[\w-]+"
    filterset_fields = {"library__code": ["exact"], "kind": ["exact"], "is_active": ["exact"]}

    def get_object(self):
        library_code, _, site_code = self.kwargs["key"].partition(".")
        try:
            site = self.get_queryset().get(library__code=library_code, code=site_code)
        except Site.DoesNotExist:
            raise Http404 from None
        self.check_object_permissions(self.request, site)
        return site


class ItemSerializer(serializers.ModelSerializer):
    library = serializers.SlugRelatedField(slug_field="code", read_only=True)
    owner = serializers.SlugRelatedField(slug_field="code", read_only=True)
    consignment = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    home_site = serializers.SlugRelatedField(slug_field="code", read_only=True)
    current_site = serializers.SlugRelatedField(slug_field="code", read_only=True)
    title = serializers.CharField(source="title.title", read_only=True)
    isbn = serializers.CharField(source="title.isbn", read_only=True)
    clc = serializers.CharField(source="title.clc", read_only=True)

    class Meta:
        model = Item
        fields = [
            "barcode",
            "title",
            "isbn",
            "clc",
            "call_number",
            "library",
            "owner",
            "consignment",
            "home_site",
            "current_site",
            "status",
            "status_changed_at",
            "last_loan_at",
        ]


class ItemViewSet(ScopedReadOnlyViewSet):
    queryset = Item.objects.select_related(
        "library", "owner", "consignment", "home_site", "current_site", "title"
    )
    serializer_class = ItemSerializer
    lookup_field = "barcode"
    filterset_fields = {
        "status": ["exact"],
        "library__code": ["exact"],
        "current_site__code": ["exact"],
        "consignment__reference": ["exact"],
        "title__clc_top": ["exact"],
        "title__isbn": ["exact"],
    }

    def get_object(self):
        # The same cleaning as every scan: a full-width or padded barcode finds its item.
        self.kwargs["barcode"] = normalise_barcode(self.kwargs["barcode"])
        return super().get_object()


class ItemEventSerializer(serializers.ModelSerializer):
    item = serializers.SlugRelatedField(slug_field="barcode", read_only=True)
    from_site = serializers.SlugRelatedField(slug_field="code", read_only=True)
    to_site = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = ItemEvent
        fields = [
            "item",
            "kind",
            "at",
            "from_status",
            "to_status",
            "from_site",
            "to_site",
            "transfer",
            "note",
        ]


class ItemEventViewSet(ScopedReadOnlyViewSet):
    queryset = ItemEvent.objects.select_related("item", "from_site", "to_site")
    serializer_class = ItemEventSerializer
    filterset_fields = {"item__barcode": ["exact"], "kind": ["exact"]}


# Consignments ---------------------------------------------------------------------------------


class ConsignmentSerializer(serializers.ModelSerializer):
    library = serializers.SlugRelatedField(slug_field="code", read_only=True)
    lender = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Consignment
        fields = [
            "id",
            "reference",
            "library",
            "lender",
            "agreement_date",
            "term_ends_on",
            "expected_count",
            "status",
            "signed_off_at",
        ]


class AnnounceSerializer(serializers.Serializer):
    library = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Library.objects.none(),
        required=False,
        help_text="Code of the receiving county library. Only the platform administrator "
        "chooses it; a county librarian announces for their own library.",
    )
    lender = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Library.objects.filter(kind=Library.Kind.NATIONAL),
        required=False,
        help_text="Code of the lending library (NLC); may be left out when there is one.",
    )
    reference = serializers.CharField(
        max_length=50, help_text="The consignment's reference in the NLC's letter (批次号)."
    )
    agreement_date = serializers.DateField(help_text="Date of the lending agreement.")
    term_ends_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="When the volumes go back or are exchanged; after the agreement date.",
    )
    expected_count = serializers.IntegerField(
        min_value=0,
        required=False,
        default=0,
        help_text="Volumes announced; 0 takes the count of the imported manifest.",
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["library"].queryset = scoped(
                Library.objects.filter(kind=Library.Kind.COUNTY), request.user
            )

    def validate(self, data):
        user = self.context["request"].user
        if user.is_superuser and "library" not in data:
            raise ApiValidationError(
                {"library": [self.fields["library"].error_messages["required"]]}
            )
        data.setdefault("library", user.library)
        if "lender" not in data:
            lenders = list(self.fields["lender"].queryset[:2])
            if len(lenders) != 1:
                raise ApiValidationError(
                    {"lender": [self.fields["lender"].error_messages["required"]]}
                )
            data["lender"] = lenders[0]
        return data


class ManifestUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="The manifest: CSV, XLSX, ISO 2709 MARC (CNMARC/UNIMARC or MARC21) or "
        "MARCXML; the format is read from the bytes, not the name."
    )
    encoding = serializers.ChoiceField(
        choices=[value for value, _label in ImportForm.base_fields["encoding"].choices],
        required=False,
        default="",
        allow_blank=True,
        help_text="Character encoding; empty detects it.",
    )
    holdings = serializers.CharField(
        max_length=8,
        required=False,
        default="",
        allow_blank=True,
        help_text="MARC holdings field of the barcodes, e.g. 995$f; empty tries 906$b and "
        "995$f for CNMARC, 952$p for MARC21.",
    )
    dry_run = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true: check only, and give the web import's preview (counts, per-class "
        "counts, every error with its row or record, column or field and value). false: "
        "import, all or nothing.",
    )

    def validate_file(self, upload):
        try:
            check_upload_size(upload.size)
        except TooLarge as error:
            raise ApiValidationError(str(error)) from None
        return upload

    def validate_holdings(self, value):
        try:
            parse_holdings(value)
        except ValueError as error:
            raise ApiValidationError(str(error)) from None
        return value


class ScanInSerializer(serializers.Serializer):
    barcodes = serializers.ListField(
        child=serializers.CharField(max_length=200),
        min_length=1,
        max_length=MAX_SCANS,
        help_text="Barcodes as scanned, in order; each is answered as the scanning page "
        "answers it (received, damaged, already, extra, invalid).",
    )
    damaged = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        default=list,
        help_text="Barcodes among those scanned to record as damaged.",
    )


class ScanOutcomeSerializer(serializers.Serializer):
    barcode = serializers.CharField()
    outcome = serializers.ChoiceField(
        choices=["received", "damaged", "already", "extra", "invalid"],
        help_text="received or damaged: booked in at the central library; already: scanned "
        "before; extra: not in the manifest (put it aside); invalid: not a barcode.",
    )
    label = serializers.CharField(help_text="The outcome in the caller's language.")
    message = serializers.CharField(help_text="What the scanning page says.")
    title = serializers.CharField()
    call_number = serializers.CharField()


class ReconciliationSerializer(serializers.Serializer):
    manifest_items = serializers.IntegerField(help_text="Volumes with barcodes in the manifest.")
    expected = serializers.IntegerField()
    received = serializers.IntegerField(help_text="Scanned in, damaged ones included.")
    waiting = serializers.IntegerField(help_text="Not scanned yet; 0 after sign-off.")
    missing = serializers.IntegerField(
        help_text="Before sign-off the volumes not scanned yet; after it those recorded missing."
    )
    damaged = serializers.IntegerField()
    extra = serializers.IntegerField(help_text="Barcodes scanned that the manifest lacks.")
    already = serializers.IntegerField()
    invalid = serializers.IntegerField()
    awaiting_copies = serializers.IntegerField(help_text="Copies listed without a barcode.")
    awaiting_titles = serializers.IntegerField()


class ScanAnswerSerializer(serializers.Serializer):
    results = ScanOutcomeSerializer(many=True)
    counts = ReconciliationSerializer()


class SignOffSerializer(serializers.Serializer):
    consignment = ConsignmentSerializer()
    missing = serializers.IntegerField(help_text="Volumes recorded missing at this sign-off.")
    counts = ReconciliationSerializer()


class MissingItemSerializer(serializers.ModelSerializer):
    title = serializers.CharField(source="title.title")
    isbn = serializers.CharField(source="title.isbn")
    clc = serializers.CharField(source="title.clc")

    class Meta:
        model = Item
        fields = ["barcode", "title", "isbn", "call_number", "clc", "status"]


class ExtraScanSerializer(serializers.Serializer):
    barcode = serializers.CharField()
    scans = serializers.IntegerField(help_text="How often it was scanned.")
    first_at = serializers.DateTimeField(help_text="When it was first scanned.")


def _job_accepted(job: Job, request) -> Response:
    body = job_status(job, request)
    return Response(
        JobStatusSerializer(body).data,
        status=status.HTTP_202_ACCEPTED,
        headers={"Location": body["url"]},
    )


@extend_schema_view(
    list=extend_schema(summary="Consignments in the caller's scope"),
    retrieve=extend_schema(summary="One consignment"),
)
class ConsignmentViewSet(ScopedReadOnlyViewSet):
    """Consignments (共享借阅批次) and their receipt: announced → receiving → active."""

    queryset = Consignment.objects.select_related("library", "lender")
    serializer_class = ConsignmentSerializer
    filterset_fields = {"library__code": ["exact"], "status": ["exact"]}
    # An upload only starts the check or the import; a refusal is in the job's status.
    never_refused = ("manifest",)

    def _manager(self, consignment):
        if not can_manage_library(self.request.user, consignment.library):
            raise PermissionDenied

    def _scanner_or_none(self, consignment) -> bool:
        try:
            site = central_site(consignment.library)
        except Refused:
            return False
        return can_work_at_site(self.request.user, site)

    def _with_volumes(self):
        """A consignment whose volumes are listed or scanned: site staff only where they
        receive (the central library is one of their sites), as on the pages."""
        consignment = self.get_object()
        if is_site_bound(self.request.user) and not self._scanner_or_none(consignment):
            raise Http404
        return consignment

    @extend_schema(
        summary="Announce a consignment",
        request=AnnounceSerializer,
        responses={201: ConsignmentSerializer},
    )
    def create(self, request):
        if not can_announce_consignment(request.user):
            raise PermissionDenied
        data = _validated(AnnounceSerializer, request)
        consignment = consignment_announce(user=request.user, **data)
        url = reverse("consignment-detail", args=[consignment.pk], request=request)
        return Response(
            ConsignmentSerializer(consignment).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": url},
        )

    @extend_schema(
        summary="Upload the manifest: check it (dry_run) or import it",
        request={"multipart/form-data": ManifestUploadSerializer},
        responses={202: JobStatusSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        parser_classes=[MultiPartParser, FormParser],
        filter_backends=[],
    )
    def manifest(self, request, pk=None):
        """The file is kept in the database and checked or imported by a background job; the
        answer is the job's status, and `Location` is where to poll it."""
        consignment = self.get_object()
        self._manager(consignment)
        data = _validated(ManifestUploadSerializer, request)
        upload = data["file"]
        staged = store_file(
            data=upload.read(),
            name=upload.name or "manifest",
            library=consignment.library,
            user=request.user,
        )
        job = job_start(
            kind=Job.Kind.MANIFEST_PREVIEW if data["dry_run"] else Job.Kind.MANIFEST_COMMIT,
            user=request.user,
            library=consignment.library,
            input=staged,
            params={
                "consignment": consignment.pk,
                "encoding": data["encoding"],
                "holdings": data["holdings"],
            },
        )
        return _job_accepted(job, request)

    @extend_schema(summary="Start receiving", request=None, responses=ConsignmentSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def start(self, request, pk=None):
        consignment = self.get_object()
        self._manager(consignment)
        consignment = consignment_start_receiving(user=request.user, consignment=consignment)
        return Response(ConsignmentSerializer(consignment).data)

    @extend_schema(
        summary="Scan volumes in at the central library",
        request=ScanInSerializer,
        responses=ScanAnswerSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def scan(self, request, pk=None):
        """Each barcode is booked as the scanning page books it, in order; a refusal (the
        consignment is not receiving) leaves every scan of the request unrecorded."""
        consignment = self._with_volumes()
        if not self._scanner_or_none(consignment):
            raise PermissionDenied
        data = _validated(ScanInSerializer, request)
        damaged = {normalise_barcode(code) for code in data["damaged"]}
        with transaction.atomic():
            results = [
                consignment_scan(
                    user=request.user,
                    consignment=consignment,
                    barcode=raw,
                    damaged=normalise_barcode(raw) in damaged,
                    counts=False,
                )
                for raw in data["barcodes"]
            ]
            counts = receipt_counts(consignment)
        body = {"results": [result.as_json() for result in results], "counts": counts}
        return Response(ScanAnswerSerializer(body).data)

    @extend_schema(summary="Sign the receipt off", request=None, responses=SignOffSerializer)
    @action(detail=True, methods=["post"], url_path="sign-off", filter_backends=[])
    def sign_off(self, request, pk=None):
        """Every volume not scanned is recorded missing; the consignment goes into service."""
        consignment = self._with_volumes()
        self._manager(consignment)
        signed = consignment_sign_off(user=request.user, consignment=consignment)
        body = {
            "consignment": signed.consignment,
            "missing": signed.missing,
            "counts": receipt_counts(signed.consignment),
        }
        return Response(SignOffSerializer(body).data)

    @extend_schema(summary="The receipt's figures", responses=ReconciliationSerializer)
    @action(detail=True, methods=["get"], filter_backends=[])
    def reconciliation(self, request, pk=None):
        consignment = self.get_object()
        counts = receiving_selectors.reconciliation(consignment)
        return Response(ReconciliationSerializer(counts).data)

    @extend_schema(
        summary="Volumes missing: not scanned yet, or recorded missing at sign-off",
        responses=MissingItemSerializer(many=True),
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def missing(self, request, pk=None):
        consignment = self._with_volumes()
        page = self.paginate_queryset(receiving_selectors.missing_items(consignment))
        return self.get_paginated_response(MissingItemSerializer(page, many=True).data)

    @extend_schema(
        summary="Barcodes scanned that the manifest does not list",
        responses=ExtraScanSerializer(many=True),
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def extra(self, request, pk=None):
        consignment = self._with_volumes()
        page = self.paginate_queryset(receiving_selectors.extra_scans(consignment))
        return self.get_paginated_response(ExtraScanSerializer(page, many=True).data)


# Transfers ------------------------------------------------------------------------------------


class TransferLineSerializer(serializers.ModelSerializer):
    item = serializers.SlugRelatedField(slug_field="barcode", read_only=True)

    class Meta:
        model = TransferLine
        fields = ["item", "state"]


class TransferSerializer(serializers.ModelSerializer):
    library = serializers.SlugRelatedField(slug_field="code", read_only=True)
    source = serializers.SlugRelatedField(slug_field="code", read_only=True)
    destination = serializers.SlugRelatedField(slug_field="code", read_only=True)
    lines = TransferLineSerializer(many=True, read_only=True)

    class Meta:
        model = Transfer
        fields = [
            "id",
            "library",
            "source",
            "destination",
            "reason",
            "status",
            "note",
            "created_at",
            "dispatched_at",
            "received_at",
            "cancelled_at",
            "lines",
        ]


class AllocationFilterSerializer(serializers.Serializer):
    """The filters of the bulk allocation on a transfer's page."""

    count = serializers.IntegerField(
        min_value=1, max_value=20000, help_text="How many volumes to take, at most."
    )
    clc_top = serializers.CharField(
        max_length=2,
        required=False,
        allow_blank=True,
        default="",
        help_text="CLC main class (中图法大类), e.g. I (TB… for T's subclasses); empty for all.",
    )
    consignment = serializers.CharField(
        max_length=50,
        required=False,
        allow_blank=True,
        default="",
        help_text="Reference of a consignment of the library, e.g. NLC-2021-SX.",
    )
    idle_days = serializers.IntegerField(
        min_value=1,
        max_value=3650,
        required=False,
        allow_null=True,
        default=None,
        help_text="Only volumes not lent for at least this many days.",
    )
    on_display = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="true: only volumes on a display; false: none on a display; null: either.",
    )

    def validate_clc_top(self, code):
        if code and not ClcClass.objects.filter(level=1, code=code).exists():
            message = serializers.ChoiceField.default_error_messages["invalid_choice"]
            raise ApiValidationError(message.format(input=code), code="invalid_choice")
        return code

    def validate_consignment(self, reference):
        if not reference:
            return None
        found = (
            scoped(Consignment.objects.all(), self.context["request"].user)
            .filter(library=self.context["library"], reference=reference)
            .first()
        )
        if found is None:
            raise ApiValidationError(
                _("本馆没有批次号为“%(reference)s”的批次。") % {"reference": reference}
            )
        return found


class TransferFillSerializer(serializers.Serializer):
    barcodes = BarcodeListField(
        required=False,
        help_text="Volumes to put on the transfer, scanned or pasted; all of them or none.",
    )
    filters = AllocationFilterSerializer(
        required=False,
        help_text="Or take volumes from the source as bulk allocation does: the longest idle "
        "first, on the shelf, on no other transfer, in no box.",
    )

    def validate(self, data):
        if data.get("barcodes") and data.get("filters"):
            raise ApiValidationError(_("请给出条码或筛选条件之一，不能两者都给。"))
        return data


class TransferCreateSerializer(TransferFillSerializer):
    source = SiteKeyField(help_text="Sending site: LIBRARY.site or the site code, e.g. central.")
    destination = SiteKeyField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Receiving site, as for source; null when returning volumes to the lender.",
    )
    reason = serializers.ChoiceField(choices=Transfer.Reason.choices)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def validate_source(self, key):
        return _site_in(self.context["library"], key)

    def validate_destination(self, key):
        return _site_in(self.context["library"], key) if key else None


class TransferWithAddedSerializer(TransferSerializer):
    added = serializers.IntegerField(help_text="Volumes put on the transfer by this request.")

    class Meta(TransferSerializer.Meta):
        fields = [*TransferSerializer.Meta.fields, "added"]


class ReceiveSerializer(serializers.Serializer):
    barcodes = BarcodeListField(
        required=False,
        default=list,
        help_text="Volumes scanned at the destination, or box codes (a box stands for every "
        "volume in it). A volume of the library not on the transfer arrives as extra.",
    )
    damaged = BarcodeListField(
        required=False, default=list, help_text="Barcodes among those to record as damaged."
    )
    finish = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true: the receiver has finished; every line not scanned is recorded missing.",
    )

    def validate(self, data):
        if not data["barcodes"] and not data["finish"]:
            raise ApiValidationError(_("请给出要接收的条码，或结束接收。"))
        return data


class ReceiptSerializer(serializers.Serializer):
    transfer = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Transfer.Status.choices)
    completed = serializers.BooleanField(help_text="True when no line is pending any more.")
    received = serializers.ListField(child=serializers.CharField())
    damaged = serializers.ListField(child=serializers.CharField())
    extra = serializers.ListField(
        child=serializers.CharField(), help_text="Volumes not on the transfer, booked in."
    )
    already = serializers.ListField(child=serializers.CharField(), help_text="Scanned before.")
    missing = serializers.ListField(
        child=serializers.CharField(), help_text="Recorded missing by this request (finish)."
    )
    held = serializers.DictField(
        child=serializers.CharField(),
        help_text="Barcode → instruction for each volume received that is kept for a reader "
        "picking it up here (the hold shelf): trapped on arrival for the reader waiting longest, "
        "or sent here for their hold.",
    )
    counts = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Lines of the transfer per state, and `total` sent.",
    )


def _receipt_body(transfer: Transfer, receipt) -> dict:
    transfer.refresh_from_db(fields=["status"])
    return {
        "transfer": transfer.pk,
        "status": transfer.status,
        "completed": receipt.completed,
        "received": receipt.received,
        "damaged": receipt.damaged,
        "extra": receipt.extra,
        "already": receipt.already,
        "missing": receipt.missing,
        "held": receipt.held,
        "counts": selectors.line_counts(transfer),
    }


def _receive(user, transfer: Transfer, data: dict) -> dict:
    """A receipt of many barcodes is all or nothing: one the transfer cannot take refuses the
    whole request, with every such barcode and why."""
    with transaction.atomic():
        receipt = transfer_services.transfer_receive(
            user=user,
            transfer=transfer,
            site=transfer.destination,
            barcodes=data["barcodes"],
            damaged=data["damaged"],
            finish=data["finish"],
        )
        if receipt.problems:
            raise Refused(
                _("%(count)s 个条码不能接收，未做任何更改。") % {"count": len(receipt.problems)},
                receipt.problems,
                code="items_not_receivable",
            )
    return _receipt_body(transfer, receipt)


def _require_receiver(user, transfer: Transfer) -> None:
    """At the destination site; a return to the lender is confirmed by the county librarian."""
    if transfer.destination is None:
        allowed = can_manage_library(user, transfer.library)
    else:
        allowed = can_work_at_site(user, transfer.destination)
    if not allowed:
        raise PermissionDenied


def _fill(user, transfer: Transfer, data: dict) -> int:
    if data.get("barcodes"):
        items, unknown = _unknown_barcodes(transfer.library, data["barcodes"])
        if unknown:
            raise Refused(
                _("%(count)s 册图书不能调拨，未做任何更改。") % {"count": len(unknown)},
                unknown,
                code="items_not_transferable",
            )
        return transfer_services.transfer_add_items(user=user, transfer=transfer, items=items)
    if data.get("filters"):
        filters = dict(data["filters"])
        return transfer_services.transfer_add_matching(
            user=user, transfer=transfer, count=filters.pop("count"), **filters
        )
    return 0


@extend_schema_view(
    list=extend_schema(summary="Transfers in the caller's scope"),
    retrieve=extend_schema(summary="One transfer with its lines"),
)
class TransferViewSet(ScopedReadOnlyViewSet):
    """Transfers: draft → dispatched → received, or cancelled."""

    queryset = Transfer.objects.select_related("library", "source", "destination").prefetch_related(
        "lines__item"
    )
    serializer_class = TransferSerializer
    filterset_fields = {"status": ["exact"], "reason": ["exact"], "library__code": ["exact"]}

    def _sender(self, transfer):
        if not can_work_at_site(self.request.user, transfer.source):
            raise PermissionDenied

    def _answer(self, transfer, code=status.HTTP_200_OK, **extra):
        transfer = self.get_queryset().get(pk=transfer.pk)
        body = TransferSerializer(transfer).data | extra
        return Response(body, status=code)

    @extend_schema(
        summary="Create a draft transfer, from barcodes or from allocation filters",
        request=TransferCreateSerializer,
        responses={201: TransferWithAddedSerializer},
    )
    def create(self, request):
        """The draft and its volumes are made together or not at all."""
        user = request.user
        if not can_move_volumes(user):
            raise PermissionDenied
        data = _validated(TransferCreateSerializer, request, library=user.library)
        with transaction.atomic():
            transfer = transfer_services.transfer_create(
                user=user,
                source=data["source"],
                destination=data["destination"],
                reason=data["reason"],
                note=data["note"],
            )
            added = _fill(user, transfer, data)
        response = self._answer(transfer, status.HTTP_201_CREATED, added=added)
        response["Location"] = reverse("transfer-detail", args=[transfer.pk], request=request)
        return response

    @extend_schema(
        summary="Add volumes to a draft, from barcodes or from allocation filters",
        request=TransferFillSerializer,
        responses=TransferWithAddedSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def add(self, request, pk=None):
        transfer = self.get_object()
        self._sender(transfer)
        data = _validated(TransferFillSerializer, request, library=transfer.library)
        with transaction.atomic():
            added = _fill(request.user, transfer, data)
        return self._answer(transfer, added=added)

    @extend_schema(summary="Dispatch: every volume goes in transit", request=None)
    @action(
        detail=True, methods=["post"], url_path="dispatch", url_name="dispatch", filter_backends=[]
    )
    def dispatch_(self, request, pk=None):
        transfer = self.get_object()
        self._sender(transfer)
        transfer_services.transfer_dispatch(user=request.user, transfer=transfer)
        return self._answer(transfer)

    @extend_schema(
        summary="Receive volumes or boxes at the destination",
        request=ReceiveSerializer,
        responses=ReceiptSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def receive(self, request, pk=None):
        """Lines not scanned stay in transit unless `finish`; scanning twice is harmless."""
        transfer = self.get_object()
        _require_receiver(request.user, transfer)
        data = _validated(ReceiveSerializer, request)
        return Response(ReceiptSerializer(_receive(request.user, transfer, data)).data)

    @extend_schema(summary="Cancel a draft or a dispatched transfer", request=None)
    @action(detail=True, methods=["post"], filter_backends=[])
    def cancel(self, request, pk=None):
        transfer = self.get_object()
        self._sender(transfer)
        transfer_services.transfer_cancel(user=request.user, transfer=transfer)
        return self._answer(transfer)


# Boxes ----------------------------------------------------------------------------------------


class BoxSerializer(serializers.ModelSerializer):
    library = serializers.SlugRelatedField(slug_field="code", read_only=True)
    site = serializers.SerializerMethodField(help_text="Where the box stands (LIBRARY.site).")
    items = serializers.SerializerMethodField(help_text="Barcodes of the volumes in the box.")

    class Meta:
        model = Box
        fields = ["code", "name", "library", "is_active", "site", "items"]

    def get_site(self, box) -> str | None:
        items = list(box.items.all())
        return _site_key(items[0].current_site) if items else None

    def get_items(self, box) -> list[str]:
        return sorted(item.barcode for item in box.items.all())


class BoxCreateSerializer(serializers.Serializer):
    code = BarcodeField(help_text="The code on the box's label, scanned like a barcode.")
    name = serializers.CharField(max_length=100)


class BoxPackSerializer(serializers.Serializer):
    barcodes = BarcodeListField(
        min_length=1, help_text="Volumes to pack, on the shelf where the box stands."
    )


class BoxSendSerializer(serializers.Serializer):
    destination = SiteKeyField(help_text="Where the box goes: LIBRARY.site or the site code.")


class BoxReceiveSerializer(serializers.Serializer):
    damaged = BarcodeListField(
        required=False, default=list, help_text="Volumes of the box to record as damaged."
    )


class UnpackedSerializer(serializers.Serializer):
    unpacked = serializers.IntegerField(help_text="Volumes taken out of the box.")


@extend_schema_view(
    list=extend_schema(summary="Book boxes in the caller's scope"),
    retrieve=extend_schema(summary="One book box and its volumes"),
)
class BoxViewSet(ScopedReadOnlyViewSet):
    """Travelling book boxes (流动书箱): packed by scanning, sent and received as one."""

    queryset = Box.objects.select_related("library").prefetch_related(
        "items__current_site__library"
    )
    serializer_class = BoxSerializer
    lookup_field = "code"
    filterset_fields = {"is_active": ["exact"]}

    def _worker(self, box):
        """Packing, unpacking and sending are for the box's library staff (the services still
        check the sites)."""
        user = self.request.user
        if not can_move_volumes(user) or user.library_id != box.library_id:
            raise PermissionDenied

    def get_object(self):
        self.kwargs["code"] = normalise_barcode(self.kwargs["code"])
        return super().get_object()

    def _answer(self, box, code=status.HTTP_200_OK):
        return Response(BoxSerializer(self.get_queryset().get(pk=box.pk)).data, status=code)

    @extend_schema(
        summary="Register a book box", request=BoxCreateSerializer, responses={201: BoxSerializer}
    )
    def create(self, request):
        user = request.user
        if user.library is None or not can_manage_library(user, user.library):
            raise PermissionDenied
        data = _validated(BoxCreateSerializer, request)
        box = box_create(user=user, library=user.library, code=data["code"], name=data["name"])
        response = self._answer(box, status.HTTP_201_CREATED)
        response["Location"] = reverse("box-detail", args=[box.code], request=request)
        return response

    @extend_schema(summary="Pack volumes", request=BoxPackSerializer, responses=BoxSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def pack(self, request, code=None):
        box = self.get_object()
        self._worker(box)
        data = _validated(BoxPackSerializer, request)
        items, unknown = _unknown_barcodes(box.library, data["barcodes"])
        if unknown:
            raise Refused(_("有图书不能装箱，未做任何更改。"), unknown, code="items_not_packable")
        box_pack(user=request.user, box=box, items=items)
        return self._answer(box)

    @extend_schema(summary="Unpack every volume", request=None, responses=UnpackedSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def unpack(self, request, code=None):
        box = self.get_object()
        self._worker(box)
        return Response({"unpacked": box_unpack(user=request.user, box=box)})

    @extend_schema(
        summary="Send the box: one transfer with all its volumes, dispatched at once",
        request=BoxSendSerializer,
        responses={201: TransferSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def send(self, request, code=None):
        box = self.get_object()
        self._worker(box)
        data = _validated(BoxSendSerializer, request)
        destination = _site_in(box.library, data["destination"])
        transfer = box_send(user=request.user, box=box, destination=destination)
        transfer = Transfer.objects.prefetch_related("lines__item").get(pk=transfer.pk)
        return Response(
            TransferSerializer(transfer).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("transfer-detail", args=[transfer.pk], request=request)},
        )

    @extend_schema(
        summary="Receive the box at its destination: one scan of its label",
        request=BoxReceiveSerializer,
        responses=ReceiptSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def receive(self, request, code=None):
        """The box is found on the transfer it travels on; a box on its way is seen by the
        staff of its destination, who may not see it yet where it left."""
        code = normalise_barcode(code)
        transfer = (
            scoped(Transfer.objects.in_transit(), request.user)
            .select_related("library", "source", "destination")
            .filter(lines__item__box__code=code, lines__is_open=True)
            .distinct()
            .first()
        )
        if transfer is None:
            box = get_scoped_or_404(Box.objects.all(), request.user, code=code)
            raise Refused(
                _("书箱“%(box)s”不在途中。") % {"box": box.name}, code="box_not_in_transit"
            )
        _require_receiver(request.user, transfer)
        data = _validated(BoxReceiveSerializer, request)
        data = {"barcodes": [code], "damaged": data["damaged"], "finish": False}
        return Response(ReceiptSerializer(_receive(request.user, transfer, data)).data)


def register(router):
    router.register("libraries", LibraryViewSet)
    router.register("sites", SiteViewSet)
    router.register("consignments", ConsignmentViewSet)
    router.register("items", ItemViewSet)
    router.register("item-events", ItemEventViewSet, basename="itemevent")
    router.register("transfers", TransferViewSet)
    router.register("boxes", BoxViewSet)
