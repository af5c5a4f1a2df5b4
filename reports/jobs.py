"""Background jobs of the reports: refreshing the summary tables, as
`refresh_report_tables` does, and the PDF of a period report."""

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from collections_app.exports import pdf_bytes
from jobs.models import Job
from jobs.services import job_attach_output, job_start
from reports.facts import reach_text, refresh_report_tables


def report_refresh(job, progress) -> dict:
    """The nightly refresh, or with `today` in the params the hourly one during the day."""
    progress.start(1, _("刷新统计汇总表……"))
    through = timezone.now() if (job.params or {}).get("today") else None
    counts = refresh_report_tables(until=timezone.localdate(), since=None, through=through)
    return {
        "message": _("汇总表已刷新，汇总截至 %(reach)s。")
        % {"reach": reach_text(counts["summarised_through"])},
        "loan_days": counts["loan_days"],
    }


def period_report_pdf(job, progress) -> dict:
    """The period report's PDF, in the language of the page that asked for it."""
    from reports.models import PeriodReport
    from reports.views import _detail_context, _report_stem

    report = PeriodReport.objects.select_related("library", "consignment").get(
        pk=job.params["report"]
    )
    with translation.override(job.params.get("language") or settings.LANGUAGE_CODE):
        progress.start(2, _("统计报表数据……"))
        context = _detail_context(None, report)
        progress.set(1, _("排版 PDF……"))
        pdf = pdf_bytes("reports/period_pdf.html", context)
        job_attach_output(
            job, data=pdf, name=f"{_report_stem(report)}.pdf", content_type="application/pdf"
        )
        return {
            "message": _("报表 PDF 已生成。"),
            "url": reverse("reports:period-detail", args=[report.pk]),
        }


def period_report_pdf_job(*, report, user, language: str) -> Job:
    """The job laying out `report`'s PDF for `user` in `language`, for the page's download and
    the API alike: the caller's job for the same report, language and state when one is queued,
    running or done (its file still kept), else a new one. A layout costs the worker seconds,
    and a client that polls the bare address must not start one per request. The state is what
    the PDF shows of the report's review; a report still being edited (draft, returned) changes
    under its PDF, so each download lays it out afresh."""
    params = {"report": report.pk, "language": language, "state": _pdf_state(report)}
    with transaction.atomic():
        if not report.is_editable:
            # Two requests at the same moment (a double click, two polls of the bare address)
            # take turns on the report's row: the second finds the first's job instead of
            # starting one.
            type(report).objects.select_for_update().get(pk=report.pk)
            earlier = (
                Job.objects.filter(
                    kind=Job.Kind.PERIOD_REPORT_PDF,
                    created_by=user,
                    params__report=report.pk,
                    params__language=language,
                    params__state=params["state"],
                )
                .filter(
                    Q(status__in=(Job.Status.QUEUED, Job.Status.RUNNING))
                    | Q(status=Job.Status.SUCCEEDED, output__expires_at__gt=timezone.now())
                )
                .order_by("-created_at")
                .first()
            )
            if earlier is not None:
                return earlier
        return job_start(
            kind=Job.Kind.PERIOD_REPORT_PDF, user=user, library=report.library, params=params
        )


def _pdf_state(report) -> str:
    moments = (report.submitted_at, report.reviewed_at)
    return " ".join([report.status, *(m.isoformat() if m else "-" for m in moments)])
