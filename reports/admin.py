from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin_scope import ScopedAdminMixin
from reports.models import PeriodReport, PeriodReportEvent


class PeriodReportEventInline(admin.TabularInline):
    model = PeriodReportEvent
    extra = 0
    can_delete = False
    readonly_fields = ["action", "user", "at", "comment"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PeriodReport)
class PeriodReportAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    """Reports are prepared and reviewed in the pages; here a superuser can read them and fix a
    narrative, never the frozen figures of a submitted report."""

    list_display = ["library", "consignment", "kind", "period", "status"]
    list_filter = ["status", "kind", "library"]
    search_fields = ["period", "library__name", "consignment__reference", "narrative"]
    readonly_fields = ["figures"]
    inlines = [PeriodReportEventInline]
