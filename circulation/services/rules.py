"""Which loan rule applies: the library's rule for the reader's category at this kind of site,
else the one for every kind of site."""

from collections.abc import Iterable

from django.db import connection
from django.utils.translation import gettext as _

from circulation.models import LoanRule
from collections_app.errors import Refused
from sharedloan.prepared import fixed_cursor

# A loan longer than a year is not a loan; the due date search also stops a few months out.
MAX_LOAN_DAYS = 365


def rule_among(rules: Iterable[LoanRule], *, category: str, site_kind: str) -> LoanRule | None:
    """The rule of `rules` for `category` at `site_kind`: the one for that kind of site, else the
    one for every kind of site, else None. Pure, so that the demo's in-memory simulation lends
    by the same choice as the desk."""
    matching = [r for r in rules if r.category == category and r.site_kind in (site_kind, "")]
    matching.sort(key=lambda rule: rule.site_kind == "")
    return matching[0] if matching else None


def _candidates(library_id: int, category: str, site_kind: str) -> list[LoanRule]:
    """The library's rules for `category` at `site_kind` and at every kind of site. One fixed
    SQL string: every checkout, renewal and hold asks, and building this two-row query with
    the ORM cost several times what PostgreSQL takes to answer it."""
    fields = [field.attname for field in LoanRule._meta.concrete_fields]
    with fixed_cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(fields)} FROM {LoanRule._meta.db_table} "
            "WHERE library_id = %s AND category = %s AND site_kind IN (%s, '')",
            [library_id, category, site_kind],
        )
        rows = cursor.fetchall()
    return [LoanRule.from_db(connection.alias, fields, row) for row in rows]


def loan_rule_for(
    *, library_id: int, category: str, site_kind: str, candidates: list[LoanRule] | None = None
) -> LoanRule:
    """The rule for `category` at `site_kind`; refused when the library has none. A caller that
    read the library's `candidates` for them already (the checkout's count statement) passes
    them, and nothing is read here."""
    if candidates is None:
        candidates = _candidates(library_id, category, site_kind)
    rule = rule_among(candidates, category=category, site_kind=site_kind)
    if rule is None:
        raise Refused(
            _("本馆还没有设置这类读者的借阅规则，请县馆馆员在“借阅规则”中设置。"),
            code="loan_rule_missing",
        )
    return rule


def loan_rule_save(*, user, library, rule=None, **fields):
    """Create or change one loan rule of `library` (county librarians only)."""
    from django.db import IntegrityError, transaction

    from accounts.scope import can_manage_library

    if not can_manage_library(user, library):
        raise Refused(_("只有县馆馆员可以修改借阅规则。"), code="librarian_only")
    if rule is not None and rule.library_id != library.pk:
        raise Refused(_("只能修改本馆的借阅规则。"), code="loan_rule_not_ours")
    if "loan_days" in fields and not 1 <= fields["loan_days"] <= MAX_LOAN_DAYS:
        raise Refused(
            _("借期应在 1 到 %(max)s 天之间。") % {"max": MAX_LOAN_DAYS}, code="loan_days_invalid"
        )
    rule = rule or LoanRule(library=library)
    for name, value in fields.items():
        setattr(rule, name, value)
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError:
        raise Refused(_("这类读者在这类站点已经有一条规则了。"), code="loan_rule_exists") from None
    return rule
