import json

import django_tasks_db.admin  # noqa: F401  (registers DBTaskResult, which is removed below)
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django_tasks_db.models import DBTaskResult

from jobs.models import Job

# The queue's own rows (arguments, tracebacks, worker ids) are the worker's bookkeeping, in
# English only; an administrator follows background work through 后台任务 (Job) below, which
# names the job, its library, its progress and its error in the user's language.
admin.site.unregister(DBTaskResult)

# What the job's page shows from its result; anything else a runner returns is for programs.
SHOWN_RESULT = ("message", "url", "problems")


def _as_code(values: dict) -> str | None:
    """Values a program reads (a consignment's id, the barcodes of a label run), as the program
    got them: code, not interface text."""
    if not values:
        return None
    text = json.dumps(values, ensure_ascii=False, sort_keys=True, default=str)
    if len(text) > 500:
        text = text[:500] + "…"
    return format_html("<code>{}</code>", text)


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Read-only: a job is started by the page or the command that needs it. Its result reads as
    its own page says it (the message, a link onward, the problems found), not as stored JSON.
    A value a job does not have reads as the admin's empty mark: Django shows a method's None
    as the word "None"."""

    list_display = ["kind", "status", "library", "done", "total", "created_at", "finished_at"]
    list_filter = ["kind", "status"]
    fields = [
        "kind",
        "status",
        "library",
        "created_by",
        "progress",
        "step",
        "result_message",
        "result_link",
        "result_problems",
        "error",
        "input",
        "output",
        "arguments",
        "other_results",
        "attempts",
        "task_id",
        "created_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("进度"))
    def progress(self, job):
        return _("%(done)s / %(total)s（%(percent)s%%）") % {
            "done": job.done,
            "total": job.total,
            "percent": job.percent,
        }

    @admin.display(description=_("结果"))
    def result_message(self, job):
        return job.result.get("message") or self.get_empty_value_display()

    @admin.display(description=_("结果页面"))
    def result_link(self, job):
        url = job.result.get("url")
        if not url or not str(url).startswith("/"):
            return self.get_empty_value_display()
        return format_html('<a href="{}">{}</a>', url, _("打开"))

    @admin.display(description=_("发现的问题"))
    def result_problems(self, job):
        problems = job.result.get("problems") or []
        if not problems:
            return self.get_empty_value_display()
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((p,) for p in problems))
        )

    @admin.display(description=_("参数"))
    def arguments(self, job):
        return _as_code(job.params) or self.get_empty_value_display()

    @admin.display(description=_("其他结果（供程序读取）"))
    def other_results(self, job):
        rest = {k: v for k, v in job.result.items() if k not in SHOWN_RESULT}
        return _as_code(rest) or self.get_empty_value_display()
