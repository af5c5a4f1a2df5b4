"""Jobs: progress, results and refusals recorded; a run whose worker died is picked up again or
failed with its reason; the nightly commands queue the same work as jobs."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import FormSubmission, IdempotentRequest
from jobs.models import Job, StoredFile
from jobs.services import Progress, job_start, jobs_cleanup, jobs_recover, run_job, store_file


def test_a_finished_job_shows_its_count_percentage_and_message(db):
    job = job_start(kind=Job.Kind.HOLD_EXPIRY)
    assert (job.status, job.percent, job.attempts) == ("succeeded", 100, 1)
    assert "个预约过期" in job.result["message"]
    assert job.as_json()["finished"] is True


def test_a_refusal_fails_the_job_with_its_reason(db, sui_consignment, sui_librarian):
    job = job_start(
        kind=Job.Kind.MANIFEST_PREVIEW,
        user=sui_librarian,
        input=store_file(data=b"not a manifest", name="x.csv"),
        params={"consignment": sui_consignment.pk + 999},
    )
    assert job.status == "failed"
    assert job.error  # the reason, never a traceback
    assert "Traceback" not in job.error


def _silent_run(job, *, minutes=10):
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.RUNNING,
        attempts=1,
        heartbeat_at=timezone.now() - timedelta(minutes=minutes),
        finished_at=None,
    )


def test_a_job_whose_worker_died_is_run_again(db, django_capture_on_commit_callbacks):
    job = Job.objects.create(kind=Job.Kind.HOLD_EXPIRY)
    _silent_run(job)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_recover() == {"requeued": 1, "failed": 0}
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("succeeded", 2)


def test_a_job_that_keeps_losing_its_worker_fails_with_the_reason(db, settings):
    job = Job.objects.create(kind=Job.Kind.HOLD_EXPIRY)
    _silent_run(job)
    Job.objects.filter(pk=job.pk).update(attempts=settings.JOB_MAX_ATTEMPTS)
    assert jobs_recover() == {"requeued": 0, "failed": 1}
    job.refresh_from_db()
    assert job.status == "failed" and "后台工作进程停止" in job.error


def test_a_running_job_with_a_fresh_heartbeat_is_left_alone(db):
    job = Job.objects.create(kind=Job.Kind.HOLD_EXPIRY)
    _silent_run(job, minutes=0)
    assert jobs_recover() == {"requeued": 0, "failed": 0}
    assert run_job.call(str(job.pk)) == "skipped"


def test_a_run_given_up_for_dead_stops_at_its_next_progress_report(db):
    from jobs.services import JobSuperseded, _claim

    job = Job.objects.create(kind=Job.Kind.HOLD_EXPIRY)
    _job, token = _claim(job.pk)
    Job.objects.filter(pk=job.pk).update(run_token=None)  # handed to another run
    with pytest.raises(JobSuperseded):
        Progress(job.pk, token).start(10)


def test_cleanup_deletes_expired_staged_files_and_old_jobs(db):
    old = store_file(data=b"x", name="old.csv", keep=timedelta(seconds=-1))
    fresh = store_file(data=b"y", name="fresh.csv")
    finished = Job.objects.create(
        kind=Job.Kind.CLEANUP, status="succeeded", finished_at=timezone.now() - timedelta(days=90)
    )
    counts = jobs_cleanup()
    assert counts["files"] == 1 and counts["jobs"] == 1
    assert list(StoredFile.objects.all()) == [fresh]
    assert not Job.objects.filter(pk=finished.pk).exists() and old.pk


def test_cleanup_forgets_old_once_only_keys_of_the_api_and_the_forms(db, sui_librarian):
    now = timezone.now()
    for age in (timedelta(days=8), timedelta(hours=1)):
        form = FormSubmission.objects.create(user=sui_librarian, key=f"f{age}", form="transfer")
        FormSubmission.objects.filter(pk=form.pk).update(created_at=now - age)
    for age in (timedelta(hours=25), timedelta(hours=1)):
        IdempotentRequest.objects.create(
            user=sui_librarian,
            key=f"k{age}",
            fingerprint="x",
            status_code=201,
            body=b"{}",
            created_at=now - age,
        )
    assert jobs_cleanup(now=now)["keys"] == 2
    assert FormSubmission.objects.count() == IdempotentRequest.objects.count() == 1


@pytest.mark.parametrize(
    ("command", "args", "kind"),
    [
        ("expire_holds", ["--enqueue"], Job.Kind.HOLD_EXPIRY),
        ("refresh_report_tables", ["--enqueue"], Job.Kind.REPORT_REFRESH),
        ("run_rotation", ["--execute", "--enqueue"], Job.Kind.ROTATION_RUN),
        ("cleanup_jobs", ["--enqueue"], Job.Kind.CLEANUP),
    ],
)
def test_each_nightly_command_can_queue_its_work_as_a_job(db, command, args, kind, capsys):
    call_command(command, *args)
    job = Job.objects.get(kind=kind)
    assert job.status == "succeeded", job.error
    assert str(job.pk) in capsys.readouterr().out


def test_the_commands_still_run_in_the_foreground_for_cron(db, capsys):
    call_command("expire_holds")
    call_command("recover_jobs")
    assert not Job.objects.exists()


def test_a_period_report_pdf_is_laid_out_by_a_job_and_handed_over(
    client_for, sui_librarian, sui_consignment
):
    from reports.periods import parse_period
    from reports.services import period_report_prepare

    report = period_report_prepare(
        user=sui_librarian,
        library=sui_consignment.library,
        consignment=sui_consignment,
        period=parse_period("2026-05"),
    )
    response = client_for(sui_librarian).get(f"/reports/period/{report.pk}/download.pdf")
    job = Job.objects.get(kind=Job.Kind.PERIOD_REPORT_PDF)
    assert (job.status, job.percent, job.params["report"]) == ("succeeded", 100, report.pk)
    assert response["Content-Type"] == "application/pdf"
    assert response.content == bytes(job.output.data) and response.content.startswith(b"%PDF")
