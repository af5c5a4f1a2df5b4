"""Starting, running and recovering background jobs.

A job is a row in `Job` (what the pages poll) plus one django-tasks task, `run_job`, queued on
the database backend and run by `manage.py db_worker`. There is no broker: PostgreSQL (SQLite
for the demo) holds both.

What a worker restart does: `db_worker` stops on SIGTERM after the job in hand (a second signal
stops it mid-job and records the job failed). A worker killed outright (SIGKILL, power cut)
leaves its task claimed for ever — django-tasks does not take a dead worker's task back. So
every run reports progress with a heartbeat, and `jobs_recover()` re-queues a job whose
heartbeat is older than JOB_STALE_SECONDS, up to JOB_MAX_ATTEMPTS runs, then marks it failed
with the reason. The status page calls it when it sees a stale job, the worker unit calls it at
start (`manage.py recover_jobs`), and so does the nightly cleanup. Every job is written to be
run again: its work is all or nothing (a manifest commit is one transaction) or idempotent (a
PDF, a report refresh, hold expiry, a rotation run that plans nothing new)."""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django_tasks import task

from accounts.submissions import form_submissions_cleanup
from collections_app.errors import Refused
from jobs.models import Job, StoredFile
from sharedloan.idempotency import idempotent_requests_cleanup

logger = logging.getLogger(__name__)

# What runs each kind: a function `(job, progress) -> dict` whose dict becomes `job.result`
# (its "message" is shown to the user, its "url" is where the page sends them next).
RUNNERS = {
    Job.Kind.MANIFEST_PREVIEW: "collections_app.jobs.manifest_preview",
    Job.Kind.MANIFEST_COMMIT: "collections_app.jobs.manifest_commit",
    Job.Kind.LABELS: "collections_app.jobs.labels",
    Job.Kind.ROTATION_RUN: "collections_app.jobs.rotation_run",
    Job.Kind.HOLD_EXPIRY: "circulation.jobs.hold_expiry",
    Job.Kind.REPORT_REFRESH: "reports.jobs.report_refresh",
    Job.Kind.PERIOD_REPORT_PDF: "reports.jobs.period_report_pdf",
    Job.Kind.CLEANUP: "jobs.services.cleanup",
}


class JobSuperseded(Exception):
    """This run was given up for dead and the job handed to another run."""


def store_file(
    *,
    data: bytes,
    name: str,
    content_type: str = "application/octet-stream",
    library=None,
    user=None,
    keep: timedelta | None = None,
) -> StoredFile:
    keep = keep or timedelta(seconds=settings.JOB_FILE_KEEP_SECONDS)
    return StoredFile.objects.create(
        data=data,
        name=name[:255],
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        library=library,
        created_by=user if user is not None and user.is_authenticated else None,
        expires_at=timezone.now() + keep,
    )


def stored_file_spend(*, stored: StoredFile) -> bool:
    """Claim a staged upload for its one commit: True for the first caller, False after."""
    claimed = StoredFile.objects.filter(
        pk=stored.pk, spent_at__isnull=True, expires_at__gt=timezone.now()
    ).update(spent_at=timezone.now())
    return claimed == 1


def job_start(
    *,
    kind: str,
    user=None,
    library=None,
    params: dict | None = None,
    input: StoredFile | None = None,
) -> Job:
    """Create the job and queue its run. With the immediate backend (the tests) the job has run
    when this returns."""
    job = Job.objects.create(
        kind=kind,
        library=library,
        created_by=user if user is not None and user.is_authenticated else None,
        params=params or {},
        input=input,
    )
    _enqueue(job)
    job.refresh_from_db()
    return job


def _enqueue(job: Job) -> None:
    queued = run_job.enqueue(str(job.pk))
    # The immediate backend has already run the job, which saved its own fields.
    Job.objects.filter(pk=job.pk).update(task_id=str(queued.id))


@dataclass
class Progress:
    """Counts and heartbeat of one run, written at most every `every` seconds (and at the end)."""

    job_id: uuid.UUID
    token: uuid.UUID
    every: float = 0.5
    total: int = 0
    done: int = 0
    step: str = ""
    _written: float = 0.0

    def start(self, total: int, step: str = "") -> None:
        self.total, self.done = max(0, total), 0
        self.step = step or self.step
        self.save(force=True)

    def advance(self, count: int = 1, step: str | None = None) -> None:
        self.set(self.done + count, step)

    def set(self, done: int, step: str | None = None) -> None:
        self.done = min(done, self.total) if self.total else 0
        if step is not None:
            self.step = step
        self.save()

    def save(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._written < self.every:
            return
        self._written = now
        updated = Job.objects.filter(pk=self.job_id, run_token=self.token).update(
            total=self.total, done=self.done, step=self.step[:200], heartbeat_at=timezone.now()
        )
        if not updated:
            raise JobSuperseded


def _claim(job_id) -> tuple[Job, uuid.UUID] | None:
    """Take the job for this run: a queued job, or a running one whose run went silent."""
    token = uuid.uuid4()
    now = timezone.now()
    stale = now - timedelta(seconds=settings.JOB_STALE_SECONDS)
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return None
        silent = job.status == Job.Status.RUNNING and (job.heartbeat_at or now) < stale
        if job.status != Job.Status.QUEUED and not silent:
            return None
        job.status, job.run_token = Job.Status.RUNNING, token
        job.attempts += 1
        job.started_at = job.heartbeat_at = now
        job.save(update_fields=["status", "run_token", "attempts", "started_at", "heartbeat_at"])
    return job, token


def _finish(job: Job, token, **fields) -> None:
    fields.setdefault("finished_at", timezone.now())
    Job.objects.filter(pk=job.pk, run_token=token).update(**fields)


@task()
def run_job(job_id: str) -> str:
    """The one django-tasks task: run the job's kind, recording its result or why it failed."""
    claimed = _claim(job_id)
    if claimed is None:
        return "skipped"
    job, token = claimed
    progress = Progress(job.pk, token)
    try:
        result = import_string(RUNNERS[job.kind])(job, progress)
    except JobSuperseded:
        return "superseded"
    except Refused as refused:
        problems = [str(problem) for problem in refused.problems[:50]]
        _finish(
            job,
            token,
            status=Job.Status.FAILED,
            error=str(refused.message),
            result={"problems": problems, "code": refused.code, **job.result},
        )
        return "refused"
    except Exception:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        _finish(
            job,
            token,
            status=Job.Status.FAILED,
            error=_("处理时出错（任务编号 %(id)s），请联系系统管理员。") % {"id": job.pk},
        )
        raise
    total = progress.total or 1
    _finish(
        job,
        token,
        status=Job.Status.SUCCEEDED,
        result=result or {},
        total=total,
        done=total,
        heartbeat_at=timezone.now(),
    )
    return "succeeded"


def job_attach_output(job: Job, *, data: bytes, name: str, content_type: str) -> StoredFile:
    stored = store_file(
        data=data, name=name, content_type=content_type, library=job.library, user=job.created_by
    )
    Job.objects.filter(pk=job.pk).update(output=stored)
    return stored


def jobs_recover(*, now=None) -> dict:
    """Re-queue the jobs whose run went silent (its worker died), or fail them after
    JOB_MAX_ATTEMPTS runs. Safe to call from any process at any time."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.JOB_STALE_SECONDS)
    requeued = failed = 0
    silent = Job.objects.filter(status=Job.Status.RUNNING, heartbeat_at__lt=stale)
    for job_id in silent.values_list("pk", flat=True):
        with transaction.atomic():
            job = Job.objects.select_for_update().filter(pk=job_id).first()
            if job is None or job.status != Job.Status.RUNNING or job.heartbeat_at >= stale:
                continue
            _give_up_task(job.task_id)
            if job.attempts >= settings.JOB_MAX_ATTEMPTS:
                job.status, job.finished_at, job.run_token = Job.Status.FAILED, now, None
                job.error = _("处理中断了 %(n)s 次（后台工作进程停止），未能完成，请重新提交。") % {
                    "n": job.attempts
                }
                job.save(update_fields=["status", "finished_at", "run_token", "error"])
                failed += 1
                continue
            job.status, job.run_token = Job.Status.QUEUED, None
            job.step = _("后台工作进程中断，已重新排队。")
            job.save(update_fields=["status", "run_token", "step"])
            transaction.on_commit(lambda job=job: _enqueue(job))
            requeued += 1
    return {"requeued": requeued, "failed": failed}


def _give_up_task(task_id: str) -> None:
    """Mark the dead run's django-tasks row failed too, so the admin does not show it running."""
    if not task_id:
        return
    try:
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # another backend: nothing of ours to mark
        return
    from django_tasks.base import TaskResultStatus

    DBTaskResult.objects.filter(id=task_id, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.FAILED,
        finished_at=timezone.now(),
        exception_class_path="jobs.services.JobSuperseded",
        traceback="The worker running this task stopped; the job was re-queued.",
    )


def cleanup(job: Job, progress: Progress) -> dict:
    """Delete expired staged files and outputs, finished jobs older than JOB_KEEP_DAYS, and the
    API's and forms' old once-only keys."""
    counts = jobs_cleanup()
    return {
        "message": _(
            "删除过期文件 %(files)s 个、旧任务 %(jobs)s 个、过期的一次性提交记录 %(keys)s 个；"
            "重新排队 %(requeued)s 个中断的任务。"
        )
        % counts
    }


def jobs_cleanup(*, now=None) -> dict:
    now = now or timezone.now()
    recovered = jobs_recover(now=now)
    old = now - timedelta(days=settings.JOB_KEEP_DAYS)
    jobs, _detail = Job.objects.filter(
        status__in=[Job.Status.SUCCEEDED, Job.Status.FAILED], finished_at__lt=old
    ).delete()
    files, _detail = StoredFile.objects.filter(expires_at__lt=now).delete()
    try:
        from django_tasks_db.models import DBTaskResult
    except ImportError:
        pass
    else:
        DBTaskResult.objects.finished().filter(finished_at__lt=old).delete()
    keys = idempotent_requests_cleanup(now=now) + form_submissions_cleanup(now=now)
    return {"files": files, "jobs": jobs, "keys": keys, **recovered}
