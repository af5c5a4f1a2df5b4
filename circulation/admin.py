from django.contrib import admin

from circulation.models import ClosedDay, Hold, Loan, LoanRule, Patron
from collections_app.admin import ScopedAdminMixin, ScopedHistoryAdmin


@admin.register(Patron)
class PatronAdmin(ScopedHistoryAdmin):
    list_display = ["card_number", "name", "category", "home_site", "is_suspended", "library"]
    list_filter = ["library", "category", "is_suspended"]
    search_fields = ["card_number", "name", "phone"]
    list_select_related = ["home_site", "library"]


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


@admin.register(Loan)
class LoanAdmin(ScopedHistoryAdmin):
    list_display = ["item", "patron", "site", "checked_out_at", "due_at", "returned_at", "renewals"]
    list_filter = ["library", "site"]
    search_fields = ["item__barcode", "patron__card_number", "patron__name"]
    date_hierarchy = "checked_out_at"
    list_select_related = ["item", "patron", "site"]
    raw_id_fields = ["item", "patron", "display"]


@admin.register(Hold)
class HoldAdmin(ScopedHistoryAdmin):
    list_display = ["patron", "title", "pickup_site", "status", "placed_at", "expires_at", "item"]
    list_filter = ["library", "status"]
    search_fields = ["patron__card_number", "patron__name", "title__title", "item__barcode"]
    list_select_related = ["patron", "title", "pickup_site", "item"]
    raw_id_fields = ["patron", "title", "item"]


@admin.register(ClosedDay)
class ClosedDayAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["date", "site", "library", "reason"]
    list_filter = ["library"]
    date_hierarchy = "date"
