"""Any number of web servers: two gunicorn servers over one PostgreSQL database, every request
of a browser going to the other server than the one before, as a load balancer without sticky
sessions would send them.

Run by .ci/run after production_smoke.py, with the same environment (production settings,
DATABASE_URL naming the demo database). It starts two gunicorn servers on two ports and one
background worker (`manage.py db_worker`), then

- walks every page of every demo role as production_smoke.py does (the same walk, the same
  checks), the requests alternating between the servers: the session and the CSRF cookie made
  by one server are honoured by the other;
- as the Sui County librarian, announces a consignment (form read from one server, sent to the
  other), uploads a manifest to one server, follows its check (a background job, run by the
  worker) from the other, commits the preview the first server staged in the database through
  the second, follows the import to its end, and finds one of the imported volumes through
  the API.

Requests carry the one public host name a load balancer would present (`Host: 127.0.0.1`), so
a form read from one server and sent to the other is, to the browser, one site. Exits 1 with
the list of faults.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import production_smoke as smoke  # noqa: E402

PORTS = [int(p) for p in os.environ.get("TWO_SERVERS_PORTS", "8771,8772").split(",")]
HOST = "127.0.0.1"
LIBRARIAN = "suixian"
# All demo roles, as production_smoke.py walks them; fewer while working on this script.
ROLES = os.environ.get("TWO_SERVERS_ROLES", ",".join(smoke.ROLES)).split(",")


class Form(HTMLParser):
    """The inputs and the first option of each select of a page's forms, by name."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("file", "submit"):
            self.values.setdefault(name, attrs.get("value") or "")
        if tag == "select":
            self._select = name
        if tag == "option" and self._select and attrs.get("value"):
            self.values.setdefault(self._select, attrs["value"])

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def parse_form(body: bytes) -> dict[str, str]:
    form = Form()
    form.feed(body.decode("utf-8", "replace"))
    return form.values


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"{head}{value}\r\n".encode())
    for name, (filename, data) in files.items():
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n'
            ).encode()
            + data
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class TwoServerBrowser:
    """production_smoke's browser, but each request goes to the other server."""

    def __init__(self):
        self.cookies: dict[str, str] = {}
        self.served: Counter = Counter()
        self._turn = 0

    def request(self, path, data=None, *, files=None):
        port = PORTS[self._turn % len(PORTS)]
        self._turn += 1
        self.served[port] += 1
        headers = {
            "Host": HOST,
            "X-Forwarded-Proto": "https",
            "Referer": f"https://{HOST}/",
            "Accept-Language": "zh-hans",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if files is not None:
            body, headers["Content-Type"] = multipart(data or {}, files)
        elif data is not None:
            body = urllib.parse.urlencode(data).encode()
        url = urllib.parse.urljoin(f"http://127.0.0.1:{port}", path)
        request = urllib.request.Request(url, data=body, headers=headers)
        opener = urllib.request.build_opener(smoke.NoRedirect)
        try:
            response = opener.open(request, timeout=60)
        except urllib.error.HTTPError as error:
            response = error
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, response.headers, response.read()


def location(headers) -> str:
    return (
        urllib.parse.urlsplit(headers.get("Location", ""))._replace(scheme="", netloc="").geturl()
    )


def follow_job(browser, job_id, what, faults) -> dict:
    """Poll the job's status (each poll on the other server) until it ends."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        status, _headers, body = browser.request(f"/jobs/{job_id}/status.json")
        if status != 200:
            faults.append(f"{what}: job status answered {status}")
            return {}
        state = json.loads(body)
        if state["finished"]:
            if state["status"] != "succeeded":
                faults.append(f"{what}: job ended {state['status']}: {state['error']}")
            return state
        time.sleep(0.5)
    faults.append(f"{what}: job {job_id} did not finish in 180 s")
    return {}


def receive_a_consignment(browser) -> list[str]:
    """Announce, upload, check, commit and import across the two servers."""
    faults: list[str] = []
    stamp = f"{int(time.time()) % 10**7:07d}"
    _s, _h, page = browser.request("/collections/consignments/announce/")
    form = parse_form(page)
    status, headers, _ = browser.request(
        "/collections/consignments/announce/",
        {
            "csrfmiddlewaretoken": form.get("csrfmiddlewaretoken", ""),
            "submission": form.get("submission", ""),
            "lender": form.get("lender", ""),
            "reference": f"NLC-CI-TWO-{stamp}",
            "agreement_date": date.today().isoformat(),
            "note": "two servers",
        },
    )
    detail = location(headers)
    if status != 302 or not re.match(r"^/collections/consignments/\d+/$", detail):
        return [f"announce answered {status} → {detail!r}"]
    import_url = f"{detail}import/"
    # The manifest template's own header line, and three volumes of this run.
    _s, _h, template = browser.request("/collections/consignments/manifest-template.csv")
    header = template.splitlines()[0]
    barcode = f"TW{stamp}001"
    rows = [
        f"{barcode},9787101066418,乡土中国,费孝通著,中华书局,2013,C912.82,C912.82/3,26.00,",
        f"TW{stamp}002;TW{stamp}003,9787020024759,围城,钱锺书著,人民文学出版社,1991,"
        "I246.57,I246.57/1,19.00,2",
    ]
    manifest = b"\r\n".join([header, *(row.encode() for row in rows)]) + b"\r\n"
    form = parse_form(browser.request(import_url)[2])
    status, headers, body = browser.request(
        import_url,
        {"csrfmiddlewaretoken": form.get("csrfmiddlewaretoken", ""), "encoding": ""},
        files={"file": ("manifest.csv", manifest)},
    )
    preview = location(headers)
    match = re.search(r"preview=([0-9a-f-]{36})", preview)
    if status != 302 or not match:
        return [f"manifest upload answered {status} → {preview!r}: {body[:300]!r}"]
    checked = follow_job(browser, match.group(1), "manifest check", faults)
    if not checked:
        return faults
    form = parse_form(browser.request(preview)[2])
    if not form.get("token"):
        return [*faults, f"the preview on the other server offers no commit: {form}"]
    status, headers, _ = browser.request(
        f"{import_url}commit/",
        {"csrfmiddlewaretoken": form["csrfmiddlewaretoken"], "token": form["token"]},
    )
    target = location(headers)
    job = re.search(r"/jobs/([0-9a-f-]{36})/", target)
    if status != 302 or not (job or target == detail):
        return [*faults, f"commit answered {status} → {target!r}"]
    if job:
        follow_job(browser, job.group(1), "manifest import", faults)
    status, _h, body = browser.request(f"/api/v1/items/{barcode}/")
    if status != 200 or barcode not in body.decode("utf-8", "replace"):
        faults.append(f"imported volume {barcode}: the API answered {status}")
    print(f"two servers: consignment {detail} announced, its manifest checked and imported")
    print(f"two servers: the imported volume {barcode} found through the API")
    return faults


def wait_until_up(port):
    """Any HTTP answer will do (production settings answer plain HTTP with a redirect)."""
    for _ in range(120):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/accounts/login/", headers={"Host": HOST})
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.5)
        finally:
            connection.close()
    raise SystemExit(f"gunicorn on {port} did not start")


def main() -> int:
    bin_dir = os.path.dirname(sys.executable)
    processes = [
        subprocess.Popen(
            [
                os.path.join(bin_dir, "gunicorn"),
                "sharedloan.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--log-level",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
        )
        for port in PORTS
    ]
    processes.append(
        subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay"],
            stdout=subprocess.DEVNULL,
        )
    )
    try:
        for port in PORTS:
            wait_until_up(port)
        faults, assets, pages = [], {}, 0
        served = Counter()
        for username in ROLES:
            browser = TwoServerBrowser()
            problems = smoke.log_in(browser, username)
            if not problems:
                found, count = smoke.walk(browser, username, assets)
                problems += found
                pages += count
            if username == LIBRARIAN and not problems:
                problems += receive_a_consignment(browser)
            served.update(browser.served)
            faults += problems
        shares = ", ".join(f"{served[p]} on :{p}" for p in PORTS)
        print(f"two servers: {len(ROLES)} roles, {pages} pages, requests {shares}")
        for fault in faults:
            print("  ✗", fault)
        return 1 if faults or min(served[p] for p in PORTS) == 0 else 0
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)


if __name__ == "__main__":
    sys.exit(main())
