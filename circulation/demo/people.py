"""Readers, loan rules and the demo staff logins."""

from dataclasses import dataclass
from datetime import date
from random import Random

from django.contrib.auth.hashers import make_password

from accounts.models import User
from circulation.models import LoanRule, Patron
from collections_app.models import Library, Site

from .names import person_name
from .places import HUBEI, NLC, SUIXIAN, ZENGDU, SiteSpec
from .readers import AGES, PROFILES

Category = Patron.Category
DEMO_PASSWORD = "shared-loan-demo"


@dataclass(frozen=True)
class RuleSpec:
    category: str
    site_kind: str
    loan_days: int
    max_items: int
    max_renewals: int


LOAN_RULES = (
    RuleSpec(Category.CHILD, "", 21, 3, 1),
    RuleSpec(Category.STUDENT, "", 30, 5, 1),
    RuleSpec(Category.ADULT, "", 30, 5, 1),
    RuleSpec(Category.SENIOR, "", 45, 5, 2),
    # A school reading corner shares one shelf among a whole class: shorter loans, fewer books.
    RuleSpec(Category.STUDENT, Site.Kind.SERVICE_POINT, 14, 3, 1),
)


def loan_rules(library: Library | None) -> list[LoanRule]:
    """The demo's loan rules as unsaved rows: stored for a county by the writer, and asked
    unsaved (no library) by the simulation, so both lend by the same numbers."""
    return [
        LoanRule(
            library=library,
            category=rule.category,
            site_kind=rule.site_kind,
            loan_days=rule.loan_days,
            max_items=rule.max_items,
            max_renewals=rule.max_renewals,
        )
        for rule in LOAN_RULES
    ]


@dataclass
class PatronRow:
    card_number: str
    name: str
    phone: str
    category: str
    home: str
    birth_year: int
    registered_on: date
    activity: float
    suspended_reason: str = ""


def generate_patrons(
    rng: Random,
    *,
    prefix: str,
    count: int,
    sites: tuple[SiteSpec, ...],
    anchor: date,
    opened_on: date,
) -> list[PatronRow]:
    """Readers spread over the sites by their share of loans, each site with its own mix."""
    weights = [site.loans for site in sites]
    opened, span = opened_on.toordinal(), anchor.toordinal() - opened_on.toordinal()
    rows = []
    for n in range(1, count + 1):
        site = rng.choices(sites, weights)[0]
        mix = PROFILES[site.profile].categories
        category = rng.choices(list(mix), list(mix.values()))[0]
        low, high = AGES[category]
        birth_year = anchor.year - rng.randint(low, high)
        # Most readers got their card in the first months of the service; a steady trickle since.
        if rng.random() < 0.6:
            registered = opened + rng.randint(0, min(120, span - 30))
        else:
            registered = opened + rng.randint(0, span - 30)
        phone = ""
        if category != Category.CHILD and rng.random() < 0.35:
            phone = rng.choice(("133", "135", "138", "139", "150", "152", "177", "187"))
            phone += str(rng.randrange(10**8)).zfill(8)
        rows.append(
            PatronRow(
                card_number=f"{prefix}{n:06d}",
                name=person_name(rng, birth_year),
                phone=phone,
                category=category,
                home=site.code,
                birth_year=birth_year,
                registered_on=date.fromordinal(registered),
                # A few keen readers borrow most of the books: a long-tailed activity.
                activity=rng.lognormvariate(0, 1.0),
            )
        )
    return rows


@dataclass(frozen=True)
class UserSpec:
    username: str
    first_name: str
    role: str
    library: str
    sites: tuple[str, ...] = ()
    superuser: bool = False


DEMO_USERS = (
    UserSpec("admin", "平台管理员", "", "", superuser=True),
    UserSpec("nlc", "国图共享借阅办", User.Role.LENDER, NLC),
    UserSpec("hubei", "省馆审核员", User.Role.PROVINCIAL, HUBEI),
    UserSpec("suixian", "随县馆员", User.Role.LIBRARIAN, SUIXIAN),
    UserSpec("zengdu", "曾都馆员", User.Role.LIBRARIAN, ZENGDU),
    UserSpec("xiaolin", "小林一中志愿者", User.Role.SITE_STAFF, SUIXIAN, ("xiaolin",)),
)


def ensure_users(
    libraries: dict[str, Library], sites: dict[str, dict[str, Site]]
) -> tuple[dict[str, User], int]:
    """The demo logins, creating the missing ones. Existing accounts are left as they are."""
    users = {
        u.username: u for u in User.objects.filter(username__in=[s.username for s in DEMO_USERS])
    }
    missing = [spec for spec in DEMO_USERS if spec.username not in users]
    # One hash for all: hashing is deliberately slow, and the password is published anyway.
    password = make_password(DEMO_PASSWORD) if missing else ""
    for spec in missing:
        user = User.objects.create(
            username=spec.username,
            password=password,
            first_name=spec.first_name,
            role=spec.role,
            library=libraries.get(spec.library),
            is_staff=spec.superuser,
            is_superuser=spec.superuser,
            email=f"{spec.username}@example.org",
        )
        user.sites.set([sites[spec.library][code] for code in spec.sites])
        users[spec.username] = user
    return users, len(missing)
