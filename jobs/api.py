"""REST API of background jobs: /api/v1/jobs/<id>/, the status a client polls after an upload
answered 202 (a manifest check or import). A job is seen only by the account that started it,
as on its page; anyone else gets 404."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.reverse import reverse

from jobs.models import Job
from jobs.views import get_job_for_user

UUID = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"


class JobStatusSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The job's id, as in its status URL.")
    kind = serializers.ChoiceField(choices=Job.Kind.choices, help_text="What the job does.")
    kind_label = serializers.CharField(help_text="The kind in the caller's language.")
    status = serializers.ChoiceField(
        choices=Job.Status.choices,
        help_text="queued → running → succeeded or failed. Poll until `finished` is true.",
    )
    status_label = serializers.CharField(help_text="The status in the caller's language.")
    finished = serializers.BooleanField(help_text="True once the job succeeded or failed.")
    done = serializers.IntegerField(help_text="Steps done so far (rows, records, labels).")
    total = serializers.IntegerField(help_text="Steps in all; 0 while not yet known.")
    percent = serializers.IntegerField(help_text="Progress, 0 to 100.")
    step = serializers.CharField(help_text="What the job is doing now, for people.")
    message = serializers.CharField(help_text="The outcome in one sentence, once finished.")
    error = serializers.CharField(help_text="Why the job failed; empty unless it failed.")
    code = serializers.CharField(
        help_text="Why the job failed, as a stable code: the refusal's own (a manifest import: "
        "`import_invalid`, `consignment_not_importable`, `import_conflict`, …, as in the "
        "`Error` schema), or `job_failed` when it broke; empty unless it failed."
    )
    problems = serializers.ListField(
        child=serializers.CharField(),
        help_text="When a job was refused: each refused row or record with its reason (at "
        "most 50), e.g. a manifest commit that found errors.",
    )
    result = serializers.DictField(
        help_text="What the job produced once it succeeded. A manifest check gives the same "
        "preview as the web import: `summary`, `has_errors`, `already_imported`, `committable`, "
        "`manifest` (format, encoding, title/item/awaiting counts, `errors` and `warnings` "
        "each with `where`, `field`, `value`, `message`, a sample of titles) and `by_clc`; a "
        "manifest import gives `message` and `items` (volumes written)."
    )
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    url = serializers.URLField(help_text="This status URL.")


def job_status(job: Job, request) -> dict:
    """The job as a client polls it, with the address to poll."""
    result = dict(job.result or {})
    failed = job.status == Job.Status.FAILED
    problems = result.pop("problems", []) if failed else []
    code = result.pop("code", "job_failed") if failed else ""
    return job.as_json() | {
        "code": code,
        "problems": problems,
        "result": result if job.status == Job.Status.SUCCEEDED else {},
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "url": reverse("job-detail", args=[job.pk], request=request),
    }


class JobViewSet(viewsets.ViewSet):
    """The status of a background job the caller started."""

    lookup_value_regex = UUID
    serializer_class = JobStatusSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("pk", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Job id.")
        ],
        responses=JobStatusSerializer,
    )
    def retrieve(self, request, pk=None):
        job = get_job_for_user(request, pk)
        return Response(JobStatusSerializer(job_status(job, request)).data)


def register(router):
    router.register("jobs", JobViewSet, basename="job")
