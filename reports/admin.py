from django.contrib import admin

from collections_app.admin import ScopedHistoryAdmin
from reports.models import PeriodReport, PeriodReportEvent


class PeriodReportEventInline(admin.TabularInline):
    model = PeriodReportEvent
    extra = 0
    can_delete = False
    readonly_fields = ["action", "user", "at", "comment"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PeriodReport)
class PeriodReportAdmin(ScopedHistoryAdmin):
    """Reports are prepared and reviewed in the pages; here a superuser can read them and fix a
    narrative, never the frozen figures of a submitted report."""

    list_display = ["library", "consignment", "kind", "period", "status"]
    list_filter = ["status", "kind", "library"]
    search_fields = ["period", "library__name", "consignment__reference", "narrative"]
    # Prepared, submitted and reviewed through reports.services; the period and its figures
    # are what the province reviewed.
    service_fields = (
        "consignment",
        "kind",
        "period",
        "starts_on",
        "ends_on",
        "status",
        "figures",
        "created_by",
        "created_at",
        "submitted_by",
        "submitted_at",
        "reviewed_by",
        "reviewed_at",
        "review_comment",
    )
    inlines = [PeriodReportEventInline]

    def has_add_permission(self, request):
        return False
