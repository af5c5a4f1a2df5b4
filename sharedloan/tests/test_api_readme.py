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
    ):
        assert needed in lines


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_readmes_curl_lines_work_against_the_demo(live_server, capsys):
    call_command("seed_demo", "--scale", "0.01", verbosity=0)
    call_command("refresh_report_tables", verbosity=0)
    capsys.readouterr()
    script = ["set -euo pipefail", 'curl() { command curl --fail-with-body "$@"; echo; }']
    for line in readme_api_lines():
        if line.startswith("TOKEN="):
            # The same command, run here: the live server's database is this process's.
            command = re.search(r"create_api_token (.*)\)$", line).group(1)
            args = [arg.strip('"') for arg in re.findall(r'"[^"]*"|\S+', command)]
            call_command("create_api_token", *args)
            token = capsys.readouterr().out.strip()
            script.append(f"TOKEN={token}")
            continue
        script.append(line.replace("http://127.0.0.1:8000", live_server.url))
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

    from circulation.models import Loan

    loans = Loan.objects.filter(patron__card_number="SX900001")
    assert loans.count() == 1 and loans.get().returned_at is not None
