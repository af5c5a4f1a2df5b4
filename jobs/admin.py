import django_tasks_db.admin  # noqa: F401  (registers DBTaskResult, which is removed below)
from django.contrib import admin
from django_tasks_db.models import DBTaskResult

from jobs.models import Job

# The queue's own rows (arguments, tracebacks, worker ids) are the worker's bookkeeping, in
# English only; an administrator follows background work through 后台任务 (Job) below, which
# names the job, its library, its progress and its error in the user's language.
admin.site.unregister(DBTaskResult)


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["kind", "status", "library", "done", "total", "created_at", "finished_at"]
    list_filter = ["kind", "status"]
    readonly_fields = [field.name for field in Job._meta.fields]

    def has_add_permission(self, request):
        return False
