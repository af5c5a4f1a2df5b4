"""The readers' side of the demo: one grassroots service point of Sui County where readers
borrow by themselves, turned on by the county's librarian through the same service as the
site's self-service page."""

from accounts.models import User
from collections_app.models import Site

from .services import self_service_set

# 神农部落's village bookshop (农家书屋) has nobody on duty most days.
DEMO_SELF_SERVICE = ("SUIXIAN", "shennong", "suixian")


def seed_self_service() -> int:
    """Turn self-service on at the demo's service point; 1 when it was turned on, else 0."""
    library_code, site_code, username = DEMO_SELF_SERVICE
    site = (
        Site.objects.select_related("library")
        .filter(library__code=library_code, code=site_code)
        .first()
    )
    librarian = User.objects.filter(username=username).first()
    if site is None or librarian is None:
        return 0
    point = self_service_set(user=librarian, site=site, enabled=True)
    return int(point.enabled)
