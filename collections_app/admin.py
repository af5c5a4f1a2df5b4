from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin_scope import ScopedAdminMixin
from collections_app.models import (
    AwaitingBarcodes,
    Box,
    ClcClass,
    Consignment,
    ConsignmentImport,
    Display,
    Item,
    ItemEvent,
    Library,
    ReceiptEntry,
    RotationMember,
    RotationPlan,
    RotationStop,
    Site,
    Title,
    Transfer,
    TransferLine,
)


class ScopedHistoryAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    """Superusers fix data here; every edit is kept in the model's history (历史记录)."""


@admin.register(Library)
class LibraryAdmin(ScopedHistoryAdmin):
    list_display = ["code", "name", "kind", "province", "region"]
    list_filter = ["kind", "province"]
    search_fields = ["code", "name", "region"]


@admin.register(Site)
class SiteAdmin(ScopedHistoryAdmin):
    list_display = ["code", "name", "library", "kind", "parent", "capacity", "is_active"]
    list_filter = ["library", "kind", "is_active"]
    search_fields = ["code", "name", "address", "contact"]
    list_select_related = ["library", "parent"]


@admin.register(Display)
class DisplayAdmin(ScopedHistoryAdmin):
    list_display = ["name", "site", "kind", "starts_on", "ends_on"]
    list_filter = ["library", "kind"]
    search_fields = ["name", "site__name"]
    list_select_related = ["site"]


@admin.register(Consignment)
class ConsignmentAdmin(ScopedHistoryAdmin):
    list_display = [
        "reference",
        "library",
        "lender",
        "agreement_date",
        "term_ends_on",
        "expected_count",
        "status",
    ]
    list_filter = ["status", "lender", "library"]
    search_fields = ["reference", "library__name"]
    date_hierarchy = "agreement_date"
    list_select_related = ["library", "lender"]


@admin.register(ClcClass)
class ClcClassAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name_zh", "name_en"]


@admin.register(Title)
class TitleAdmin(ScopedHistoryAdmin):
    list_display = ["title", "isbn", "responsibility", "publisher", "year", "clc", "library"]
    list_filter = ["library", "clc_top"]
    search_fields = ["title", "isbn", "responsibility", "publisher", "clc"]
    list_select_related = ["library"]


@admin.register(Item)
class ItemAdmin(ScopedHistoryAdmin):
    list_display = ["barcode", "title", "status", "current_site", "home_site", "consignment"]
    list_filter = ["status", "library", "consignment", "current_site"]
    search_fields = ["barcode", "title__title", "title__isbn", "call_number"]
    list_select_related = ["title", "current_site", "home_site", "consignment"]
    raw_id_fields = ["title", "display"]


class TransferLineInline(admin.TabularInline):
    model = TransferLine
    raw_id_fields = ["item"]
    extra = 0


@admin.register(Transfer)
class TransferAdmin(ScopedHistoryAdmin):
    list_display = [
        "id",
        "source",
        "destination",
        "reason",
        "status",
        "created_at",
        "dispatched_at",
    ]
    list_filter = ["status", "reason", "library"]
    search_fields = ["id", "note", "lines__item__barcode"]
    date_hierarchy = "created_at"
    list_select_related = ["source", "destination"]
    inlines = [TransferLineInline]


@admin.register(TransferLine)
class TransferLineAdmin(ScopedHistoryAdmin):
    list_display = ["transfer", "item", "state", "is_open"]
    list_filter = ["state", "is_open", "library"]
    search_fields = ["item__barcode"]
    raw_id_fields = ["transfer", "item"]


@admin.register(ItemEvent)
class ItemEventAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Item history is append-only: readable here, never edited or deleted."""

    list_display = [
        "at",
        "item",
        "kind",
        "from_status",
        "to_status",
        "from_site",
        "to_site",
        "user",
    ]
    list_filter = ["kind", "library"]
    search_fields = ["item__barcode", "note"]
    date_hierarchy = "at"
    list_select_related = ["item", "from_site", "to_site", "user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Box)
class BoxAdmin(ScopedHistoryAdmin):
    list_display = ["code", "name", "library", "is_active"]
    list_filter = ["library", "is_active"]
    search_fields = ["code", "name"]


class RotationStopInline(admin.TabularInline):
    model = RotationStop
    extra = 0


@admin.register(RotationPlan)
class RotationPlanAdmin(ScopedHistoryAdmin):
    list_display = ["name", "library", "is_cyclical", "is_active", "demand_loans"]
    list_filter = ["library", "is_active"]
    search_fields = ["name"]
    inlines = [RotationStopInline]


@admin.register(RotationMember)
class RotationMemberAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["plan", "item", "box", "stop", "arrived_at", "extended", "is_finished"]
    list_filter = ["plan", "is_finished"]
    search_fields = ["item__barcode", "box__code"]
    raw_id_fields = ["item", "box"]


class ReadOnlyRecordAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Records of what happened (imports, scans): readable, never edited here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ConsignmentImport)
class ConsignmentImportAdmin(ReadOnlyRecordAdmin):
    list_display = [
        "consignment",
        "filename",
        "file_format",
        "item_count",
        "created_by",
        "created_at",
    ]
    list_filter = ["file_format", "library"]
    search_fields = ["filename", "sha256", "consignment__reference"]
    date_hierarchy = "created_at"


@admin.register(AwaitingBarcodes)
class AwaitingBarcodesAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["title", "consignment", "copies"]
    list_filter = ["library", "consignment"]
    search_fields = ["title__title", "title__isbn"]
    raw_id_fields = ["title"]


@admin.register(ReceiptEntry)
class ReceiptEntryAdmin(ReadOnlyRecordAdmin):
    list_display = ["at", "consignment", "barcode", "outcome", "user"]
    list_filter = ["outcome", "library", "consignment"]
    search_fields = ["barcode"]
    date_hierarchy = "at"
