"""Production as documented: gunicorn with production settings over a demo database.

Run by .ci/run after `collectstatic`, with DJANGO_ENV=production, DJANGO_SECRET_KEY,
DJANGO_ALLOWED_HOSTS=127.0.0.1 and DATABASE_URL naming a database that holds the demo. It starts
gunicorn on 127.0.0.1, logs in as every demo role, and fetches every page reachable from the
navigation (two links deep, GET only) and the admin: no answer may be a 500 (nor a 403 for a
page the user was offered), every page carries a Content-Security-Policy without
'unsafe-inline', and every static asset a page names must answer 200 with a long cache
lifetime. Exits 1 with the list of faults.

Requests carry `X-Forwarded-Proto: https`, as the reverse proxy of docs/deployment.md sends, so
the secure cookies and the CSRF referer check work as they do behind it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser

PORT = int(os.environ.get("SMOKE_PORT", "8765"))
BASE = f"http://127.0.0.1:{PORT}"
ROLES = ["admin", "nlc", "hubei", "suixian", "zengdu", "xiaolin"]
PASSWORD = "shared-loan-demo"
MAX_PAGES_PER_ROLE = 120
# Links that change state on GET or leave the pages: never followed.
SKIP = re.compile(r"/(logout|i18n)/|/export/|\.(csv|xlsx|pdf)$|/labels|/api/|/admin/.+/delete/")
ONE_YEAR = 365 * 24 * 3600


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.pages, self.assets, self.csrf = [], [], ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.pages.append(attrs["href"])
        if tag == "script" and attrs.get("src"):
            self.assets.append(attrs["src"])
        if tag == "link" and attrs.get("href") and "stylesheet" in (attrs.get("rel") or ""):
            self.assets.append(attrs["href"])
        if tag == "input" and attrs.get("name") == "csrfmiddlewaretoken":
            self.csrf = attrs.get("value", "")


class Browser:
    """Just enough of a browser: cookies by hand (they are Secure, the transport is not)."""

    def __init__(self):
        self.cookies: dict[str, str] = {}

    def request(self, path, data=None):
        url = urllib.parse.urljoin(BASE, path)
        headers = {
            "X-Forwarded-Proto": "https",
            "Referer": f"https://127.0.0.1:{PORT}/",
            "Accept-Language": "zh-hans",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(url, data=body, headers=headers)
        opener = urllib.request.build_opener(NoRedirect)
        try:
            response = opener.open(request, timeout=60)
        except urllib.error.HTTPError as error:
            response = error
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, response.headers, response.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def log_in(browser, username) -> list[str]:
    status, _headers, body = browser.request("/accounts/login/")
    form = Links()
    form.feed(body.decode("utf-8", "replace"))
    status, headers, _ = browser.request(
        "/accounts/login/",
        {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": form.csrf},
    )
    if status != 302:
        return [f"{username}: login answered {status}"]
    return []


def walk(browser, username, checked_assets: dict) -> tuple[list[str], int]:
    faults, seen, reported, queue = [], set(), set(), [("/", 0), ("/admin/", 0)]
    referrer: dict[str, str] = {}
    while queue and len(seen) < MAX_PAGES_PER_ROLE:
        path, depth = queue.pop(0)
        path = urllib.parse.urlsplit(path)._replace(fragment="").geturl()
        if path in seen or SKIP.search(path) or not path.startswith("/"):
            continue
        seen.add(path)
        if any(char.isspace() for char in path):
            faults.append(f"{username}: {referrer.get(path)} links to {path!r}")
            continue
        status, headers, body = browser.request(path)
        if status >= 500:
            faults.append(f"{username}: {path} answered {status}")
            continue
        if status == 403:
            # A page linked for a user who may not use it: offer only what the user may do.
            faults.append(f"{username}: {referrer.get(path)} links to {path}, which answers 403")
            continue
        if status in (301, 302) and depth < 2:
            queue.append((headers.get("Location", ""), depth))
            continue
        if "text/html" not in headers.get("Content-Type", ""):
            continue
        policy = headers.get("Content-Security-Policy", "")
        if not policy or "unsafe-inline" in policy:
            faults.append(f"{username}: {path} has no strict Content-Security-Policy ({policy!r})")
        links = Links()
        links.feed(body.decode("utf-8", "replace"))
        for asset in links.assets:
            if asset not in checked_assets:
                checked_assets[asset] = check_asset(browser, asset)
            if checked_assets[asset] and asset not in reported:
                reported.add(asset)
                faults.append(f"{username}: {path} names {asset}: {checked_assets[asset]}")
        if depth < 2:
            for link in links.pages:
                link = urllib.parse.urljoin(path, link)
                link = urllib.parse.urlsplit(link)._replace(scheme="", netloc="").geturl()
                referrer.setdefault(link, path)
                queue.append((link, depth + 1))
    return faults, len(seen)


def check_asset(browser, path) -> str:
    if path.startswith(("http:", "https:", "//")):
        return "served from another host"
    status, headers, _ = browser.request(path)
    if status != 200:
        return f"answered {status}"
    if not path.startswith("/static/"):
        return ""  # a view (the JavaScript catalogue): it must answer, not be cached for a year
    match = re.search(r"max-age=(\d+)", headers.get("Cache-Control", ""))
    if not match or int(match.group(1)) < ONE_YEAR:
        return f"cache lifetime too short ({headers.get('Cache-Control')!r})"
    return ""


def main() -> int:
    server = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "gunicorn"),
            "sharedloan.wsgi",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            "2",
            "--access-logfile",
            "-",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        # Ready when the login page answers as it does behind the proxy (a plain-HTTP request
        # is sent to HTTPS, which gunicorn does not speak, so it cannot be the probe).
        for _ in range(60):
            try:
                Browser().request("/accounts/login/")
                break
            except OSError:
                time.sleep(0.5)
        faults, assets, pages = [], {}, 0
        for username in ROLES:
            browser = Browser()
            problems = log_in(browser, username)
            if not problems:
                found, count = walk(browser, username, assets)
                problems += found
                pages += count
            faults += problems
        print(f"production smoke: {len(ROLES)} roles, {pages} pages, {len(assets)} static assets")
        for fault in faults:
            print("  ✗", fault)
        return 1 if faults or not assets else 0
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
