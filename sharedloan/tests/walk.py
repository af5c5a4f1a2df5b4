"""A walk through every page a user can reach from the navigation, in a real browser, that
reports what a librarian would trip over: console errors, failed requests, a page wider than a
phone, a Content-Security-Policy violation, a serious accessibility fault (axe-core), and text
left in the other language.

One `Walk` is one user in one language at one width, in its own browser context. It starts at
the entries of `accounts.context_processors.navigation` (so a new page joins the walk by
itself), follows the links of each page it opens, one page per URL name (the first item, the
first reader, …), opens every form there and submits it with valid data, and keeps a
screenshot of every page it saw. Whatever it does not open or submit, it lists with the reason
in `walk.txt` beside the screenshots."""

import functools
import os
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.db import models
from django.test import RequestFactory
from django.urls import Resolver404, resolve

from accounts.context_processors import navigation
from conftest import DESKTOP, PHONE, watch_page, without_eval
from sharedloan.tests.browser_steps import DEMO_PASSWORD, sign_in

AXE = Path(settings.BASE_DIR) / "static" / "vendor" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(os.environ.get("SHAREDLOAN_SCREENSHOTS", "/tmp/sharedloan-screenshots"))

# Links the walk does not open as pages, and why.
NOT_PAGES = {
    "accounts:logout": "signs out (the walk submits the sign-out form last)",
    "admin:logout": "signs out of the admin",
    "set_language": "a form, not a page (the walk submits it)",
    "javascript-catalog": "a script",
    "api-schema": "the API's schema, not a page",
    # Swagger UI's own page, in English whatever the language: test_browser_csp.py runs it.
    "api-docs": "the API's Swagger UI, a vendor page",
}
# The admin's confirmation of a deletion, and the names the walk gives what it adds
# (walk_forms.py).
ADMIN_DELETE = re.compile(r"^admin:.*:delete$")
WALK_NAME = re.compile(r"^W[A-Z]*-?\d+$")
# Files: fetched and checked for their status, not opened as pages.
DOWNLOADS = re.compile(r"(\.(csv|xlsx|pdf|json)(\?|$)|/download/|/export|pdf/$|[?&]format=)")

# Words that stay Latin in the Chinese interface: file formats, standards and the names of keys.
LATIN_TERMS = {
    "API", "CSV", "XLSX", "PDF", "ISBN", "MARC", "MARCXML", "CNMARC", "UNIMARC", "ISO", "UTF",
    "GB", "GBK", "XML", "NLC", "CLC", "Esc", "Enter", "Tab", "Excel", "English", "ID", "URL",
    "JSON", "Token", "PNG", "JPEG", "ZIP", "Koha", "dp", "LDAP", "Control", "Command", "Mac",
}  # fmt: skip
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")
LATIN_WORD = re.compile(r"(?<![A-Za-z0-9_.@/-])[A-Za-z]{2,}(?![A-Za-z0-9_@/-])")

# Everything a page shows as words, as the reader sees it: text nodes (hidden ones too — a
# collapsed menu is still the interface), the page title, and the words of attributes a screen
# reader or a hover shows. Text inside an element in another language (the language switcher's
# "English" on a Chinese page) is that language's, on purpose, and text a template marks
# translate="no" is data (the English column headers a manifest may use), as is code a program
# sends (an HTTP header in <code>).
PAGE_TEXT = """() => {
  const lang = document.documentElement.lang;
  const out = new Set([document.title]);
  const foreign = (el) => {
    const own = el.closest("[lang]");
    return (own && own.lang !== lang) || el.closest("[translate=no], code, kbd, samp");
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    const text = node.nodeValue.trim();
    if (!text || !el || el.closest("script, style, noscript, template") || foreign(el)) continue;
    out.add(text);
  }
  for (const el of document.querySelectorAll(
      "[placeholder], [title], [aria-label], [alt], [data-confirm], input[type=submit][value]")) {
    if (foreign(el)) continue;
    for (const name of ["placeholder", "title", "aria-label", "alt", "data-confirm"]) {
      if (el.getAttribute(name)) out.add(el.getAttribute(name));
    }
    if (el.matches("input[type=submit]")) out.add(el.value);
  }
  return [...out];
}"""

# The forms of a page, as the walk fills them: where each goes and what it asks for. The admin's
# date and time fields are text inputs its script gives a calendar and a clock: they ask for a
# date and a time as much as a date input does.
PAGE_FORMS = """() => [...document.forms].map((form, index) => ({
  index,
  action: new URL(form.getAttribute("action") || location.href, location.href).pathname,
  method: (form.getAttribute("method") || "get").toLowerCase(),
  scan: form.matches("[data-scan], [data-receipt], #desk-form"),
  fields: [...form.querySelectorAll("input, select, textarea")].filter(
      (el) => el.name && !el.disabled && el.type !== "hidden" && el.type !== "submit").map(
      (el) => ({
        name: el.name, tag: el.tagName.toLowerCase(), required: el.required,
        type: el.matches(".vDateField") ? "date" : el.matches(".vTimeField") ? "time"
          : el.type || "",
        value: el.value, checked: el.checked,
        options: el.tagName === "SELECT" ? [...el.options].map((o) => o.value) : [],
        // The admin's raw id field: a person picks the row through its magnifier's list.
        lookup: el.matches(".vForeignKeyRawIdAdminField")
          ? (document.getElementById("lookup_" + el.id) || {}).href || "" : "",
      })),
  autosubmit: form.querySelectorAll("select[data-autosubmit]").length,
  submits: [...form.querySelectorAll("button:not([type=button]), input[type=submit]")].filter(
      (el) => !el.disabled).length,
}))"""

OVERFLOW = """() => {
  const root = document.scrollingElement;
  if (root.scrollWidth <= root.clientWidth) return null;
  const wide = [...document.querySelectorAll("body *")].filter((el) => {
    const box = el.getBoundingClientRect();
    return box.right > root.clientWidth + 1 && !el.closest(".table-scroll, [data-scroll-x]");
  }).slice(0, 3).map((el) => el.tagName.toLowerCase() + (el.className ? "." +
    String(el.className).trim().split(/\\s+/).join(".") : ""));
  return root.scrollWidth + " px > " + root.clientWidth + " px: " + wide.join(", ");
}"""

# What a page is made of, without its words or how many rows it has: the kinds of element, with
# their classes, roles and types. The English page has the same structure as the Chinese one,
# and axe has nothing new to find on it; a page that shows a new part after a form (an error
# list, a message, an empty table's note) has axe check that part. Given the kinds already
# checked on this page, this returns the new ones and leaves the outermost elements of those
# kinds as axe's context (the whole document the first time).
STRUCTURE = """(known) => {
  const checked = new Set(known);
  const fresh = new Set();
  const kinds = new Set();
  const outermost = [];
  for (const el of document.querySelectorAll("body *")) {
    const kind = [el.tagName, el.getAttribute("class") || "", el.getAttribute("role") || "",
      el.getAttribute("type") || ""].join(" ");
    if (checked.has(kind)) continue;
    fresh.add(el);
    kinds.add(kind);
    let up = el.parentElement;
    while (up && !fresh.has(up)) up = up.parentElement;
    if (!up) outermost.push(el);
  }
  window.__axeContext = known.length ? {include: outermost} : document;
  return [...kinds];
}"""

NEXT_FRAME = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"

# axe reads the rules of a stylesheet that @imports another (the admin's forms.css imports
# widgets.css) by copying both into <style> elements of the page, which the Content-Security-Policy
# refuses, as it should: those reports, arriving while axe runs, are axe's, not the page's.
AXE_OWN_STYLES = re.compile(
    r"console error: Applying inline style violates|CSP style-src-elem refused inline"
)

# The WCAG 2.0 and 2.1 rules, A and AA: axe's best-practice rules (landmarks, heading order)
# are advice, and they took a third of its time.
AXE_RUN = """async () => {
  const result = await axe.run(window.__axeContext, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    resultTypes: ["violations"],
  });
  return result.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map(
    (v) => v.impact + " " + v.id + ": " + v.help + " — " +
      v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | "));
}"""


@functools.cache
def axe_script():
    return AXE.read_text(encoding="utf-8")


def data_strings():
    """Every name, title, code and note in the database: the data a page may show in its own
    language whatever the interface's. Choice fields are codes the interface translates, and
    the CLC's Chinese class names have their English beside them, so neither counts as data."""
    strings = set()
    # auth: Django stores each permission's name ("Can add 图书") when migrate creates it; admin,
    # each change's object as it was named then ("随县图书馆 · 成人", in the language of whoever
    # changed it); jobs, what a job said while it ran, in the language of whoever started it.
    for app in ("auth", "admin", "accounts", "collections_app", "circulation", "reports", "jobs"):
        for model in apps.get_app_config(app).get_models():
            if model._meta.model_name in ("clcclass", "formsubmission", "idempotentrequest"):
                continue
            fields = [
                f.name
                for f in model._meta.concrete_fields
                if isinstance(f, (models.CharField, models.TextField)) and not f.choices
            ]
            if not fields:
                continue
            for row in model.objects.values_list(*fields):
                strings.update(value.strip() for value in row if value and len(value.strip()) > 1)
    Job = apps.get_model("jobs", "Job")
    for result in Job.objects.values_list("result", flat=True):
        message = (result or {}).get("message")
        if isinstance(message, str) and len(message.strip()) > 1:
            strings.add(message.strip())
    return strings


class DataText:
    """Takes the data out of a page's text, leaving the interface's own words."""

    def __init__(self, strings):
        self.strings = set(strings)
        ordered = sorted(self.strings, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(s) for s in ordered) or "(?!)")
        self.typed = set()  # what the walk typed into forms, shown back on the pages

    def add(self, *values):
        self.typed |= {str(v).strip() for v in values if v and len(str(v).strip()) > 1}

    def strip(self, text):
        for value in self.typed:
            text = text.replace(value, " ")
        return self._pattern.sub(" ", text)

    def untranslated(self, texts, language):
        suspect = CJK.search if language == "en" else LATIN_WORD.search
        found = []
        for text in texts:
            if text in self.strings or not suspect(text):
                continue
            rest = self.strip(text)
            if language == "en":
                words = CJK.findall(rest)
            else:
                words = [w for w in LATIN_WORD.findall(rest) if w not in LATIN_TERMS]
            if words:
                found.append(f"{text!r} ({' '.join(words)})")
        return found


# The Django admin draws these pages of every model with the same templates and forms.
ADMIN_MODEL_PAGES = {"changelist", "add", "change", "history", "delete"}


def url_key(path):
    """A page's URL name (`collections:item-detail`): the walk opens one page of each. In the
    admin, where every model has the same five kinds of page, one of each kind per app: all
    models' pages took longer than the rest of the walk together and found nothing more."""
    path = urlsplit(path).path
    try:
        match = resolve(path)
    except Resolver404:
        return None
    kind, parts = match.view_name.rsplit("_", 1)[-1], path.strip("/").split("/")
    if match.view_name.startswith("admin:") and kind in ADMIN_MODEL_PAGES and len(parts) >= 3:
        return f"admin:{parts[1]}:{kind}"
    return match.view_name


def navigation_paths(user):
    request = RequestFactory().get("/")
    request.user = user
    request.resolver_match = None
    return [entry["url"] for entry in navigation(request)["nav_entries"]]


class Walk:
    """One user, one language, one width. `problems` collects what the pages reported, each
    with the page it happened on; `log` says what was opened, submitted and left, and why."""

    def __init__(self, browser, base_url, user, language, data, fill, axe_done):
        self.user = user
        self.language = language
        self.data = data
        self.fill = fill
        self.axe_done = axe_done  # (url name, kind of element) pairs axe has checked
        self.name = f"{user.username} {language}"
        self.folder = SCREENSHOTS / user.username / language
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.jpg"):
            old.unlink()
        self.context = browser.new_context(
            viewport=DESKTOP,
            locale="zh-CN" if language == "zh-hans" else "en-US",
            base_url=base_url,
        )
        self.page = self.context.new_page()
        # A page load on a machine the other tests keep busy (the first one starts the server's
        # templates and translations) has taken more than 15 s.
        self.page.set_default_timeout(30_000)
        self.page.wait_for_function = without_eval(self.page.wait_for_function)
        self.reported = watch_page(self.context, self.page)
        self.page.on("dialog", lambda dialog: dialog.accept())
        self.page.on("response", self._response)
        self.page.on("requestfailed", self._request_failed)
        self.page.on("request", lambda r: self.in_flight.add(r))
        self.page.on("requestfinished", lambda r: self.in_flight.discard(r))
        self.in_flight = set()
        self.problems = []
        self.log = []
        self.seen = set()
        self.shots = 0
        self.timings = {}

    # What the browser reports on its own.

    def _response(self, response):
        if response.status >= 400:
            request = response.request
            self.problems.append(
                f"{self.page.url}: {request.method} {response.url} answered {response.status}"
                f" ({request.resource_type})"
            )

    def _request_failed(self, request):
        self.in_flight.discard(request)
        failure = request.failure or ""
        if "ERR_ABORTED" not in failure:  # a page left while it loaded: not a fault
            self.problems.append(f"{self.page.url}: {request.url} failed: {failure}")

    def _settle(self):
        """Wait for the requests the page's scripts started after it loaded."""
        deadline = time.monotonic() + 10
        while self.in_flight and time.monotonic() < deadline:
            self.page.wait_for_timeout(25)
        self.problems.extend(self.reported)
        self.reported.clear()

    # The checks of one page.

    def _time(self, what, started):
        self.timings[what] = self.timings.get(what, 0) + time.monotonic() - started

    def check(self, key, label):
        page = self.page
        started = time.monotonic()
        self._settle()
        self._time("settle", started)
        path = urlsplit(page.url).path
        started = time.monotonic()
        language = page.evaluate("() => document.documentElement.lang")
        expected = "en" if self.language == "en" else "zh-hans"
        if language != expected:
            self.problems.append(f"{path}: the page is in {language!r}, not {expected!r}")
        for text in self.data.untranslated(page.evaluate(PAGE_TEXT), self.language):
            self.problems.append(f"{path}: untranslated: {text}")
        self._time("text", started)
        # axe once per page and structure, at the desktop width, in whichever language sees it
        # first: its rules read the markup and the colours, which neither the width nor the
        # language changes here, and it is the slowest check.
        started = time.monotonic()
        known = [kind for page_key, kind in self.axe_done if page_key == key]
        kinds = page.evaluate(STRUCTURE, known)
        if kinds:
            self.axe_done.update((key, kind) for kind in kinds)
            if not page.evaluate("() => typeof axe !== 'undefined'"):
                page.evaluate(axe_script())
            self.log.append(f"axe: {label}" + (f" ({len(kinds)} new kinds)" if known else ""))
            findings = page.evaluate(AXE_RUN)
            page.evaluate(NEXT_FRAME)  # the page's reports of what axe did arrive before this
            own = [report for report in self.reported if AXE_OWN_STYLES.search(report)]
            if own:
                self.log.append(f"  axe's own copies of stylesheets refused: {len(own)}")
                self.reported[:] = [r for r in self.reported if r not in own]
            for finding in findings:
                self.problems.append(f"{path}: axe {finding}")
        self._time("axe", started)
        self.shots += 1
        name = re.sub(r"[^\w.-]+", "_", f"{self.shots:02}-{label}")[:80]
        # Both widths on the page as it is, the phone's by narrowing the window: a second
        # walk at 390 px would load every page and submit every form again for the same
        # server answers, twice the time for nothing a narrow window does not show.
        for width, viewport in ((1280, DESKTOP), (390, PHONE)):
            started = time.monotonic()
            if page.viewport_size != viewport:
                page.set_viewport_size(viewport)
                page.evaluate(NEXT_FRAME)
            overflow = page.evaluate(OVERFLOW)
            if overflow:
                self.problems.append(f"{path}: wider than the window at {width} px: {overflow}")
            self._time("overflow", started)
            started = time.monotonic()
            # The desktop's first screen, the phone's whole page: the long tables a phone
            # scrolls through are where its layout breaks.
            page.screenshot(
                path=self.folder / f"{name}-{width}.jpg",
                full_page=width == 390,
                type="jpeg",
                quality=60,
            )
            self._time("screenshot", started)
        page.set_viewport_size(DESKTOP)

    # Moving around.

    def open(self, path, key):
        started = time.monotonic()
        response = self.page.goto(path)
        self._time("load", started)
        if response is None or response.status >= 400:
            return False  # the response listener has reported it
        self.check(key, key.replace(":", "-"))
        return True

    def links(self):
        hrefs = self.page.eval_on_selector_all("a[href]", "links => links.map(link => link.href)")
        here = urlsplit(self.page.url).netloc
        found = []
        for href in hrefs:
            parts = urlsplit(href)
            if parts.netloc != here or parts.scheme not in ("http", "https"):
                continue
            if "_popup=1" in parts.query:
                continue  # the admin opens these in a window of their own, from a form
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            found.append(path)
        return list(dict.fromkeys(found))

    def sign_in(self):
        sign_in(self.page, self.user.username, password=DEMO_PASSWORD)
        self._settle()
        now = self.page.evaluate("() => document.documentElement.lang")
        if self.language == "en" and now != "en":
            # The switcher, as a librarian uses it; the choice stays on the account.
            with self.page.expect_navigation():
                self.page.click("form.lang-switch button[value=en]")
            self.log.append("form set_language: submitted (to English)")
        self.check("circulation:home", "home")

    def sign_out(self):
        if not self.page.locator("form[action$='/accounts/logout/']").count():
            self.page.goto("/")  # the admin's pages have the admin's sign-out, not the site's
        with self.page.expect_navigation():
            self.page.click("form[action$='/accounts/logout/'] button[type=submit]")
        self.log.append("form accounts:logout: submitted")
        self.check("accounts:logout", "signed-out")

    def run(self):
        self.sign_in()
        start = navigation_paths(self.user)
        shown = [
            urlsplit(href).path
            for href in self.page.eval_on_selector_all(
                "#site-nav nav a", "links => links.map(link => link.href)"
            )
        ]
        if shown != start:
            self.problems.append(f"the menu shows {shown}, the navigation gives {start}")
        queue = list(start)
        self.seen.add("circulation:home")
        queued = set()
        while queue:
            path = queue.pop(0)
            key = url_key(path)
            if key in self.seen:
                continue
            self.seen.add(key)
            if not self.open(path, key):
                continue
            self.log.append(f"page {key}: {path}")
            started = time.monotonic()
            self.forms(path, key)
            self._time("forms (with their checks)", started)
            for link in self.links():
                link_key = url_key(link)
                if link_key is None:
                    self.log.append(f"link {link}: not an address of the platform")
                elif link_key in NOT_PAGES:
                    pass
                elif DOWNLOADS.search(link):
                    if link_key not in queued:
                        queued.add(link_key)
                        self.download(link, link_key)
                elif link_key not in self.seen and link_key not in queued:
                    queued.add(link_key)
                    queue.append(link)
        self.sign_out()

    def download(self, path, key):
        response = self.context.request.get(path, max_redirects=0)
        if response.status >= 400:
            self.problems.append(f"{path}: the file answered {response.status}")
        self.log.append(f"file {key}: {path} answered {response.status}")

    # Forms.

    def forms(self, path, key):
        page = self.page
        described = page.evaluate(PAGE_FORMS)
        chosen = []
        for form in described:
            form_key = url_key(form["action"]) or form["action"]
            if form_key in ("accounts:logout", "set_language"):
                continue  # submitted once per walk, at its start and end
            if form_key == "admin:logout":
                # The admin's own sign-out button: pressed, it left the rest of the walk on the
                # sign-in page. The walk signs out with the site's button at its end.
                self.log.append(f"form {form_key} on {key}: {NOT_PAGES[form_key]}")
                continue
            if not form["submits"] and not form["scan"] and not form["autosubmit"]:
                self.log.append(f"form {form_key} on {key}: no button to submit it")
                continue
            if (key, form_key) in self.fill.submitted:
                # The same form on the same page, submitted in the walk before this one: the
                # server and the page's script do the same whatever the language, and the page
                # it leads to is one of the pages this walk opens and reads in its language.
                self.log.append(f"form {form_key} on {key}: submitted in the walk before")
                continue
            chosen.append((self.fill.order(form_key, form), form_key, form))
        chosen.sort(key=lambda c: c[0])
        fresh = True
        for _, form_key, form in chosen:
            if not fresh:
                page.goto(path)
                self._settle()
                again = page.evaluate(PAGE_FORMS)
                same = [
                    f
                    for f in again
                    if f["action"] == form["action"] and f["method"] == form["method"]
                ]
                if not same:
                    self.log.append(f"form {form_key} on {key}: gone after the forms before it")
                    continue
                form = same[0]
            fresh = False
            self.fill.submitted.add((key, form_key))
            try:
                self.submit(key, form_key, form)
            except Exception as error:  # one form that broke; the walk goes on with the rest
                self.problems.append(f"{path}: {form_key} could not be submitted: {error}")

    def submit(self, key, form_key, form):
        page = self.page
        element = page.locator("form").nth(form["index"])
        values = self.fill.values(self, form_key, form)
        # A form folded away (suspending a reader) is opened as a librarian would.
        element.evaluate(
            "form => { for (let el = form; el; el = el.parentElement) "
            "if (el.tagName === 'DETAILS') el.open = true; }"
        )
        if values is None:
            self.log.append(f"form {form_key} on {key}: nothing valid to enter in this state")
            return
        if ADMIN_DELETE.search(form_key) and not self._added_here():
            # A person looking round the admin does not delete a library's rows (a loan rule:
            # its readers could no longer borrow); the rows the walk added, it deletes.
            self.log.append(f"form {form_key} on {key}: a row the walk did not add is left")
            return
        for field in form["fields"]:
            if field.get("lookup") and field["required"] and not field["value"]:
                values[field["name"]] = self._looked_up(field["lookup"])
        for name, value in values.items():
            self.data.add(*(value if isinstance(value, (list, tuple)) else [value]))
            self._enter(element, form, name, value)
        fields = sorted({f["name"] for f in form["fields"]})
        self.log.append(f"form {form_key} on {key}: fields {fields}, entered {values}")
        if form["scan"]:
            self._scan(element, values)
            self.check(key, f"{key}-after-{form_key}")
            return
        if not form["submits"]:
            # A filter that applies as soon as it is chosen: choose its last option.
            select = element.locator("select[data-autosubmit]").first
            last = select.locator("option").last.get_attribute("value")
            with page.expect_navigation():
                select.select_option(last)
            self.check(key, f"{key}-after-{form_key}")
            return
        button = element.locator("button:not([type=button]), input[type=submit]")
        button = button.filter(has_not=page.locator("[disabled]")).first
        if DOWNLOADS.search(form["action"]):
            with page.expect_download() as download:
                button.click()
            if download.value.failure():
                self.problems.append(f"{form['action']}: the download failed")
            return
        # A form whose job runs inside the request in the walk (a label PDF) may take longer
        # than a page load on a busy machine.
        with page.expect_navigation(timeout=60_000) as navigation_info:
            button.click(no_wait_after=True)
        response = navigation_info.value
        if response is not None and response.status >= 400:
            return  # reported by the response listener
        errors = page.locator(".errorlist, .field .error").all_inner_texts()
        if errors:
            self.problems.append(
                f"{urlsplit(page.url).path}: {form_key} refused the walk's valid data: {errors}"
            )
        # A refusal of the state (a renewal too early to extend the loan) is the service's
        # answer, not a fault of the form: it is logged.
        for refusal in page.locator(".message-error").all_inner_texts():
            self.log.append(f"  refused: {refusal}")
        self.check(url_key(urlsplit(page.url).path) or key, f"{key}-after-{form_key}")

    def _added_here(self):
        """Whether the row a deletion page is about is one the walk named (W12, WALK0003)."""
        names = [value for value in self.data.typed if WALK_NAME.match(value)]
        heading = " ".join(self.page.locator("#content h2, #content > ul > li").all_inner_texts())
        return any(re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", heading) for name in names)

    def _looked_up(self, lookup):
        """The first row of the list the admin's magnifier opens, as a person picks it there."""
        popup = lookup + ("&" if "?" in lookup else "?") + "_popup=1"
        html = self.context.request.get(popup).text()
        found = re.search(r'data-popup-opener="([^"]+)"', html)
        return found.group(1) if found else ""

    def _enter(self, element, form, name, value):
        field = next(f for f in form["fields"] if f["name"] == name)
        control = element.locator(f"[name='{name}']")
        if field["type"] == "file":
            control.set_input_files(value)
        elif field["tag"] == "select":
            control.select_option(value)
        elif field["type"] == "radio":
            element.locator(f"[name='{name}'][value='{value}']").check()
        elif field["type"] == "checkbox":
            wanted = set(value if isinstance(value, (list, tuple)) else [value])
            for box in control.all():
                box.set_checked(box.get_attribute("value") in wanted)
        else:
            control.fill(str(value))

    def _scan(self, element, values):
        """A scan form answers in its log without leaving the page: wait for the answer."""
        log = "#desk-log > li" if self.page.locator("#desk-log").count() else ".scan-log li"
        field = next(n for n in ("code", "barcode") if n in values)
        codes = values[field] if isinstance(values[field], (list, tuple)) else [values[field]]
        for code in codes:
            before = self.page.locator(log).count()
            element.locator(f"[name='{field}']").fill(code)
            element.locator(f"[name='{field}']").press("Enter")
            self.page.wait_for_function(
                f"() => document.querySelectorAll({log!r}).length > {before}"
            )
            self._settle()
            answer = self.page.locator(log).first
            classes = answer.get_attribute("class") or ""
            if "error" in classes:
                self.problems.append(
                    f"{urlsplit(self.page.url).path}: the scan of {code} was refused: "
                    f"{answer.inner_text()}"
                )

    def close(self):
        self.context.close()
        return [f"{self.name} {problem}" for problem in dict.fromkeys(self.problems)]
