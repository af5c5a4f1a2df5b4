"""The README's API examples work as written: its curl lines run, with curl itself, against a
live server holding the demo (as `make run` leaves it), each answering without an HTTP error."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

README = Path(settings.BASE_DIR) / "README.md"


def readme_api_lines() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## API\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_the_readme_shows_token_checkout_return_and_reports():
    lines = "\n".join(readme_api_lines())
    for needed in (
        "create_api_token",
        "/items/",
        "/circulation/checkout/",
        "/circulation/return/",
        "/reports/",
        "Idempotency-Key",
        "/consignments/",
        "/manifest/",
        "/scan/",
        "/sign-off/",
        "/transfers/",
        "/dispatch/",
        "/receive/",
        "--read-only",
        "/xlsx/",
    ):
        assert needed in lines


def accepted_report():
    """What the demo's counties would have: a month reported to the province and accepted."""
    from accounts.models import User
    from collections_app.models import Consignment
    from reports.periods import parse_period
    from reports.services import period_report_prepare, period_report_review, period_report_submit

    county, province = User.objects.get(username="suixian"), User.objects.get(username="hubei")
    report = period_report_prepare(
        user=county,
        library=county.library,
        consignment=Consignment.objects.filter(library=county.library).first(),
        period=parse_period("2025-12"),
    )
    report = period_report_submit(user=county, report=report, narrative="")
    return period_report_review(user=province, report=report, accept=True, comment="")


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_readmes_curl_lines_work_against_the_demo(live_server, capsys, tmp_path):
    call_command("seed_demo", "--scale", "0.01", verbosity=0)
    call_command("refresh_report_tables", verbosity=0)
    report = accepted_report()
    capsys.readouterr()
    script = ["set -euo pipefail", 'curl() { command curl --fail-with-body "$@"; echo; }']
    for line in readme_api_lines():
        made = re.match(r"(\w+)=\$\(\.venv/bin/python manage\.py create_api_token (.*)\)$", line)
        if made:
            # The same command, run here: the live server's database is this process's.
            args = [arg.strip('"') for arg in re.findall(r'"[^"]*"|\S+', made.group(2))]
            call_command("create_api_token", *args)
            token = capsys.readouterr().out.strip()
            script.append(f"{made.group(1)}={token}")
            continue
        line = line.replace("http://127.0.0.1:8000", live_server.url)
        script.append(line.replace("/tmp/", f"{tmp_path}/"))
    script_text = "\n".join(script)
    # The checkout twice, as a scanner that lost the first answer would: one loan.
    checkout = next(line for line in script if "/circulation/checkout/" in line)
    script_text = script_text.replace(checkout, checkout + "\n" + checkout)
    done = subprocess.run(
        ["bash", "-c", script_text],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert '"card_number":"SX900001"' in out
    assert out.count('"due_at"') == 2 and '"already":false' in out
    assert '"action"' in out and '"rows"' in out
    assert '"outcome":"received"' in out and '"status":"active"' in out
    assert '"status":"received","completed":true' in out
    assert (tmp_path / f"report-{report.pk}.json").read_text().startswith('{"id":')
    assert (tmp_path / f"report-{report.pk}.xlsx").read_bytes().startswith(b"PK")

    from circulation.models import Loan

    loans = Loan.objects.filter(patron__card_number="SX900001")
    assert loans.count() == 1 and loans.get().returned_at is not None
