"""Readers, loan rules, loans and holds in the admin. Loans and holds are written by the
circulation services alone; a superuser returns a loan or cancels a hold with an action that
calls the same service as the desk."""

from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from circulation.models import ClosedDay, Hold, Loan, LoanRule, Patron
from circulation.services.holds import hold_cancel
from circulation.services.loans import loan_return
from collections_app.admin import ScopedAdminMixin, ScopedHistoryAdmin, ViewOnlyMixin, run_each
from collections_app.errors import Refused
from collections_app.models import Item


@admin.register(Patron)
class PatronAdmin(ScopedHistoryAdmin):
    list_display = ["card_number", "name", "category", "home_site", "is_suspended", "library"]
    list_filter = ["library", "category", "is_suspended"]
    search_fields = ["card_number", "name", "phone"]
    list_select_related = ["home_site", "library"]
    # patron_suspend / patron_reinstate, in the readers' pages; the reader's own choice of a
    # reading history, in their account.
    service_fields = ("is_suspended", "suspended_reason", "keeps_reading_history")
    # Only a hash, set by patron_set_pin (the reader page and the desk): nothing to read here.
    exclude = ["pin"]


@admin.register(LoanRule)
class LoanRuleAdmin(ScopedHistoryAdmin):
    list_display = [
        "library",
        "category",
        "site_kind",
        "loan_days",
        "max_items",
        "max_renewals",
        "holds_allowed",
    ]
    list_filter = ["library", "category", "site_kind"]


def _return(user, loan: Loan) -> None:
    with transaction.atomic():
        # The item lock guards its open loan (as in loan_return): re-check under it that this
        # loan is still the open one, so the return cannot close a later loan of the same book.
        Item.objects.select_for_update().filter(pk=loan.item_id).first()
        loan = Loan.objects.select_related("item", "site").get(pk=loan.pk)
        if not loan.is_open:
            raise Refused(_("这笔借阅已经归还。"))
        loan_return(user=user, site=loan.site, barcode=loan.item.barcode)


@admin.action(description=gettext_lazy("在借出站点办理归还"))
def return_loans(modeladmin, request, queryset):
    run_each(
        modeladmin,
        request,
        queryset.select_related("item", "site"),
        lambda loan: _return(request.user, loan),
        _("已归还 %(count)s 笔借阅。"),
    )


@admin.register(Loan)
class LoanAdmin(ViewOnlyMixin, ScopedHistoryAdmin):
    """Checkout, renewal and return write loans (circulation.services.loans): readable here."""

    list_display = ["item", "patron", "site", "checked_out_at", "due_at", "returned_at", "renewals"]
    list_filter = ["library", "site"]
    search_fields = ["item__barcode", "patron__card_number", "patron__name"]
    date_hierarchy = "checked_out_at"
    list_select_related = ["item", "patron", "site"]
    actions = [return_loans]


@admin.action(description=gettext_lazy("取消预约"))
def cancel_holds(modeladmin, request, queryset):
    run_each(
        modeladmin,
        request,
        queryset,
        lambda hold: hold_cancel(user=request.user, hold=hold),
        _("已取消 %(count)s 条预约。"),
    )


@admin.register(Hold)
class HoldAdmin(ScopedHistoryAdmin):
    list_display = ["patron", "title", "pickup_site", "status", "placed_at", "expires_at", "item"]
    list_filter = ["library", "status"]
    search_fields = ["patron__card_number", "patron__name", "title__title", "item__barcode"]
    list_select_related = ["patron", "title", "pickup_site", "item"]
    # waiting → trapped → fulfilled, cancelled or expired: circulation.services.holds. Only how
    # long a hold stays valid is a fix made here.
    service_fields = (
        "patron",
        "title",
        "pickup_site",
        "status",
        "placed_at",
        "item",
        "trapped_at",
        "closed_at",
    )
    actions = [cancel_holds]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ClosedDay)
class ClosedDayAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["date", "site", "library", "reason"]
    list_filter = ["library"]
    date_hierarchy = "date"
