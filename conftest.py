"""Named actors and a small county for every test: Sui County (随县) with its central library,
a branch and the 小林一中 service point; 曾都区 as the other county; the Hubei provincial
library; the NLC as lender."""

import importlib
import re
from datetime import date
from decimal import Decimal

import pytest

from accounts.models import User
from collections_app.models import Consignment, Item, Library, Site, Title


@pytest.fixture(autouse=True)
def _clc_reference_data(request):
    """The CLC classes come from a data migration. A transactional test (browser, concurrency)
    ends with a flush that empties every table, so put them back for the tests after it."""
    uses_db = {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    if not uses_db and request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("transactional_db" if uses_db - {"db"} else "db")
    from django.apps import apps

    from collections_app.models import ClcClass

    if not ClcClass.objects.exists():
        migration = importlib.import_module("collections_app.migrations.0002_load_clc_classes")
        migration.load_clc_classes(apps, None)


@pytest.fixture(autouse=True)
def _empty_cache():
    """The API throttles and sign-in counts live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _jobs_run_at_once(settings):
    # Background jobs run inside the request that starts them, so a test sees their result;
    # jobs/tests/test_worker.py runs a real db_worker against PostgreSQL.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _default_language():
    """A request in English leaves English active in the thread; each test starts without it."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The production hasher is slow on purpose; tests log in hundreds of times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def nlc(db):
    return Library.objects.create(code="NLC", name="国家图书馆", kind=Library.Kind.NATIONAL)


@pytest.fixture
def hubei(db):
    return Library.objects.create(code="HBLIB", name="湖北省图书馆", kind=Library.Kind.PROVINCIAL)


@pytest.fixture
def suixian(hubei):
    return Library.objects.create(
        code="SUIXIAN", name="随县图书馆", kind=Library.Kind.COUNTY, province=hubei
    )


@pytest.fixture
def zengdu(hubei):
    return Library.objects.create(
        code="ZENGDU", name="曾都区图书馆", kind=Library.Kind.COUNTY, province=hubei
    )


def make_site(library, code, name, kind=Site.Kind.CENTRAL, parent=None, **fields):
    return Site.objects.create(
        library=library, code=code, name=name, kind=kind, parent=parent, **fields
    )


@pytest.fixture
def sui_central(suixian):
    return make_site(suixian, "central", "随县图书馆总馆")


@pytest.fixture
def sui_branch(suixian, sui_central):
    return make_site(suixian, "lijiadian", "厉山分馆", Site.Kind.BRANCH, sui_central)


@pytest.fixture
def xiaolin_site(suixian, sui_branch):
    return make_site(suixian, "xiaolin", "小林一中", Site.Kind.SERVICE_POINT, sui_branch)


@pytest.fixture
def zengdu_central(zengdu):
    return make_site(zengdu, "central", "曾都区图书馆总馆")


@pytest.fixture
def sui_consignment(nlc, suixian):
    return Consignment.objects.create(
        library=suixian,
        lender=nlc,
        reference="NLC-2021-SX",
        agreement_date=date(2021, 3, 1),
        term_ends_on=date(2024, 3, 1),
        expected_count=30000,
        status=Consignment.Status.ACTIVE,
    )


@pytest.fixture
def zengdu_consignment(nlc, zengdu):
    return Consignment.objects.create(
        library=zengdu,
        lender=nlc,
        reference="NLC-2021-ZD",
        agreement_date=date(2021, 5, 1),
        expected_count=100,
        status=Consignment.Status.ACTIVE,
    )


def make_item(consignment, site, barcode, title="乡土中国", clc="C912.82", **fields):
    book = Title.objects.create(
        library=consignment.library,
        title=title,
        isbn="9787101066418",
        publisher="中华书局",
        year=2013,
        clc=clc,
        clc_top=clc[:1],
        price=Decimal("26.00"),
    )
    from collections_app.services.holdings import holdings_add

    item = Item.objects.create(
        library=consignment.library,
        barcode=barcode,
        title=book,
        consignment=consignment,
        owner=consignment.lender,
        call_number=f"{clc}/1",
        home_site=site,
        current_site=site,
        **fields,
    )
    holdings_add(item_ids=[item.pk])  # as every path that creates volumes does
    return item


@pytest.fixture
def sui_item(sui_consignment, sui_central):
    return make_item(sui_consignment, sui_central, "NL00000001")


@pytest.fixture
def xiaolin_item(sui_consignment, xiaolin_site):
    return make_item(sui_consignment, xiaolin_site, "NL00000002", title="活着", clc="I247.57")


@pytest.fixture
def zengdu_item(zengdu_consignment, zengdu_central):
    return make_item(
        zengdu_consignment, zengdu_central, "NL00900001", title="平凡的世界", clc="I247.5"
    )


def make_user(username, library=None, role="", sites=(), **fields):
    user = User.objects.create_user(
        username=username, password="correct-horse-battery", library=library, role=role, **fields
    )
    user.sites.set(sites)
    return user


@pytest.fixture
def sui_librarian(suixian):
    return make_user("suixian", suixian, User.Role.LIBRARIAN, first_name="随县馆员")


@pytest.fixture
def zengdu_librarian(zengdu):
    return make_user("zengdu", zengdu, User.Role.LIBRARIAN, first_name="曾都馆员")


@pytest.fixture
def xiaolin_volunteer(suixian, xiaolin_site):
    return make_user("xiaolin", suixian, User.Role.SITE_STAFF, sites=[xiaolin_site])


@pytest.fixture
def hubei_reviewer(hubei):
    return make_user("hubei", hubei, User.Role.PROVINCIAL)


@pytest.fixture
def nlc_lender(nlc):
    return make_user("nlc", nlc, User.Role.LENDER)


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("admin", "admin@example.org", "correct-horse-battery")


@pytest.fixture
def client_for(client):
    """Log a client in as the given actor."""

    def login(user):
        client.force_login(user)
        return client

    return login


# Browser tests: Playwright's sync API driving the system Chromium against live_server.

BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CHROMIUM = "/usr/bin/chromium"  # Debian's package; Playwright cannot download a browser here
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


# Every browser test fails on a Content-Security-Policy violation, a console error or an uncaught
# exception: the page reports each one to Python through an exposed binding, from the first line.
WATCH_PAGE = """
document.addEventListener("securitypolicyviolation", function (event) {
  window.__pageProblem(
    "CSP " + event.effectiveDirective + " refused " + (event.blockedURI || "inline") +
    " in " + (event.sourceFile || document.location.pathname) + ":" + event.lineNumber +
    (event.sample ? " (" + event.sample + ")" : "")
  );
});
"""


def watch_page(context, page):
    """Collect what the page reports; the list is the test's to inspect or empty at the end."""
    problems = []
    context.expose_binding(
        "__pageProblem", lambda source, text: problems.append(f"{source['frame'].url}: {text}")
    )
    context.add_init_script(WATCH_PAGE)
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and problems.append(f"{page.url}: console error: {message.text}")
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"{page.url}: uncaught {error}"))
    return problems


FUNCTION = re.compile(r"^\s*(async\s+)?(function\b|\([^)]*\)\s*=>|[\w$]+\s*=>)")


def without_eval(wait_for_function):
    """Playwright evaluates a bare expression given to wait_for_function with eval() at every
    poll, which the page's Content-Security-Policy (no 'unsafe-eval') refuses; a function is
    evaluated once, by the driver, and then only called."""

    def wait(expression, *args, **kwargs):
        if not FUNCTION.match(expression):
            expression = f"() => ({expression})"
        return wait_for_function(expression, *args, **kwargs)

    return wait


@pytest.fixture
def browser_page(request, live_server):
    """A Chinese-speaking browser tab; parametrize indirectly with a viewport (default DESKTOP).

    The test fails at the end if the page reported a CSP violation, a console error or an
    uncaught exception; `page.problems` lists them for a test that expects one and clears it."""
    import os

    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.skip(
            f"browser test: {CHROMIUM} is missing (apt-get install chromium fonts-wqy-zenhei)"
        )
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    viewport = getattr(request, "param", DESKTOP)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        context = browser.new_context(viewport=viewport, locale="zh-CN", base_url=live_server.url)
        page = context.new_page()
        page.problems = watch_page(context, page)
        page.wait_for_function = without_eval(page.wait_for_function)
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()
        if page.problems:
            pytest.fail("the page reported:\n" + "\n".join(page.problems), pytrace=False)


@pytest.fixture
def screenshot(request):
    """Save a full-page screenshot under test-artifacts/, named after the test and a step."""
    from pathlib import Path

    folder = Path(__file__).resolve().parent / "test-artifacts"
    folder.mkdir(exist_ok=True)
    test = request.node.name.replace("[", "-").replace("]", "")

    def take(page, step):
        page.screenshot(path=folder / f"{test}-{step}.png", full_page=True)

    return take


def at_once(*works) -> list:
    """Run each of `works` in its own thread and database connection at the same moment (a
    transactional test on PostgreSQL); each outcome is what it returned or the error it raised."""
    import threading

    from django.db import connection

    barrier = threading.Barrier(len(works))
    outcomes = [None] * len(works)

    def run(index):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = works[index]()
        except Exception as error:  # noqa: BLE001 — the caller checks the outcomes
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
