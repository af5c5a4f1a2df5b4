"""Which loan rule applies: the library's rule for the reader's category at this kind of site,
else the one for every kind of site."""

from django.utils.translation import gettext as _

from circulation.models import LoanRule
from collections_app.errors import Refused


def loan_rule_for(*, library_id: int, category: str, site_kind: str) -> LoanRule:
    rules = list(
        LoanRule.objects.filter(
            library_id=library_id, category=category, site_kind__in=[site_kind, ""]
        )
    )
    rules.sort(key=lambda rule: rule.site_kind == "")
    if not rules:
        raise Refused(_("本馆还没有设置这类读者的借阅规则，请县馆馆员在“借阅规则”中设置。"))
    return rules[0]


def loan_rule_save(*, user, library, rule=None, **fields):
    """Create or change one loan rule of `library` (county librarians only)."""
    from django.db import IntegrityError, transaction

    from accounts.scope import can_manage_library

    if not can_manage_library(user, library):
        raise Refused(_("只有县馆馆员可以修改借阅规则。"))
    if rule is not None and rule.library_id != library.pk:
        raise Refused(_("只能修改本馆的借阅规则。"))
    rule = rule or LoanRule(library=library)
    for name, value in fields.items():
        setattr(rule, name, value)
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError:
        raise Refused(_("这类读者在这类站点已经有一条规则了。")) from None
    return rule
