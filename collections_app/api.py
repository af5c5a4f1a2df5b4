"""REST API, read side, over the same scope as the pages: /api/v1/libraries, sites, items…

Libraries are addressed by code, sites by `LIBRARY.site` (e.g. `SUIXIAN.xiaolin`), items by
barcode. Writes arrive with the workflows that need them, over the same services as the pages.
"""

from django.http import Http404
from rest_framework import serializers, viewsets

from accounts.scope import scoped
from collections_app.barcodes import normalise_barcode
from collections_app.models import (
    Consignment,
    Item,
    ItemEvent,
    Library,
    Site,
    Transfer,
    TransferLine,
)


class ScopedReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    def get_queryset(self):
        return scoped(super().get_queryset(), self.request.user)


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
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)
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
        ]


class ConsignmentViewSet(ScopedReadOnlyViewSet):
    queryset = Consignment.objects.select_related("library", "lender")
    serializer_class = ConsignmentSerializer
    filterset_fields = {"library__code": ["exact"], "status": ["exact"]}


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


class TransferViewSet(ScopedReadOnlyViewSet):
    queryset = Transfer.objects.select_related("library", "source", "destination").prefetch_related(
        "lines__item"
    )
    serializer_class = TransferSerializer
    filterset_fields = {"status": ["exact"], "reason": ["exact"], "library__code": ["exact"]}


def register(router):
    router.register("libraries", LibraryViewSet)
    router.register("sites", SiteViewSet)
    router.register("consignments", ConsignmentViewSet)
    router.register("items", ItemViewSet)
    router.register("item-events", ItemEventViewSet, basename="itemevent")
    router.register("transfers", TransferViewSet)
