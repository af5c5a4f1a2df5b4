"""REST API of circulation over the same services as the desk: /api/v1/patrons, and
/api/v1/circulation/checkout, /return, /renew. Readers are addressed by card number within the
caller's library; lenders and provincial reviewers see none (readers' data stays local)."""

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from accounts.scope import can_work_at_site, scoped
from circulation.models import Loan, Patron
from circulation.services import loans
from collections_app.barcodes import normalise_barcode
from collections_app.models import Site


class PatronSerializer(serializers.ModelSerializer):
    library = serializers.SlugRelatedField(slug_field="code", read_only=True)
    home_site = serializers.SlugRelatedField(slug_field="code", read_only=True)
    open_loans = serializers.IntegerField(read_only=True)

    class Meta:
        model = Patron
        fields = [
            "card_number",
            "name",
            "library",
            "category",
            "home_site",
            "birth_year",
            "is_suspended",
            "open_loans",
        ]


class PatronViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PatronSerializer
    lookup_field = "card_number"
    lookup_value_regex = r"[^/]+"
    filterset_fields = {"category": ["exact"], "is_suspended": ["exact"]}

    def get_queryset(self):
        from django.db.models import Count, Q

        return scoped(
            Patron.objects.select_related("library", "home_site"), self.request.user
        ).annotate(open_loans=Count("loans", filter=Q(loans__returned_at__isnull=True)))


class ScanSerializer(serializers.Serializer):
    site = serializers.CharField(help_text="LIBRARY.site, e.g. SUIXIAN.xiaolin", max_length=70)
    barcode = serializers.CharField(max_length=200)
    card_number = serializers.CharField(max_length=200, required=False, allow_blank=True)


class LoanSerializer(serializers.ModelSerializer):
    barcode = serializers.CharField(source="item.barcode")
    card_number = serializers.CharField(source="patron.card_number")
    site = serializers.CharField(source="site.code")

    class Meta:
        model = Loan
        fields = ["id", "barcode", "card_number", "site", "checked_out_at", "due_at", "renewals"]


class CirculationViewSet(viewsets.ViewSet):
    """Checkout, return and renewal. Refusals answer 409 with the desk's message."""

    serializer_class = ScanSerializer

    def _site(self, key):
        library_code, _, site_code = key.partition(".")
        site = (
            scoped(Site.objects.select_related("library"), self.request.user)
            .filter(library__code=library_code, code=site_code)
            .first()
        )
        if site is None:
            raise Http404
        if not can_work_at_site(self.request.user, site):
            raise PermissionDenied
        return site

    def _input(self, request):
        data = ScanSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return data.validated_data, self._site(data.validated_data["site"])

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
            raise NotFound(_("找不到这位读者。"))
        done = loans.loan_checkout(
            user=request.user, site=site, patron=patron, barcode=data["barcode"]
        )
        body = LoanSerializer(done.loan).data | {"already": done.already}
        return Response(body, status=status.HTTP_200_OK if done.already else 201)

    @action(detail=False, methods=["post"], url_path="return")
    def return_(self, request):
        data, site = self._input(request)
        done = loans.loan_return(user=request.user, site=site, barcode=data["barcode"])
        routing = done.routing
        return Response(
            {
                "barcode": done.item.barcode,
                "already": done.already,
                "action": routing.action,
                "instruction": str(routing.message),
                "destination": routing.destination.code if routing.destination else None,
                "transfer": routing.transfer.pk if routing.transfer else None,
                "returned_at": done.loan.returned_at if done.loan else timezone.now(),
            }
        )

    @action(detail=False, methods=["post"])
    def renew(self, request):
        data, site = self._input(request)
        loan = loans.loan_renew(user=request.user, site=site, barcode=data["barcode"])
        return Response(LoanSerializer(loan).data)


def register(router):
    router.register("patrons", PatronViewSet, basename="patron")
    router.register("circulation", CirculationViewSet, basename="circulation")
