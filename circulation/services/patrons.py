"""Readers: register, edit, suspend and reinstate, import a file of them (all or nothing)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.scope import can_edit_patron, can_manage_library, can_work_at_site
from circulation.models import Patron
from collections_app.errors import Problem, Refused
from collections_app.models import Library, Site

EDITABLE = ("card_number", "name", "phone", "category", "home_site", "birth_year")
MAX_REASON = 200  # Patron.suspended_reason


def _check_birth_year(birth_year) -> None:
    if birth_year is not None and not 1900 <= birth_year <= timezone.localdate().year:
        raise Refused(_("出生年份不合理。"), code="birth_year_invalid")


def patron_register(
    *,
    user,
    library: Library,
    card_number: str,
    name: str,
    category: str,
    home_site: Site,
    phone: str = "",
    birth_year: int | None = None,
) -> Patron:
    if home_site.library_id != library.pk:
        raise Refused(_("办证站点必须是本馆的站点。"), code="site_not_ours")
    if not can_work_at_site(user, home_site):
        raise Refused(
            _("您不能在“%(site)s”办证。") % {"site": home_site.name}, code="site_not_allowed"
        )
    _check_birth_year(birth_year)
    try:
        with transaction.atomic():
            return Patron.objects.create(
                library=library,
                card_number=card_number,
                name=name,
                category=category,
                home_site=home_site,
                phone=phone,
                birth_year=birth_year,
            )
    except IntegrityError:
        raise Refused(
            _("读者证号 %(card)s 已被使用。") % {"card": card_number}, code="card_number_taken"
        ) from None


def patron_update(*, user, patron: Patron, **fields) -> Patron:
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    with transaction.atomic():
        patron = Patron.objects.select_for_update().get(pk=patron.pk)
        if not can_edit_patron(user, patron):
            raise Refused(_("您不能修改这位读者的信息。"), code="patron_not_editable")
        home_site = fields.get("home_site", patron.home_site)
        if home_site.library_id != patron.library_id or not can_work_at_site(user, home_site):
            raise Refused(
                _("您不能把读者的办证站点设为“%(site)s”。") % {"site": home_site.name},
                code="site_not_allowed",
            )
        _check_birth_year(fields.get("birth_year"))
        for name, value in fields.items():
            setattr(patron, name, value)
        try:
            with transaction.atomic():
                patron.save()
        except IntegrityError:
            raise Refused(
                _("读者证号 %(card)s 已被使用。") % {"card": patron.card_number},
                code="card_number_taken",
            ) from None
        return patron


def patron_suspend(*, user, patron: Patron, reason: str) -> Patron:
    reason = (reason or "").strip()
    if not reason:
        raise Refused(_("请写明暂停原因。"), code="reason_required")
    if len(reason) > MAX_REASON:
        raise Refused(_("暂停原因最多 %(n)s 字。") % {"n": MAX_REASON}, code="reason_too_long")
    with transaction.atomic():
        patron = Patron.objects.select_for_update().get(pk=patron.pk)
        if not can_edit_patron(user, patron):
            raise Refused(_("您不能暂停这位读者。"), code="patron_not_editable")
        patron.is_suspended = True
        patron.suspended_reason = reason
        patron.save(update_fields=["is_suspended", "suspended_reason"])
        return patron


def patron_reinstate(*, user, patron: Patron) -> Patron:
    with transaction.atomic():
        patron = Patron.objects.select_for_update().get(pk=patron.pk)
        if not can_edit_patron(user, patron):
            raise Refused(_("您不能恢复这位读者。"), code="patron_not_editable")
        patron.is_suspended = False
        patron.suspended_reason = ""
        patron.save(update_fields=["is_suspended", "suspended_reason"])
        return patron


@dataclass
class PatronRow:
    """One row of an import file, already parsed; `line` is its row number in the file."""

    line: int
    card_number: str
    name: str
    category: str
    home_site: str
    phone: str = ""
    birth_year: int | None = None


def patron_import(*, user, library: Library, rows: Sequence[PatronRow]) -> int:
    """Create every reader of the file, or none: each bad row is reported with its number."""
    if not can_manage_library(user, library):
        raise Refused(_("只有县馆馆员可以批量导入读者。"), code="librarian_only")
    if not rows:
        raise Refused(_("文件中没有读者。"), code="import_empty")
    sites = {}
    for site in Site.objects.filter(library=library):
        sites[site.code.lower()] = site
        sites.setdefault(site.name, site)
    categories = {value: value for value in Patron.Category.values}
    categories.update({str(label): value for value, label in Patron.Category.choices})
    taken = set(
        Patron.objects.filter(
            library=library, card_number__in=[row.card_number for row in rows]
        ).values_list("card_number", flat=True)
    )
    seen: dict[str, int] = {}
    problems: list[Problem] = []
    patrons = []
    this_year = timezone.localdate().year
    for row in rows:
        where = _("第 %(n)s 行") % {"n": row.line}

        def refuse(message, where=where):
            problems.append(Problem(where, message))

        if not row.card_number:
            refuse(_("缺少读者证号"))
        elif len(row.card_number) > 32:
            refuse(_("读者证号太长（最多 32 位）"))
        elif row.card_number in taken:
            refuse(_("读者证号 %(card)s 已存在") % {"card": row.card_number})
        elif row.card_number in seen:
            refuse(
                _("读者证号 %(card)s 与第 %(n)s 行重复")
                % {"card": row.card_number, "n": seen[row.card_number]}
            )
        else:
            seen[row.card_number] = row.line
        if not row.name:
            refuse(_("缺少姓名"))
        elif len(row.name) > 50:
            refuse(_("姓名太长（最多 50 字）"))
        category = categories.get(row.category)
        if category is None:
            refuse(
                _("读者类型“%(value)s”无效，应为：%(choices)s")
                % {
                    "value": row.category,
                    "choices": "、".join(str(label) for label in Patron.Category.labels),
                }
            )
        site = sites.get(row.home_site.lower()) or sites.get(row.home_site)
        if site is None:
            refuse(_("找不到办证站点“%(value)s”") % {"value": row.home_site})
        if len(row.phone) > 30:
            refuse(_("联系电话太长"))
        if row.birth_year is not None and not 1900 <= row.birth_year <= this_year:
            refuse(_("出生年份 %(year)s 不合理") % {"year": row.birth_year})
        if category and site and not problems:
            patrons.append(
                Patron(
                    library=library,
                    card_number=row.card_number,
                    name=row.name,
                    category=category,
                    home_site=site,
                    phone=row.phone,
                    birth_year=row.birth_year,
                )
            )
    if problems:
        raise Refused(
            _("%(count)s 处错误，没有导入任何读者。") % {"count": len(problems)},
            problems,
            code="import_invalid",
        )
    try:
        with transaction.atomic():
            Patron.objects.bulk_create(patrons, batch_size=1000)
    except IntegrityError:
        raise Refused(
            _("有读者证号刚被占用，没有导入任何读者，请重试。"), code="import_conflict"
        ) from None
    return len(patrons)


# A reader's PIN for signing in online: digits only, so it can be typed on a phone's number pad
# and read out at the desk.
PIN_LENGTHS = (4, 8)


def patron_set_pin(*, user, patron: Patron, pin: str, site: Site | None = None) -> Patron:
    """Set or reset the PIN a reader signs in with online; only its password hash is kept.
    Staff who may edit the reader set it on the reader page; staff at the desk (`site`) set it
    for any reader of the site's library who stands in front of them."""
    at_desk = site is not None and site.library_id == patron.library_id
    if not (can_edit_patron(user, patron) or (at_desk and can_work_at_site(user, site))):
        raise Refused(_("您不能为这位读者设置密码。"), code="patron_not_editable")
    low, high = PIN_LENGTHS
    if not (pin.isascii() and pin.isdigit() and low <= len(pin) <= high):
        raise Refused(
            _("密码须为 %(low)s 到 %(high)s 位数字。") % {"low": low, "high": high},
            code="pin_invalid",
        )
    with transaction.atomic():
        patron = Patron.objects.select_for_update().get(pk=patron.pk)
        patron.pin = make_password(pin)
        patron.save(update_fields=["pin"])
        return patron


def patron_keep_reading_history(*, reader: Patron, keep: bool) -> Patron:
    """The reader's own choice, made online: whether their account lists past loans."""
    with transaction.atomic():
        patron = Patron.objects.select_for_update().get(pk=reader.pk)
        patron.keeps_reading_history = keep
        patron.save(update_fields=["keeps_reading_history"])
        return patron
