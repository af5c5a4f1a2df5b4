"""A job's page, its JSON for the page's script, and its output file.

A job is seen only by whoever started it (404 for anyone else, as for anything out of scope);
jobs the scheduler starts have no page, the admin lists them."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.http import content_disposition_header

from jobs.models import Job, StoredFile
from jobs.services import jobs_recover


def get_job_for_user(request, pk) -> Job:
    # The output's bytes (a PDF of several MB) only for the download, not for every poll.
    job = get_object_or_404(Job.objects.select_related("output").defer("output__data"), pk=pk)
    if job.created_by_id != request.user.pk:
        raise Http404
    return _recovered(job)


def _recovered(job: Job) -> Job:
    """A job whose run went silent is handed to another worker when someone is watching."""
    stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS)
    if job.status == Job.Status.RUNNING and job.heartbeat_at and job.heartbeat_at < stale:
        jobs_recover()
        job.refresh_from_db()
    return job


@login_required
def job_detail(request, pk):
    job = get_job_for_user(request, pk)
    return render(request, "jobs/job_detail.html", {"job": job})


@login_required
def job_status(request, pk):
    job = get_job_for_user(request, pk)
    return JsonResponse(job.as_json())


@login_required
def job_download(request, pk):
    job = get_job_for_user(request, pk)
    stored = job.output
    if job.status != Job.Status.SUCCEEDED or stored is None:
        raise Http404
    data = StoredFile.objects.filter(pk=stored.pk).values_list("data", flat=True).get()
    response = HttpResponse(bytes(data), content_type=stored.content_type)
    response["Content-Disposition"] = content_disposition_header(True, stored.name)
    return response
