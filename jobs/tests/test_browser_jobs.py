"""A job's page in a real browser: static/js/jobs.js follows the count and percentage while a
worker runs the job, and shows the result when it ends, under the strict CSP."""

import pytest

from jobs.models import Job
from jobs.services import Progress, _claim, _finish
from sharedloan.tests.browser_steps import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_job_page_follows_the_progress_and_shows_the_result(browser_page, sui_librarian):
    page = browser_page
    job = Job.objects.create(kind=Job.Kind.LABELS, created_by=sui_librarian)
    url = f"/jobs/{job.pk}/"
    sign_in(page, "suixian", url)
    assert "排队中" in page.inner_text(".job-progress")

    # A worker takes the job and reports 250 of 1,000 volumes drawn.
    _job, token = _claim(job.pk)
    progress = Progress(job.pk, token)
    progress.start(1000, "绘制标签……")
    progress.set(250)
    progress.save(force=True)
    page.wait_for_selector("[data-job-field=percent] >> text=25")
    assert page.inner_text("[data-job-field=done]") == "250"
    assert page.eval_on_selector("[data-job-bar]", "bar => bar.value") == 25

    # It ends: the page reloads and shows the result.
    _finish(
        job,
        token,
        status=Job.Status.SUCCEEDED,
        result={"message": "已生成 1000 册图书的标签。"},
        done=1000,
    )
    page.wait_for_selector("text=已生成 1000 册图书的标签。")
    assert "已完成" in page.inner_text(".job-progress")
