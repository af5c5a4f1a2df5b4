"""Background jobs of the reports: refreshing the summary tables, as
`refresh_report_tables` does."""

from django.utils import timezone
from django.utils.translation import gettext as _

from reports.facts import refresh_report_tables


def report_refresh(job, progress) -> dict:
    progress.start(1, _("刷新统计汇总表……"))
    counts = refresh_report_tables(until=timezone.localdate(), since=None)
    return {
        "message": _("汇总表已刷新，汇总截至 %(reach)s。") % {"reach": counts["summarised_until"]},
        "loan_days": counts["loan_days"],
    }

