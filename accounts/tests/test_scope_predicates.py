"""Who may do what: the `can_…` predicates of accounts/scope.py, the navigation and the actions a
page offers, which ask the same predicates — and a walk of the code that finds no other place
deciding rights by role name."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from accounts import scope
from accounts.context_processors import rights
from reports.models import PeriodReport

ROOT = Path(__file__).resolve().parents[2]

ACTORS = ["superuser", "nlc_lender", "hubei_reviewer", "sui_librarian", "xiaolin_volunteer"]

# What each actor may do, as the roles table of DESIGN.md says.
EXPECTED = {
    "superuser": {
        "circulate",
        "announce_consignment",
        "plan_rotations",
        "read_rollups",
        "use_admin",
    },
    "nlc_lender": {"plan_rotations", "read_rollups"},
    "hubei_reviewer": {"plan_rotations", "read_rollups"},
    "sui_librarian": {
        "circulate",
        "move_volumes",
        "manage_library",
        "announce_consignment",
        "plan_rotations",
        "prepare_period_report",
    },
    "xiaolin_volunteer": {"circulate", "move_volumes"},
}


@pytest.mark.parametrize("actor", ACTORS)
def test_each_role_has_the_rights_of_the_roles_table(request, actor):
    user = request.getfixturevalue(actor)
    granted = {name for name, allowed in rights(user).items() if allowed}
    assert granted == EXPECTED[actor]


def test_an_account_without_a_role_may_do_nothing(db):
    from accounts.models import User

    nobody = User.objects.create_user("nobody", password="x")
    assert not any(rights(nobody).values())


def test_only_the_province_of_a_library_reviews_its_report(
    hubei_reviewer, sui_librarian, zengdu_librarian, suixian, sui_consignment
):
    report = PeriodReport(library=suixian, consignment=sui_consignment)
    assert scope.can_review_period_report(hubei_reviewer, report)
    assert not scope.can_review_period_report(sui_librarian, report)
    assert scope.can_prepare_period_report(sui_librarian, suixian)
    assert not scope.can_prepare_period_report(zengdu_librarian, suixian)


@pytest.mark.parametrize(
    "actor, url_name, shown",
    [
        ("sui_librarian", "collections:transfer-new", True),
        ("xiaolin_volunteer", "collections:transfer-new", True),
        ("hubei_reviewer", "collections:transfer-new", False),
        ("nlc_lender", "collections:transfer-new", False),
        ("sui_librarian", "circulation:desk", True),
        ("hubei_reviewer", "circulation:desk", False),
        ("nlc_lender", "admin:index", False),
        ("superuser", "admin:index", True),
    ],
)
def test_pages_offer_an_action_exactly_when_its_predicate_allows_it(
    request, client_for, actor, url_name, shown
):
    client = client_for(request.getfixturevalue(actor))
    page = client.get(reverse("collections:transfer-list")).content.decode()
    assert (f'href="{reverse(url_name)}"' in page) is shown


def test_a_read_only_role_is_refused_the_action_it_is_not_offered(client_for, hubei_reviewer):
    assert client_for(hubei_reviewer).get(reverse("collections:transfer-new")).status_code == 403


# Rights by role name: `user.is_librarian`, `role_of(user) == "…"`, `role in (…)`.
ROLE_TEST = re.compile(
    r"user\.is_(librarian|site_staff|lender|provincial)\b"
    r"|role_of\([^)]*\)\s*(==|!=|in\b|not in\b)"
    r"|\brole\s*(==|!=)\s*\"(superuser|lender|provincial|librarian|site_staff|anonymous)\""
    r"|\brole\s+(not\s+)?in\s+\(\"(superuser|lender|provincial|librarian|site_staff)"
)
# Where a role name may still be read: the scope module that owns the rules, the user model
# that defines the roles, the demo and the admin's list filters; and pages that only word a
# heading differently for a role (not a right).
ALLOWED = {
    "accounts/scope.py",
    "accounts/models.py",
    "circulation/demo/seed.py",
    "circulation/dashboards.py",
    "templates/circulation/home.html",
    "templates/circulation/_dashboard_local.html",
}


def test_no_view_template_or_service_decides_a_right_by_comparing_role_names():
    offenders = []
    for path in sorted(ROOT.glob("**/*")):
        relative = path.relative_to(ROOT).as_posix()
        if path.suffix not in (".py", ".html") or relative in ALLOWED:
            continue
        if relative.startswith((".venv/", "bench/", "staticfiles/")) or "/tests/" in relative:
            continue
        if "/migrations/" in relative:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if ROLE_TEST.search(line):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
