"""What a staff account may see and change: the one scoping mechanism of the platform.

Every view, API endpoint, export and admin page reads through `scoped(queryset, user)`, and
every right to act is a `can_…` predicate below: services refuse with them, views answer 403
with them, and templates and the navigation show an action only when its predicate allows it
(the `can` context of accounts.context_processors). Nothing else compares role names.

Models describe how their rows hang on a library with a few class attributes:

- `SCOPE_LIBRARY`: path to the tenant library (default "library"; "pk" for Library itself);
- `SCOPE_SITES`: paths to sites; site staff see a row when any of them is one of their sites;
- `SCOPE_LENDER`: path to the lending library, when the row belongs to lent volumes;
- `SCOPE_PRIVATE`: readers' personal data, never shown outside the reader's library.

Rows outside the scope are simply absent from the queryset, so a lookup by code or barcode
answers 404 and does not reveal that the row exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404


def role_of(user) -> str:
    """superuser, lender, provincial, librarian, site_staff, or anonymous (no access)."""
    if not user.is_authenticated or not user.is_active:
        return "anonymous"
    if user.is_superuser:
        return "superuser"
    if user.library_id is None or not user.role:
        return "anonymous"
    return user.role


def visible_library_ids(user) -> frozenset[int] | None:
    """The libraries whose rows the user may read; None means every library."""
    cached = getattr(user, "_visible_library_ids", False)
    if cached is not False:
        return cached
    from collections_app.models import Consignment, Library

    role = role_of(user)
    if role == "superuser":
        ids = None
    elif role == "anonymous":
        ids = frozenset()
    elif role == "provincial":
        ids = frozenset(
            Library.objects.filter(province_id=user.library_id).values_list("pk", flat=True)
        ) | {user.library_id}
    elif role == "lender":
        ids = frozenset(
            Consignment.objects.filter(lender_id=user.library_id).values_list(
                "library_id", flat=True
            )
        ) | {user.library_id}
    else:
        ids = frozenset({user.library_id})
    user._visible_library_ids = ids
    return ids


def site_ids(user) -> frozenset[int]:
    cached = getattr(user, "_site_ids", None)
    if cached is None:
        cached = frozenset(user.sites.values_list("pk", flat=True))
        user._site_ids = cached
    return cached


def scoped(queryset: QuerySet, user) -> QuerySet:
    """The rows of `queryset` that `user` may read."""
    model = queryset.model
    library_path = getattr(model, "SCOPE_LIBRARY", "library")
    role = role_of(user)
    if role == "superuser":
        return queryset
    if role == "anonymous":
        return queryset.none()
    if role in ("lender", "provincial") and getattr(model, "SCOPE_PRIVATE", False):
        return queryset.none()

    if role == "lender" and getattr(model, "SCOPE_LENDER", None):
        return queryset.filter(**{model.SCOPE_LENDER: user.library_id})
    if role in ("lender", "provincial"):
        return queryset.filter(**{f"{library_path}__in": visible_library_ids(user)})

    queryset = queryset.filter(**{library_path: user.library_id})
    site_paths = getattr(model, "SCOPE_SITES", ())
    if role == "site_staff" and site_paths:
        sites = site_ids(user)
        queryset = queryset.filter(
            reduce(or_, (Q(**{f"{path}__in": sites}) for path in site_paths))
        ).distinct()
    return queryset


def get_scoped_or_404(queryset: QuerySet, user, **lookup):
    try:
        return scoped(queryset, user).get(**lookup)
    except queryset.model.DoesNotExist:
        raise Http404(f"No {queryset.model._meta.object_name} matches the given query.") from None


def get_work_site_or_404(user, library_code: str, site_code: str):
    """The active site `library_code`/`site_code` where `user` works the desk, with its library:
    404 when the site is out of the user's scope (or does not exist), `PermissionDenied` when
    the user may only read it or it is inactive.

    Every scan at the desk asks, and building the scoped lookup with the ORM cost more than the
    scan's own checks. The site is therefore read with one fixed SQL string and kept when
    `can_work_at_site` allows it and `scoped()` would show it (a site of the user's own
    library, or any for the superuser); every other answer is decided by `get_scoped_or_404`,
    so a refusal is the one `scoped()` gives."""
    site = _site_by_codes(library_code, site_code)
    own = site is not None and (
        role_of(user) == "superuser" or site.library_id == getattr(user, "library_id", None)
    )
    if own and can_work_at_site(user, site):
        if not site.is_active:
            raise PermissionDenied
        return site
    from collections_app.models import Site

    site = get_scoped_or_404(
        Site.objects.select_related("library"), user, library__code=library_code, code=site_code
    )
    if not can_work_at_site(user, site) or not site.is_active:
        raise PermissionDenied
    return site


def _site_by_codes(library_code: str, site_code: str):
    from django.db import connection

    from collections_app.models import Library, Site
    from sharedloan.prepared import fixed_cursor, model_columns, model_from_row

    site_fields = model_columns(Site, connection.vendor)
    library_fields = model_columns(Library, connection.vendor)
    columns = [f"s.{f.column}" for f, _, _ in site_fields]
    columns += [f"l.{f.column}" for f, _, _ in library_fields]
    with fixed_cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM {Site._meta.db_table} s "
            f"JOIN {Library._meta.db_table} l ON l.id = s.library_id "
            "WHERE l.code = %s AND s.code = %s",
            [library_code, site_code],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    n = len(site_fields)
    site = model_from_row(Site, site_fields, row[:n])
    site._state.fields_cache["library"] = model_from_row(Library, library_fields, row[n:])
    return site


@dataclass(frozen=True)
class LoanScope:
    """Whose loans a user may count, expressed on columns every loan summary carries (library,
    owner, site), so that the dashboards here and the report pages apply one rule. None means
    no restriction."""

    library_ids: frozenset | None = None
    owner_id: int | None = None
    site_ids: frozenset | None = None

    @classmethod
    def for_user(cls, user) -> LoanScope:
        role = role_of(user)
        libraries = visible_library_ids(user)
        if role == "superuser":
            return cls()
        return cls(
            library_ids=libraries,
            owner_id=user.library_id if role == "lender" else None,
            site_ids=site_ids(user) if role == "site_staff" else None,
        )

    @classmethod
    def for_library(cls, library) -> LoanScope:
        return cls(library_ids=frozenset({library.pk}))

    def apply(self, queryset, *, library="library_id", owner="owner_id", site="site_id"):
        if self.library_ids is not None:
            queryset = queryset.filter(**{f"{library}__in": self.library_ids})
        if self.owner_id is not None:
            queryset = queryset.filter(**{owner: self.owner_id})
        if self.site_ids is not None:
            queryset = queryset.filter(**{f"{site}__in": self.site_ids})
        return queryset

    def loans(self, loans):
        return self.apply(loans, owner="item__owner_id")

    def items(self, items):
        return self.apply(items, site="current_site_id")


def countable_loans(user):
    """The loans `user` may count in figures: the one way reports reach loans.

    Loans are readers' data (SCOPE_PRIVATE), so `scoped()` shows none to lenders and provincial
    reviewers, who may still see how much their volumes circulate. Count these rows, never list
    them: lenders get the loans of the volumes they own, provincial reviewers those of their
    province's libraries, site staff those made at their sites.
    """
    from circulation.models import Loan

    return LoanScope.for_user(user).loans(Loan.objects.all())


def can_manage_library(user, library) -> bool:
    """County librarians manage everything inside their own library system."""
    role = role_of(user)
    return role == "superuser" or (role == "librarian" and user.library_id == library.pk)


def can_work_at_site(user, site) -> bool:
    """Circulation and receiving: the library's librarians, and site staff at their sites."""
    if can_manage_library(user, site.library):
        return True
    return role_of(user) == "site_staff" and site.pk in site_ids(user)


def can_switch_self_service(user, site) -> bool:
    """Self-service borrowing at a site is the county librarian's decision, for their library's
    sites only (the platform administrator may fix it)."""
    return can_manage_library(user, site.library)


def can_circulate(user) -> bool:
    """The desk, readers and overdue lists: staff who lend at some site of a library."""
    return role_of(user) in ("superuser", "librarian", "site_staff")


def can_move_volumes(user) -> bool:
    """Transfers, displays and boxes of one's own library: its librarians and site staff (the
    superuser fixes through the admin; read-only roles only look)."""
    return role_of(user) in ("librarian", "site_staff") and user.library_id is not None


def can_work_with_box(user, box) -> bool:
    """Packing, unpacking and sending a travelling box: staff of the box's library who may work
    at every site its volumes stand at (an empty box, at their own). The superuser has no
    library and so no desk: a box is fixed in the admin, not packed."""
    if not can_move_volumes(user) or user.library_id != box.library_id:
        return False
    items = box.items.select_related("current_site__library")
    return all(can_work_at_site(user, site) for site in {item.current_site for item in items})


def can_announce_consignment(user) -> bool:
    """Announcing a consignment and importing its manifest: county librarians (for their
    library) and the platform administrator (for any)."""
    role = role_of(user)
    return role == "superuser" or (role == "librarian" and user.library_id is not None)


def can_plan_rotations(user) -> bool:
    """Rotation plans list volumes at every stop of a county: the county's view, not a
    service point's."""
    return role_of(user) in ("superuser", "librarian", "lender", "provincial")


def can_prepare_period_report(user, library=None) -> bool:
    """The period report is the county librarian's to write and submit, for their library."""
    if role_of(user) != "librarian":
        return False
    return library is None or user.library_id == library.pk


def can_review_period_report(user, report=None) -> bool:
    """The provincial library reviews the reports of its member libraries."""
    if role_of(user) != "provincial":
        return False
    return report is None or report.library.province_id == user.library_id


def can_read_rollups(user) -> bool:
    """Roll-ups over many libraries' period reports: the lender, the province, the platform."""
    return role_of(user) in ("lender", "provincial", "superuser")


def is_read_only_role(user) -> bool:
    """Lenders and provincial reviewers read over their scope and change nothing through the
    API: any write of theirs is refused (403) before it is looked at."""
    return role_of(user) in ("lender", "provincial")


def can_use_api_tokens(user) -> bool:
    """Every staff account may have API tokens; each reads and acts as its user would."""
    return has_staff_role(user)


def can_make_api_token(user, kind: str) -> bool:
    """Read-only tokens for every staff account (the NLC's and the province's systems pull
    reports with them); tokens that write only for those whose role writes."""
    if not can_use_api_tokens(user):
        return False
    return kind == "read_only" or not is_read_only_role(user)


def can_use_admin(user) -> bool:
    return role_of(user) == "superuser"


def can_see_readers(user, library) -> bool:
    """Who borrowed what is seen inside the reader's own library only: lenders and provincial
    reviewers see how often a volume circulates, never who read it."""
    return role_of(user) == "superuser" or user.library_id == library.pk


def can_edit_patron(user, patron) -> bool:
    """County librarians edit every reader; site staff the readers registered at their sites."""
    role = role_of(user)
    if role == "superuser" or (role == "librarian" and user.library_id == patron.library_id):
        return True
    return role == "site_staff" and patron.home_site_id in site_ids(user)


def can_cancel_hold(user, hold) -> bool:
    """County librarians cancel every hold of their library; site staff, as with readers, only
    the holds picked up at one of their sites or placed by a reader registered there."""
    role = role_of(user)
    if role == "superuser" or (role == "librarian" and user.library_id == hold.library_id):
        return True
    if role != "site_staff":
        return False
    sites = site_ids(user)
    return hold.pickup_site_id in sites or hold.patron.home_site_id in sites


def has_staff_role(user) -> bool:
    """An active account with a role (or the superuser): it may read inside its scope."""
    return role_of(user) != "anonymous"


def can_read_reports(user) -> bool:
    """Loan figures are for every staff role, each over its own scope."""
    return has_staff_role(user)


def is_lender_staff(user) -> bool:
    """Staff of the lending library (the NLC): their figures follow the volumes they lent."""
    return role_of(user) == "lender"


def is_site_bound(user) -> bool:
    """Site staff see and act only at their own sites (see `scoped`)."""
    return role_of(user) == "site_staff"


def work_sites(queryset: QuerySet, user) -> QuerySet:
    """The sites of `queryset` where `user` may lend, take returns and receive: the rule of
    `can_work_at_site`, as a filter."""
    role = role_of(user)
    if role == "superuser":
        return queryset
    if role == "librarian":
        return queryset.filter(library_id=user.library_id)
    if role == "site_staff":
        return queryset.filter(pk__in=site_ids(user))
    return queryset.none()


def period_reports_visible(queryset: QuerySet, user) -> QuerySet:
    """Period reports: a county sees its own from the first draft, the province those submitted
    to it, the lender those accepted; a service point none."""
    queryset = scoped(queryset, user)
    role = role_of(user)
    if role == "site_staff":
        return queryset.none()
    if role == "lender":
        return queryset.filter(status="accepted")
    if role == "provincial":
        return queryset.exclude(status="draft")
    return queryset


def can_see_staff_names(user, library) -> bool:
    """Who did what (item history, transfers, manifest imports, sign-off) is seen inside the
    library only: the lender and the province see that it was done, not by whom."""
    role = role_of(user)
    if role == "superuser":
        return True
    return role in ("librarian", "site_staff") and user.library_id == library.pk


def require_manage_library(user, library) -> None:
    if not can_manage_library(user, library):
        raise PermissionDenied


def require_work_at_site(user, site) -> None:
    if not can_work_at_site(user, site):
        raise PermissionDenied
