"""Every malformed file of the corpus (collections_app/tests/malformed.py), on every upload
path: the consignment import page, `manage.py import_consignment`, and the readers import.
Each answers with a clear Chinese message naming the problem, never a 500, writes nothing,
and takes less than 10 s and 300 MB."""

import html
import re
import resource
import time
from datetime import date
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from circulation.models import Patron
from collections_app.models import Consignment, Item, Title
from collections_app.tests.malformed import corpus

CASES = corpus()
SECONDS = 10
MEGABYTES = 300
# Words a message may hold: names of formats and programs, and parts of a file quoted to it.
ALLOWED_WORDS = {
    "xlsx", "csv", "marc", "marcxml", "iso", "utf", "gbk", "excel", "wps", "doctype", "xml",
    "isbn", "png", "jpeg", "gif", "tiff", "pdf", "gzip", "bzip", "rar", "zip", "word", "docx",
    "pptx", "powerpoint", "opendocument", "libreoffice", "webp", "sqlite", "heic", "rtf", "cnmarc",
    "windows", "mp3", "mp4", "wav", "ods", "marc21", "gb18030", "gb2312",
}  # fmt: skip


def assert_clear(message: str) -> None:
    """A message a Chinese librarian would write: Chinese, no parser or Python text, no English
    word but the names of formats, no ASCII colon (quoted file content aside)."""
    text = re.sub(r"“[^”]*”", "", str(message))
    assert re.search(r"[\u4e00-\u9fff]", text), message
    for banned in ("Traceback", "<unknown>", "Error", "Exception", "None", "确保该变量", "*"):
        assert banned not in text, message
    words = {word.lower() for word in re.findall(r"[A-Za-z][A-Za-z0-9]{2,}", text)}
    assert words <= ALLOWED_WORDS, message
    assert ":" not in text, message


def counts():
    return (
        Title.objects.count(),
        Item.objects.count(),
        Consignment.objects.count(),
        Patron.objects.count(),
    )


class Bounded:
    """Time and the growth of the process's peak memory (ru_maxrss, in kB on Linux)."""

    def __enter__(self):
        self.started = time.monotonic()
        self.rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return self

    def __exit__(self, *exc):
        elapsed = time.monotonic() - self.started
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - self.rss) / 1024
        assert elapsed < SECONDS, f"{elapsed:.1f} s"
        assert grown < MEGABYTES, f"{grown:.0f} MB"


@pytest.fixture
def announced(nlc, suixian, sui_central):
    return Consignment.objects.create(
        library=suixian, lender=nlc, reference="NLC-2026-SX", agreement_date=date(2026, 3, 1)
    )


@pytest.fixture
def with_settings(settings):
    def apply(case):
        for name, value in case.settings.items():
            setattr(settings, name, value)

    return apply


def _get(thing, name):
    return thing[name] if isinstance(thing, dict) else getattr(thing, name)


def page_messages(response) -> list[str]:
    """Messages, the preview's errors (the checked manifest, or the preview job's result),
    the reason a job failed, and form errors."""
    context = response.context or {}
    found = [str(message) for message in context.get("messages", [])]
    manifest = context.get("manifest")
    if manifest is not None:
        found += [str(_get(problem, "message")) for problem in _get(manifest, "errors")]
    job = context.get("job")
    if job is not None and job.status == "failed":
        found += [str(job.error)] + [str(p) for p in (job.result or {}).get("problems", [])]
    form = context.get("form")
    if form is not None and form.is_bound:
        found += [str(error) for errors in form.errors.values() for error in errors]
    return found


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_consignment_import_page(case, client_for, sui_librarian, announced, with_settings):
    with_settings(case)
    before = counts()
    client = client_for(sui_librarian)
    upload = SimpleUploadedFile(case.filename, case.data)
    with Bounded():
        response = client.post(
            reverse("collections:consignment-import", args=[announced.pk]),
            {"file": upload, "encoding": case.encoding, "holdings": ""},
            follow=True,
        )
    assert response.status_code in (200, 400)
    assert counts() == before
    found = page_messages(response)
    if case.must_refuse:
        assert found, html.unescape(response.content.decode())[:2000]
        assert any(case.says in message for message in found), found
        assert not (response.context or {}).get("token")
    for message in found:
        assert_clear(message)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_import_command(case, nlc, suixian, sui_central, tmp_path, with_settings):
    with_settings(case)
    path = tmp_path / case.filename
    path.write_bytes(case.data)
    before = counts()
    out, err = StringIO(), StringIO()
    args = [str(path), "--library", "SUIXIAN", "--consignment", "NLC-2026-NEW"]
    if case.encoding:
        args += ["--encoding", case.encoding]
    with Bounded():
        try:
            call_command("import_consignment", *args, stdout=out, stderr=err)
        except CommandError as error:
            refused = str(error)
        else:
            refused = ""
            assert not case.must_refuse, out.getvalue()
    if not refused:
        return
    assert counts() == before, "a refused file leaves nothing behind, not even the consignment"
    said = [refused, *err.getvalue().splitlines()]
    if case.must_refuse:
        assert any(case.says in line for line in said), said
    assert_clear(refused)
    for line in err.getvalue().splitlines():
        assert "：" in line and re.search(r"[\u4e00-\u9fff]", line), line


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_readers_import(case, client_for, sui_librarian, sui_central, with_settings):
    """A manifest, malformed or not, is no readers file: refused with a message."""
    with_settings(case)
    before = counts()
    upload = SimpleUploadedFile(case.filename, case.data)
    with Bounded():
        response = client_for(sui_librarian).post(
            reverse("circulation:patron-import"), {"file": upload}, follow=True
        )
    assert response.status_code in (200, 400)
    assert counts() == before
    form = response.context["form"]
    found = [str(error) for errors in form.errors.values() for error in errors]
    found += [str(problem.message) for problem in response.context.get("problems") or []]
    assert found
    for message in found:
        assert_clear(message)


def test_the_preview_shows_a_sample_and_warns_when_the_text_looks_mis_decoded(
    client_for, sui_librarian, announced
):
    from collections_app.tests.manifest_files import cnmarc_record, iso2709

    data = iso2709(
        [
            cnmarc_record(f"GB{n}", title, "", "C912.82", [f"NL3100000{n}"])
            for n, title in enumerate(["乡土中国", "活着", "平凡的世界"])
        ],
        encoding="gb18030",
    )
    client = client_for(sui_librarian)
    url = reverse("collections:consignment-import", args=[announced.pk])

    def preview(encoding):
        upload = SimpleUploadedFile("gb.iso", data)
        response = client.post(url, {"file": upload, "encoding": encoding}, follow=True)
        return html.unescape(response.content.decode())

    wrong = preview("marc-8")
    assert "样例（前 3 种，请核对文字是否正确）" in wrong
    assert "有 3 种书的文字看起来是乱码，可能选错了文字编码" in wrong
    assert "疑似乱码" in wrong and "NL31000000" in wrong
    right = preview("")
    assert "乡土中国" in right and "平凡的世界" in right
    assert "乱码" not in right
    assert Title.objects.count() == 0
