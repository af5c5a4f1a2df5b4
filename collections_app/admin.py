"""The admin: where the platform administrator fixes data.

Two rules hold here as everywhere. A field that a service owns (an item's status and place, a
transfer's status, a line's open flag, a loan's return, a hold's state, a consignment's status)
is read-only: the fixes a superuser needs are actions that call the services, so each leaves
its item history and meets the same refusals as the pages. And every edit is kept in the
model's history (历史记录) with its "before", even for rows an import or a bulk write created
without one: the first fix of a wrong title reads "A → B".
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import DeletedObject
from simple_history.template_utils import HistoricalRecordContextHelper
from simple_history.utils import get_history_manager_for_model

from accounts.admin_scope import ScopedAdminMixin
from collections_app.errors import Refused
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
from collections_app.services.holdings import holdings_reclassify
from collections_app.services.stock import item_mark
from collections_app.services.transfers import transfer_cancel
from collections_app.title_keys import title_search_keys

admin.site.site_header = gettext_lazy("共享借阅管理")
admin.site.site_title = gettext_lazy("共享借阅管理")


# History ----------------------------------------------------------------------------------


def _tracks_history(model) -> bool:
    return hasattr(model._meta, "simple_history_manager_attribute")


def history_baseline(row) -> bool:
    """Record `row` as it stands in the database when its history does not already end there.

    Imports, bulk writes and the services' set-based updates write no history record, so the
    first admin fix of such a row would have nothing to compare with. Called with the row locked
    just before the fix is saved, this costs one indexed query per admin edit and nothing on the
    bulk paths. Writing history on the bulk paths instead (simple_history's
    bulk_create_with_history) took 2.6–3.1 times as long as the plain bulk insert of 30,000
    titles on PostgreSQL, and would not cover the services' UPDATEs. Returns whether a record
    was written."""
    manager = get_history_manager_for_model(type(row))
    latest = manager.filter(**{row._meta.pk.attname: row.pk}).first()
    tracked = manager.model.tracked_fields
    if latest is not None and all(
        getattr(latest, field.attname) == getattr(row, field.attname) for field in tracked
    ):
        return False
    row._history_user = None  # nobody in this request wrote these values
    manager.bulk_history_create(
        [row],
        update=latest is not None,
        # Stored as written here; the history page shows it in the reader's language.
        default_change_reason=gettext_noop("修改前的记录"),
    )
    return True


class ChangeDisplay(HistoricalRecordContextHelper):
    """Changes shown as the pages show values: a status by its name, yes or no, a dash for
    nothing (never "None" or a stored code). django-simple-history stands in a DeletedObject for
    a foreign key it cannot follow, also when the key was empty: that is nothing too."""

    def prepare_delta_change_value(self, change, value):
        field = self.model._meta.get_field(change.field)
        if isinstance(value, DeletedObject):
            if value.pk is None:
                return "—"
            return _("已删除的%(model)s（编号 %(pk)s）") % {
                "model": value.model._meta.verbose_name,
                "pk": value.pk,
            }
        if value is None or value == "":
            return "—"
        if field.choices:
            return dict(field.flatchoices).get(value, value)
        if isinstance(value, bool):
            return _("是") if value else _("否")
        return super().prepare_delta_change_value(change, value)


class ViewOnlyMixin:
    """Rows the services alone write (history, transfer lines, loans): readable in the admin,
    never added, edited or deleted there; the fixes a superuser needs are actions."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ScopedHistoryAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    """Superusers fix data here; every edit is kept in the model's history (历史记录).

    `service_fields` are owned by services: shown, never edited (nor reverted) here. A row's
    library never changes once it exists: everything hanging on it would cross tenants."""

    service_fields: tuple[str, ...] = ()
    object_history_list_template = "admin/history_changes.html"

    def get_historical_record_context_helper(self, request, historical_record):
        return ChangeDisplay(self.model, historical_record)

    def get_readonly_fields(self, request, obj=None):
        fields = [*super().get_readonly_fields(request, obj), *self.service_fields]
        tenant_owned = any(field.name == "library" for field in self.model._meta.fields)
        if obj is not None and tenant_owned and "library" not in fields:
            fields.append("library")
        return fields

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        with transaction.atomic():
            current = self.model._default_manager.select_for_update().get(pk=obj.pk)
            if _tracks_history(self.model):
                history_baseline(current)
            # What the form does not edit keeps its value in the database, read under the lock:
            # a service may have changed it since the page was opened, and a revert to an old
            # version must not bring back an old status or place.
            for field in self.model._meta.concrete_fields:
                if not field.primary_key and field.name not in form.fields:
                    setattr(obj, field.attname, getattr(current, field.attname))
            super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        model = formset.model
        changed = [
            inline.instance.pk
            for inline in formset.initial_forms
            if inline.instance.pk is not None and inline.has_changed()
        ]
        if changed and _tracks_history(model):
            with transaction.atomic():
                rows = model._default_manager.select_for_update().filter(pk__in=changed)
                for row in rows.order_by("pk"):
                    history_baseline(row)
        super().save_formset(request, form, formset, change)


# Actions ----------------------------------------------------------------------------------


def refusal_text(refused: Refused) -> str:
    text = str(refused.message)
    if refused.problems:
        text += " " + "；".join(str(problem) for problem in refused.problems)
    return text


def run_each(modeladmin, request, objects, service, done_message) -> None:
    """Call `service(obj)` for each object, each in its own transaction; say how many went
    through and why each refused one did not."""
    done = 0
    for obj in sorted(objects, key=lambda obj: obj.pk):
        try:
            service(obj)
        except Refused as refused:
            modeladmin.message_user(request, f"{obj}：{refusal_text(refused)}", messages.ERROR)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, done_message % {"count": done}, messages.SUCCESS)


# Places and consignments ------------------------------------------------------------------


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

    def get_readonly_fields(self, request, obj=None):
        # Its volumes stand at its site: moving the display would strand them.
        fields = super().get_readonly_fields(request, obj)
        return [*fields, "site"] if obj is not None else fields

    def get_fields(self, request, obj=None):
        # A new display's library is its site's: chosen apart, the two could disagree.
        fields = super().get_fields(request, obj)
        return [field for field in fields if field != "library"] if obj is None else fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj.library = obj.site.library
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        # Deleting would take its volumes off it without their history: end it in the pages.
        return False


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
    # announced → receiving → active: the receiving services move it; the lender owns the items.
    service_fields = ("lender", "status", "signed_off_by", "signed_off_at")

    def has_add_permission(self, request):
        # Announced in the receiving pages (consignment_announce), with their checks.
        return False


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
    readonly_fields = ["title_pinyin", "title_initials"]

    def save_model(self, request, obj, form, change):
        # A corrected title is searched by its new pinyin in the public catalogue.
        for field, value in title_search_keys(obj.title).items():
            setattr(obj, field, value)
        with transaction.atomic():
            if change and "clc_top" in form.changed_data:
                # Its volumes now count under the new class in the holdings summary.
                holdings_reclassify(title=obj, clc_top=obj.clc_top)
            super().save_model(request, obj, form, change)


# Items ------------------------------------------------------------------------------------


class ItemActionForm(helpers.ActionForm):
    note = forms.CharField(label=gettext_lazy("说明"), required=False, max_length=200)


def _mark(status: str, description, done):
    @admin.action(description=description)
    def action(modeladmin, request, queryset):
        try:
            count = item_mark(
                user=request.user,
                items=list(queryset),
                status=status,
                note=request.POST.get("note", ""),
            )
        except Refused as refused:
            modeladmin.message_user(request, refusal_text(refused), messages.ERROR)
        else:
            modeladmin.message_user(request, done % {"count": count}, messages.SUCCESS)

    action.__name__ = f"mark_{status}"
    return action


@admin.register(Item)
class ItemAdmin(ScopedHistoryAdmin):
    list_display = ["barcode", "title", "status", "current_site", "home_site", "consignment"]
    list_filter = ["status", "library", "consignment", "current_site"]
    search_fields = ["barcode", "title__title", "title__isbn", "call_number"]
    list_select_related = ["title", "current_site", "home_site", "consignment"]
    raw_id_fields = ["title"]
    # Status and place change through collections_app.services.items.item_transition, which
    # writes the item history; where a volume came from (owner, consignment) never changes.
    service_fields = (
        "status",
        "status_changed_at",
        "current_site",
        "display",
        "box",
        "last_loan_at",
        "owner",
        "consignment",
    )
    action_form = ItemActionForm
    actions = [
        _mark(
            Item.Status.MISSING,
            gettext_lazy("标记为丢失"),
            gettext_lazy("已将 %(count)s 册图书标记为丢失。"),
        ),
        _mark(
            Item.Status.DAMAGED,
            gettext_lazy("标记为损坏"),
            gettext_lazy("已将 %(count)s 册图书标记为损坏。"),
        ),
        _mark(
            Item.Status.WITHDRAWN,
            gettext_lazy("标记为剔除"),
            gettext_lazy("已将 %(count)s 册图书标记为剔除。"),
        ),
        _mark(
            Item.Status.AVAILABLE,
            gettext_lazy("找回：恢复在架"),
            gettext_lazy("已将 %(count)s 册图书恢复为在架。"),
        ),
    ]

    def has_add_permission(self, request):
        # Volumes arrive through a consignment's manifest, with their history from the start.
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ItemEvent)
class ItemEventAdmin(ViewOnlyMixin, ScopedAdminMixin, admin.ModelAdmin):
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


# Transfers --------------------------------------------------------------------------------


class TransferLineInline(admin.TabularInline):
    model = TransferLine
    fields = ["item", "state", "is_open"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.action(description=gettext_lazy("取消调拨单（在途图书回到发出站点）"))
def cancel_transfers(modeladmin, request, queryset):
    run_each(
        modeladmin,
        request,
        queryset,
        lambda transfer: transfer_cancel(user=request.user, transfer=transfer),
        _("已取消 %(count)s 张调拨单。"),
    )


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
    # draft → dispatched → received or cancelled, only through collections_app.services.transfers.
    service_fields = (
        "source",
        "destination",
        "reason",
        "status",
        "created_by",
        "created_at",
        "dispatched_at",
        "received_at",
        "cancelled_at",
    )
    actions = [cancel_transfers]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TransferLine)
class TransferLineAdmin(ViewOnlyMixin, ScopedHistoryAdmin):
    """Lines are written by the transfer services alone (their open flag backs the "one open
    transfer per item" index): readable here."""

    list_display = ["transfer", "item", "state", "is_open"]
    list_filter = ["state", "is_open", "library"]
    search_fields = ["item__barcode"]
    service_fields = ("transfer", "item", "state", "is_open")


# Boxes and rotation -----------------------------------------------------------------------


@admin.register(Box)
class BoxAdmin(ScopedHistoryAdmin):
    list_display = ["code", "name", "library", "is_active"]
    list_filter = ["library", "is_active"]
    search_fields = ["code", "name"]

    def has_delete_permission(self, request, obj=None):
        # Deleting would unpack its volumes without their history: unpack it in the pages.
        return False


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
    """Members join through rotation_add and move on with the rotation runs: readable here, and
    a superuser may take one off a plan (delete)."""

    list_display = ["plan", "item", "box", "stop", "arrived_at", "extended", "is_finished"]
    list_filter = ["plan", "is_finished"]
    search_fields = ["item__barcode", "box__code"]
    readonly_fields = ["plan", "item", "box", "stop", "arrived_at", "extended", "is_finished"]

    def has_add_permission(self, request):
        return False


# Records ----------------------------------------------------------------------------------


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


class AwaitingBarcodesForm(forms.ModelForm):
    class Meta:
        model = AwaitingBarcodes
        fields = ["consignment", "title", "copies"]

    def clean(self):
        data = super().clean()
        consignment, title = data.get("consignment"), data.get("title")
        if consignment and title and title.library_id != consignment.library_id:
            self.add_error("title", _("这条书目属于另一家图书馆，不在这个批次所在的馆。"))
        return data


@admin.register(AwaitingBarcodes)
class AwaitingBarcodesAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The copies' library is their consignment's: chosen apart, the two could disagree."""

    form = AwaitingBarcodesForm
    list_display = ["title", "consignment", "copies"]
    list_filter = ["library", "consignment"]
    search_fields = ["title__title", "title__isbn"]
    raw_id_fields = ["title"]

    def save_model(self, request, obj, form, change):
        obj.library = obj.consignment.library
        super().save_model(request, obj, form, change)


@admin.register(ReceiptEntry)
class ReceiptEntryAdmin(ReadOnlyRecordAdmin):
    list_display = ["at", "consignment", "barcode", "outcome", "user"]
    list_filter = ["outcome", "library", "consignment"]
    search_fields = ["barcode"]
    date_hierarchy = "at"
