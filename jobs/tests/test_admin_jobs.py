"""A background job's page in the admin reads as the job's own page does: its message, a link
to where it leads, the problems it found, each under a label in the page's language; never the
stored JSON or Django's "Id"."""

import pytest

from jobs.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def labels_job(suixian, sui_librarian):
    return Job.objects.create(
        kind=Job.Kind.LABELS,
        status=Job.Status.SUCCEEDED,
        library=suixian,
        created_by=sui_librarian,
        params={"consignment": 7, "status": ""},
        total=60,
        done=60,
        result={
            "message": "已生成 60 册图书的标签。",
            "url": "/collections/consignments/7/labels/",
        },
    )


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        ("zh-hans", ["任务", "结果", "结果页面", "进度", "参数"]),
        ("en", ["Job", "Result", "Result page", "Progress", "Parameters"]),
    ],
)
def test_a_jobs_admin_page_shows_its_result_readably_in_the_pages_language(
    client_for, superuser, labels_job, language, labels
):
    client = client_for(superuser)
    client.cookies["django_language"] = language
    html = client.get(f"/admin/jobs/job/{labels_job.pk}/change/").content.decode()
    for label in labels:
        assert f">{label}:</label>" in html or f">{label}：</label>" in html, label
    assert "已生成 60 册图书的标签。" in html
    assert 'href="/collections/consignments/7/labels/"' in html
    assert "60 / 60" in html and ("（100%）" if language == "zh-hans" else " (100%)") in html
    assert "&quot;message&quot;" not in html and '"message"' not in html
    assert ">Id:</label>" not in html and labels_job.run_token is None


def test_a_failed_jobs_problems_are_listed(client_for, superuser, labels_job):
    labels_job.status = Job.Status.FAILED
    labels_job.error = "清单有错误"
    labels_job.result = {"problems": ["第 3 行：条码重复", "第 9 行：缺少题名"]}
    labels_job.save()
    html = client_for(superuser).get(f"/admin/jobs/job/{labels_job.pk}/change/").content.decode()
    assert "<li>第 3 行：条码重复</li><li>第 9 行：缺少题名</li>" in html
    assert "清单有错误" in html


def test_what_a_job_does_not_have_reads_as_the_empty_mark_not_none(client_for, superuser, suixian):
    # A job with no message, link, problems, arguments or other results: Django shows a
    # method's None as the word "None", which the Chinese page must not show.
    job = Job.objects.create(kind=Job.Kind.CLEANUP, status=Job.Status.SUCCEEDED, result={})
    html = client_for(superuser).get(f"/admin/jobs/job/{job.pk}/change/").content.decode()
    text = html.split('id="content"', 1)[1]
    assert "None" not in text
