"""Real processes on one PostgreSQL database: a db_worker runs the queued jobs and takes back the
job of a worker killed in the middle of it; two gunicorn servers behave as one — a manifest
uploaded and previewed through one is committed through the other."""

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import date
from pathlib import Path

import pytest
from django.conf import global_settings
from django.db import connection

from collections_app.models import Consignment, Item
from collections_app.services.receiving import consignment_import
from collections_app.tests.manifest_files import csv_bytes, rows
from jobs.models import Job
from jobs.services import job_start

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
DATABASE_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture(autouse=True)
def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: the worker and the servers are other processes on the test database"
        )


def _environment(**extra) -> dict:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "sharedloan.settings",
        "SHAREDLOAN_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def _manage(*args, env=None, **popen):
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env or _environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        **popen,
    )


def _run(*args, env=None, timeout=120) -> str:
    process = _manage(*args, env=env)
    out, _err = process.communicate(timeout=timeout)
    assert process.returncode == 0, out.decode()
    return out.decode()


def _wait_for(condition, timeout=60.0, every=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


@pytest.fixture
def announced(nlc, suixian, sui_central):
    return Consignment.objects.create(
        library=suixian, lender=nlc, reference="NLC-2024-SX", agreement_date=date(2024, 3, 1)
    )


def test_a_db_worker_runs_the_queued_job(settings, sui_librarian):
    settings.TASKS = DATABASE_BACKEND
    job = job_start(kind=Job.Kind.HOLD_EXPIRY, user=sui_librarian)
    assert job.status == Job.Status.QUEUED
    _run("db_worker", "--batch", "--no-reload", "--no-startup-delay")
    job.refresh_from_db()
    assert (job.status, job.percent, job.attempts) == ("succeeded", 100, 1)


def test_a_job_whose_worker_was_killed_is_taken_back_by_the_next_worker(
    settings, sui_librarian, announced
):
    settings.TASKS = DATABASE_BACKEND
    # Enough labels that the worker is still at them when it is killed (4,000 were all laid out
    # between two looks on a quiet machine), and the looks come often.
    consignment_import(user=sui_librarian, consignment=announced, data=csv_bytes(rows(12000)))
    job = job_start(
        kind=Job.Kind.LABELS,
        user=sui_librarian,
        library=announced.library,
        params={
            "consignment": announced.pk,
            "layout": {"columns": 3, "rows": 8, "kind": "both", "skip": 0},
        },
    )
    env = _environment(SHAREDLOAN_JOB_STALE_SECONDS="2")
    worker = _manage("db_worker", "--no-reload", "--no-startup-delay", env=env)
    try:
        assert _wait_for(lambda: Job.objects.filter(pk=job.pk, done__gt=0).exists(), every=0.05)
        os.kill(worker.pid, signal.SIGKILL)  # no chance to record anything
    finally:
        worker.wait(timeout=30)
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and job.done < job.total
    time.sleep(2.5)
    assert "重新排队 1 个任务" in _run("recover_jobs", env=env)
    _run("db_worker", "--batch", "--no-reload", "--no-startup-delay", env=env)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.done, job.total) == ("succeeded", 2, 12000, 12000)
    assert bytes(job.output.data).startswith(b"%PDF")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    """One librarian's browser: a cookie jar, following no redirects."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), self._NoRedirect
        )

    def open(self, url, data=None, headers=None):
        request = urllib.request.Request(url, data=data, headers=headers or {})
        try:
            response = self.opener.open(request, timeout=30)
        except urllib.error.HTTPError as error:
            response = error
        return response.status, response.headers, response.read().decode()

    def csrf(self) -> str:
        return next(cookie.value for cookie in self.jar if cookie.name == "csrftoken")

    def post(self, url, fields, referer, files=None):
        boundary = "----sharedloan-test-boundary"
        parts = []
        for name, value in {"csrfmiddlewaretoken": self.csrf(), **fields}.items():
            parts.append(
                f"--{boundary}\r\nContent-Disposition: form-data; "
                f'name="{name}"\r\n\r\n{value}\r\n'.encode()
            )
        for name, (filename, content) in (files or {}).items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
                + content
                + b"\r\n"
            )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Referer": referer}
        return self.open(url, body, headers)


def test_two_web_servers_on_one_database_behave_as_one(
    settings, sui_librarian, announced, tmp_path
):
    # The servers check passwords with the production hashers, not the tests' fast one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    sui_librarian.set_password("correct-horse-battery")
    sui_librarian.save(update_fields=["password"])
    ports = [_free_port(), _free_port()]
    env = _environment(SHAREDLOAN_JOB_STALE_SECONDS="60")
    servers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "sharedloan.wsgi",
                "--workers",
                "1",
                "--bind",
                f"127.0.0.1:{port}",
                "--chdir",
                str(ROOT),
            ],
            cwd=tmp_path,  # a server's working folder holds nothing the other needs
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    worker = _manage("db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.2", env=env)
    one, other = (f"http://127.0.0.1:{port}" for port in ports)
    try:
        for base in (one, other):
            assert _wait_for(lambda base=base: _answers(base), timeout=60)
        browser = Browser()
        login = f"{one}/accounts/login/"
        browser.open(login)
        status, headers, _page = browser.post(
            login, {"username": "suixian", "password": "correct-horse-battery"}, login
        )
        assert status == 302, "login failed"

        importing = f"/collections/consignments/{announced.pk}/import/"
        status, headers, _page = browser.post(
            one + importing,
            {"encoding": "", "holdings": ""},
            one + importing,
            files={"file": ("manifest.csv", csv_bytes(rows(120)))},
        )
        assert status == 302
        preview = urllib.parse.urlsplit(headers["Location"])
        job_id = urllib.parse.parse_qs(preview.query)["preview"][0]
        assert _wait_for(lambda: Job.objects.get(pk=job_id).is_finished)

        # The preview page and the commit, through the other server.
        status, _headers, page = browser.open(f"{other}{preview.path}?{preview.query}")
        assert status == 200 and "120" in page
        token = re.search(r'name="token" value="([0-9a-f-]+)"', page).group(1)
        status, headers, _page = browser.post(
            f"{other}{importing}commit/", {"token": token}, other + importing
        )
        assert status == 302
        assert _wait_for(
            lambda: Job.objects.filter(kind=Job.Kind.MANIFEST_COMMIT, status="succeeded").exists()
        )
        assert Item.objects.filter(consignment=announced).count() == 120
        assert not list(tmp_path.iterdir())
    finally:
        for process in (*servers, worker):
            process.terminate()
        for process in (*servers, worker):
            process.wait(timeout=30)


def _answers(base) -> bool:
    try:
        urllib.request.urlopen(f"{base}/accounts/login/", timeout=2)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False
    return True
