"""REST API of circulation over the same services and forms as the desk and the reader pages:

- /api/v1/circulation/checkout, /return, /renew — the desk's three scans;
- /api/v1/patrons — find readers (by card number, name or phone), register, edit, suspend and
  reinstate them, with the reader form's validation and the patron services' rules;
- /api/v1/holds — list, place and cancel holds, and trap: the desk's return scan, which gives a
  volume to the first reader waiting for its title.

Readers are addressed by card number, sites by `LIBRARY.site`, volumes by barcode. Readers and
their holds are personal data: lenders and provincial reviewers see none of them (`scoped`), and
every write asks the same `accounts.scope` predicate as the page: a role that does not lend gets
403, a reader or hold of another county 404, and a refusal of the rules 409.
"""

from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ErrorDetail, NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from accounts.scope import (
    can_cancel_hold,
    can_circulate,
    can_edit_patron,
    can_work_at_site,
    get_scoped_or_404,
    scoped,
)
from circulation import selectors
from circulation.forms import HoldForm, PatronForm, SuspendForm
from circulation.models import Hold, Loan, Patron
from circulation.services import holds, loans, patrons
from circulation.services.holds import hold_ready
from collections_app.barcodes import normalise_barcode
from collections_app.models import Site
from sharedloan.api_schema import not_found

SITE_HELP = "A site as LIBRARY.site, e.g. SUIXIAN.xiaolin"
SITE_NOT_FOUND = not_found("The site is not one the caller can see")


# Scope helpers


def _site_key(site) -> str:
    return f"{site.library.code}.{site.code}"


def _find_site(sites, key):
    """The site of `sites` named by `LIBRARY.site`, or by its code alone when that is
    unambiguous; None when there is none."""
    key = (key or "").strip()
    library_code, dot, site_code = key.partition(".")
    if dot:
        found = sites.filter(library__code=library_code, code=site_code)
    else:
        found = sites.filter(code=key)
    found = list(found[:2])
    return found[0] if len(found) == 1 else None


def _desk_site(user, key) -> Site:
    """A site where the user may work the desk: 404 out of scope, 403 for a read-only role."""
    site = _find_site(scoped(Site.objects.select_related("library"), user), key)
    if site is None:
        raise Http404
    if not can_work_at_site(user, site):
        raise PermissionDenied
    return site


def _require_circulation(user) -> None:
    """Writes of circulation are for staff who lend (the page hides them from the others)."""
    if not can_circulate(user):
        raise PermissionDenied


def _patron_by_card(user, card, library_code=""):
    """The reader with card `card` in the user's scope (a card number is unique per library;
    `library_code` tells two libraries apart for the platform administrator)."""
    found = scoped(Patron.objects.select_related("library", "home_site"), user).filter(
        card_number=normalise_barcode(card or "")
    )
    if library_code:
        found = found.filter(library__code=library_code)
    found = list(found.order_by("library__code")[:2])
    if len(found) > 1:
        raise ValidationError(
            {"library": [_("多个图书馆有这个读者证号，请写明图书馆代码。")]}, code="ambiguous"
        )
    return found[0] if found else None


def _form_errors(form) -> ValidationError:
    """A page form's errors, field by field, in the API's error shape."""
    detail = {}
    for name, errors in form.errors.get_json_data().items():
        detail["non_field_errors" if name == "__all__" else name] = [
            ErrorDetail(error["message"], code=error["code"] or "invalid") for error in errors
        ]
    return ValidationError(detail)


# Serializers


class PatronSerializer(serializers.ModelSerializer):
    library = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text="Code of the reader's library"
    )
    home_site = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text="Code of the site where the card was issued"
    )
    open_loans = serializers.IntegerField(read_only=True, help_text="Volumes on loan now")

    class Meta:
        model = Patron
        fields = [
            "card_number",
            "name",
            "library",
            "category",
            "home_site",
            "phone",
            "birth_year",
            "registered_at",
            "is_suspended",
            "suspended_reason",
            "open_loans",
        ]


class PatronWriteSerializer(serializers.Serializer):
    """What the reader form takes; the same rules check it."""

    card_number = serializers.CharField(
        max_length=200, help_text="Card number (cleaned like a scan: spaces and full-width off)"
    )
    name = serializers.CharField(max_length=50)
    category = serializers.ChoiceField(choices=Patron.Category.choices)
    home_site = serializers.CharField(
        max_length=70,
        help_text=SITE_HELP + "; a site where the caller lends. Its code alone will do when "
        "only one of the caller's sites has it.",
    )
    phone = serializers.CharField(
        max_length=30, required=False, allow_blank=True, help_text="Optional"
    )
    birth_year = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=9999,
        help_text="Optional; only for the age bands of the reports",
    )


class SuspendSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, help_text="Why (at most 200 characters)")


class ScanSerializer(serializers.Serializer):
    site = serializers.CharField(help_text=SITE_HELP, max_length=70)
    barcode = serializers.CharField(max_length=200, help_text="The volume's barcode")
    card_number = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="The reader's card (checkout only)",
    )


class LoanSerializer(serializers.ModelSerializer):
    barcode = serializers.CharField(source="item.barcode")
    card_number = serializers.CharField(source="patron.card_number")
    site = serializers.CharField(source="site.code")

    class Meta:
        model = Loan
        fields = ["id", "barcode", "card_number", "site", "checked_out_at", "due_at", "renewals"]


class CheckoutSerializer(LoanSerializer):
    already = serializers.BooleanField(help_text="The same scan again: the loan it made before")
    hold = serializers.IntegerField(
        allow_null=True, help_text="The reader's hold this loan filled, if any"
    )

    class Meta(LoanSerializer.Meta):
        fields = [*LoanSerializer.Meta.fields, "already", "hold"]


class ReturnSerializer(serializers.Serializer):
    barcode = serializers.CharField()
    already = serializers.BooleanField(
        help_text="Returned before: the routing is said again, nothing was written"
    )
    action = serializers.ChoiceField(
        choices=[
            "shelve",
            "display",
            "send_home",
            "send_display",
            "hold_shelf",
            "hold_transfer",
        ],
        help_text="Where the volume goes now: back on this shelf, on this site's display, on "
        "the draft transfer home or to its display, on the hold shelf here, or to a "
        "waiting reader's pickup site",
    )
    instruction = serializers.CharField(help_text="What the desk tells the librarian")
    destination = serializers.CharField(
        allow_null=True, help_text="Code of the site it must travel to, if any"
    )
    transfer = serializers.IntegerField(
        allow_null=True, help_text="The draft transfer it was put on, if any"
    )
    hold = serializers.IntegerField(
        allow_null=True, help_text="The hold the volume is kept for, if any"
    )
    returned_at = serializers.DateTimeField()


class HoldSerializer(serializers.ModelSerializer):
    card_number = serializers.CharField(source="patron.card_number", read_only=True)
    reader = serializers.CharField(source="patron.name", read_only=True)
    title = serializers.CharField(source="title.title", read_only=True)
    isbn = serializers.CharField(source="title.isbn", read_only=True)
    pickup_site = serializers.SerializerMethodField(help_text=SITE_HELP)
    item = serializers.SlugRelatedField(
        slug_field="barcode",
        read_only=True,
        allow_null=True,
        help_text="Barcode of the copy kept for the reader (trapped holds)",
    )
    ready = serializers.SerializerMethodField(
        help_text="The kept copy stands at the pickup site, ready to lend"
    )

    class Meta:
        model = Hold
        fields = [
            "id",
            "card_number",
            "reader",
            "title",
            "isbn",
            "pickup_site",
            "status",
            "placed_at",
            "expires_at",
            "item",
            "trapped_at",
            "closed_at",
            "ready",
        ]

    def get_pickup_site(self, hold) -> str:
        return _site_key(hold.pickup_site)

    def get_ready(self, hold) -> bool:
        return hold_ready(hold)


class HoldPlaceSerializer(serializers.Serializer):
    card_number = serializers.CharField(max_length=200, help_text="The reader's card")
    code = serializers.CharField(
        max_length=64, help_text="Barcode of any copy of the title, or its ISBN"
    )
    pickup_site = serializers.CharField(
        max_length=70, help_text=SITE_HELP + "; a site where the caller lends"
    )


class TrapSerializer(ReturnSerializer):
    trapped = serializers.BooleanField(help_text="A waiting reader got this volume")
    hold_detail = HoldSerializer(allow_null=True, help_text="That reader's hold")


# Readers


def _patron_queryset(user):
    return scoped(Patron.objects.select_related("library", "home_site"), user).annotate(
        open_loans=Count("loans", filter=Q(loans__returned_at__isnull=True))
    )


@extend_schema_view(
    list=extend_schema(
        summary="Find readers",
        parameters=[
            OpenApiParameter(
                "q", str, description="Card number (exact or its beginning), name or phone"
            )
        ],
    ),
    retrieve=extend_schema(
        summary="One reader",
        parameters=[
            OpenApiParameter(
                "library", str, description="Library code, when two libraries share the card"
            )
        ],
    ),
)
class PatronViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Readers of the caller's library; lenders and provincial reviewers see none."""

    serializer_class = PatronSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_field = "card_number"
    lookup_value_regex = r"[^/]+"
    filterset_fields = {"category": ["exact"], "is_suspended": ["exact"]}

    def get_queryset(self):
        patrons_found = _patron_queryset(self.request.user)
        query = self.request.query_params.get("q", "") if self.action == "list" else ""
        if query:
            found = selectors.patron_search(self.request.user, query)
            patrons_found = patrons_found.filter(pk__in=found.values("pk"))
        return patrons_found.order_by("card_number", "library__code")

    def get_object(self):
        patron = _patron_by_card(
            self.request.user,
            self.kwargs["card_number"],
            self.request.query_params.get("library", ""),
        )
        if patron is None:
            raise Http404
        return self._fresh(patron)

    def _fresh(self, patron):
        return _patron_queryset(self.request.user).get(pk=patron.pk)

    def _form(self, data, *, sites, patron=None):
        """The reader form over `data`: the home site from its key, everything else as typed."""
        incoming = PatronWriteSerializer(data=data, partial=patron is not None)
        incoming.is_valid(raise_exception=True)
        values = dict(incoming.validated_data)
        if patron is not None:
            current = {name: getattr(patron, name) for name in patrons.EDITABLE}
            current["home_site"] = patron.home_site
            values = current | values
        home = values["home_site"]
        if not isinstance(home, Site):
            home = _find_site(sites, home) or home
        values["home_site"] = home.pk if isinstance(home, Site) else home
        values = {name: "" if value is None else value for name, value in values.items()}
        form = PatronForm(values, instance=patron, sites=sites)
        if not form.is_valid():
            raise _form_errors(form)
        return form

    @extend_schema(
        summary="Register a reader",
        request=PatronWriteSerializer,
        responses={201: PatronSerializer},
    )
    def create(self, request):
        _require_circulation(request.user)
        sites = selectors.desk_sites(request.user).select_related("library")
        if not sites.exists():
            raise PermissionDenied
        form = self._form(request.data, sites=sites)
        data = {name: form.cleaned_data[name] for name in patrons.EDITABLE}
        patron = patrons.patron_register(
            user=request.user, library=data["home_site"].library, **data
        )
        return Response(PatronSerializer(self._fresh(patron)).data, status=201)

    @extend_schema(
        summary="Edit a reader",
        request=PatronWriteSerializer(partial=True),
        responses={200: PatronSerializer},
        parameters=[OpenApiParameter("library", str, description="Library code, if ambiguous")],
    )
    def partial_update(self, request, card_number=None):
        patron = self._editable(request)
        sites = selectors.desk_sites(request.user).filter(library=patron.library)
        form = self._form(request.data, sites=sites.select_related("library"), patron=patron)
        patron = patrons.patron_update(
            user=request.user,
            patron=patron,
            **{name: form.cleaned_data[name] for name in patrons.EDITABLE},
        )
        return Response(PatronSerializer(self._fresh(patron)).data)

    def _editable(self, request):
        _require_circulation(request.user)
        patron = self.get_object()
        if not can_edit_patron(request.user, patron):
            raise PermissionDenied
        return patron

    @extend_schema(
        summary="Suspend a reader's card",
        request=SuspendSerializer,
        responses={200: PatronSerializer},
        parameters=[OpenApiParameter("library", str, description="Library code, if ambiguous")],
    )
    @action(detail=True, methods=["post"])
    def suspend(self, request, card_number=None):
        patron = self._editable(request)
        incoming = SuspendSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        form = SuspendForm({"reason": incoming.validated_data["reason"]})
        if not form.is_valid():
            raise _form_errors(form)
        patron = patrons.patron_suspend(
            user=request.user, patron=patron, reason=form.cleaned_data["reason"]
        )
        return Response(PatronSerializer(self._fresh(patron)).data)

    @extend_schema(
        summary="Reinstate a suspended card",
        request=None,
        responses={200: PatronSerializer},
        parameters=[OpenApiParameter("library", str, description="Library code, if ambiguous")],
    )
    @action(detail=True, methods=["post"])
    def reinstate(self, request, card_number=None):
        patron = self._editable(request)
        patron = patrons.patron_reinstate(user=request.user, patron=patron)
        return Response(PatronSerializer(self._fresh(patron)).data)


# The desk


def _return_body(done) -> dict:
    routing = done.routing
    return {
        "barcode": done.item.barcode,
        "already": done.already,
        "action": routing.action,
        "instruction": str(routing.message),
        "destination": routing.destination.code if routing.destination else None,
        "transfer": routing.transfer.pk if routing.transfer else None,
        "hold": routing.hold.pk if routing.hold is not None else None,
        "returned_at": done.loan.returned_at if done.loan else timezone.now(),
    }


class CirculationViewSet(viewsets.ViewSet):
    """Checkout, return and renewal. Refusals answer 409 with the desk's message."""

    serializer_class = ScanSerializer

    def _input(self, request):
        data = ScanSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return data.validated_data, _desk_site(request.user, data.validated_data["site"])

    @extend_schema(
        summary="Lend a volume",
        request=ScanSerializer,
        responses={
            201: CheckoutSerializer,
            200: CheckoutSerializer,
            404: not_found(
                "The site (`not_found`) or the reader (`patron_not_found`) is not one the "
                "caller can see",
                codes=(),
            ),
        },
        description="201 for a new loan; 200 when the same reader already has this volume "
        "(the same scan again).",
    )
    @action(detail=False, methods=["post"])
    def checkout(self, request):
        data, site = self._input(request)
        patron = (
            scoped(Patron.objects.all(), request.user)
            .filter(
                library=site.library,
                card_number=normalise_barcode(data.get("card_number", "")),
            )
            .first()
        )
        if patron is None:
            raise NotFound(_("找不到这位读者。"), code="patron_not_found")
        done = loans.loan_checkout(
            user=request.user, site=site, patron=patron, barcode=data["barcode"]
        )
        body = LoanSerializer(done.loan).data | {
            "already": done.already,
            "hold": done.hold.pk if done.hold is not None else None,
        }
        return Response(body, status=status.HTTP_200_OK if done.already else 201)

    @extend_schema(
        summary="Take a volume back and say where it goes",
        request=ScanSerializer,
        responses={200: ReturnSerializer, 404: SITE_NOT_FOUND},
    )
    @action(detail=False, methods=["post"], url_path="return")
    def return_(self, request):
        data, site = self._input(request)
        done = loans.loan_return(user=request.user, site=site, barcode=data["barcode"])
        return Response(ReturnSerializer(_return_body(done)).data)

    @extend_schema(
        summary="Renew a loan",
        request=ScanSerializer,
        responses={200: LoanSerializer, 404: SITE_NOT_FOUND},
    )
    @action(detail=False, methods=["post"])
    def renew(self, request):
        data, site = self._input(request)
        loan = loans.loan_renew(user=request.user, site=site, barcode=data["barcode"])
        return Response(LoanSerializer(loan).data)


# Holds


@extend_schema_view(
    list=extend_schema(
        summary="Holds",
        parameters=[
            OpenApiParameter(
                "status", str, enum=Hold.Status.values, description="Only holds in this state"
            ),
            OpenApiParameter("site", str, description="Only holds picked up here: " + SITE_HELP),
            OpenApiParameter("card_number", str, description="Only this reader's holds"),
        ],
    ),
    retrieve=extend_schema(summary="One hold"),
)
class HoldViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Holds of the caller's library: place, cancel, list, and trap a returned volume."""

    serializer_class = HoldSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        found = scoped(
            Hold.objects.select_related(
                "patron", "title", "pickup_site__library", "item", "library"
            ),
            self.request.user,
        )
        if self.action != "list":
            return found
        params = self.request.query_params
        wanted = params.get("status", "")
        if wanted:
            if wanted not in Hold.Status.values:
                raise ValidationError(
                    {"status": [ErrorDetail(_("未知的预约状态。"), code="invalid_choice")]}
                )
            found = found.filter(status=wanted)
        if params.get("site"):
            site = _find_site(scoped(Site.objects.all(), self.request.user), params["site"])
            found = found.filter(pickup_site=site) if site else found.none()
        if params.get("card_number"):
            found = found.filter(patron__card_number=normalise_barcode(params["card_number"]))
        return found.order_by("placed_at", "id")

    @extend_schema(
        summary="Place a hold for a reader",
        request=HoldPlaceSerializer,
        responses={
            201: HoldSerializer,
            404: not_found("The reader is not one the caller can see", codes=("patron_not_found",)),
        },
        description="A free copy on the shelf at the pickup site is kept for the reader at once "
        "(status `trapped`); otherwise the hold waits for the next copy returned.",
    )
    def create(self, request):
        _require_circulation(request.user)
        incoming = HoldPlaceSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        patron = _patron_by_card(request.user, data["card_number"])
        if patron is None:
            raise NotFound(_("找不到这位读者。"), code="patron_not_found")
        sites = selectors.desk_sites(request.user).filter(library=patron.library)
        pickup = _find_site(sites.select_related("library"), data["pickup_site"])
        form = HoldForm(
            {"code": data["code"], "pickup_site": pickup.pk if pickup else data["pickup_site"]},
            sites=sites,
        )
        if not form.is_valid():
            raise _form_errors(form)
        title = holds.hold_title(library=patron.library, code=form.cleaned_data["code"])
        hold = holds.hold_place(
            user=request.user,
            patron=patron,
            title=title,
            pickup_site=form.cleaned_data["pickup_site"],
        )
        return Response(HoldSerializer(self.get_queryset().get(pk=hold.pk)).data, status=201)

    @extend_schema(summary="Cancel a hold", request=None, responses={200: HoldSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        _require_circulation(request.user)
        hold = get_scoped_or_404(
            Hold.objects.select_related("library", "patron"), request.user, pk=pk
        )
        if not can_cancel_hold(request.user, hold):
            raise PermissionDenied
        holds.hold_cancel(user=request.user, hold=hold)
        return Response(HoldSerializer(self.get_queryset().get(pk=hold.pk)).data)

    @extend_schema(
        summary="Trap a returned volume for a waiting reader",
        request=ScanSerializer,
        responses={200: TrapSerializer, 404: SITE_NOT_FOUND},
        description="The desk's return scan: a volume on loan is returned at `site`, and the "
        "first reader waiting for its title gets it — on the hold shelf here, or on a "
        "transfer to their pickup site. A volume already back here says again what was "
        "decided for it. `trapped` is false when nobody waits; the volume then goes where "
        "`action` says.",
    )
    @action(detail=False, methods=["post"])
    def trap(self, request):
        _require_circulation(request.user)
        incoming = ScanSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        site = _desk_site(request.user, incoming.validated_data["site"])
        done = loans.loan_return(
            user=request.user, site=site, barcode=incoming.validated_data["barcode"]
        )
        body = dict(ReturnSerializer(_return_body(done)).data)
        hold = done.routing.hold
        body["trapped"] = hold is not None
        body["hold_detail"] = (
            HoldSerializer(self.get_queryset().get(pk=hold.pk)).data if hold else None
        )
        return Response(body)


def register(router):
    router.register("patrons", PatronViewSet, basename="patron")
    router.register("holds", HoldViewSet, basename="hold")
    router.register("circulation", CirculationViewSet, basename="circulation")
