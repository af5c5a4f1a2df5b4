"""Self-service borrowing (自助借书) at a service point with nobody on duty.

The county librarian turns it on for a site (`self_service_set`); the site then gets a QR poster
that carries a signed token naming the site and the poster's version (`poster_token`). A
signed-in reader who scans the poster borrows there by the volume's barcode
(`self_service_checkout`), through the desk's own checkout service, so every refusal of the desk
(suspended card, loan limit, overdue loans, a volume not on this site's shelf, a copy kept for
another reader's hold, …) is the reader's too, and the loan is recorded at that site. Returns
still go through staff or a drop box.

Why a poster and not a site the reader picks: the token proves the reader saw the poster, which
hangs at the site, so a reader cannot choose a site from home and lend themselves whatever the
catalogue shows on its shelf. A photo of the poster still works elsewhere; turning self-service
off and on again prints a new poster and voids every old one.
"""

from __future__ import annotations

from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.scope import can_switch_self_service
from circulation.models import Patron
from circulation.services.loans import Checkout, loan_checkout
from collections_app.errors import Refused
from collections_app.models import Site

from .models import SelfServicePoint

POSTER_SALT = "readers.self-service.poster"


def self_service_set(*, user, site: Site, enabled: bool, now=None) -> SelfServicePoint:
    """Turn self-service borrowing at `site` on or off, recording who and when. Turning it on
    makes a new poster: the earlier posters of the site stop working."""
    if not can_switch_self_service(user, site):
        raise Refused(_("只有本馆的馆员可以设置“%(site)s”的自助借书。") % {"site": site.name})
    if enabled and not site.is_active:
        raise Refused(_("站点“%(site)s”已停用，不能开通自助借书。") % {"site": site.name})
    with transaction.atomic():
        point, _created = SelfServicePoint.objects.select_for_update().get_or_create(
            site=site, defaults={"library_id": site.library_id}
        )
        if point.enabled == enabled:
            return point
        point.enabled = enabled
        if enabled:
            point.poster_version += 1
        point.changed_by = user
        point.changed_at = now or timezone.now()
        point._history_user = user
        point.save()
        return point


def self_service_enabled(site: Site) -> bool:
    return SelfServicePoint.objects.filter(site=site, enabled=True).exists()


def poster_token(point: SelfServicePoint) -> str:
    """What the site's QR poster carries: the site and the poster's version, signed."""
    # No timestamp: a poster stays good until self-service is turned on anew.
    return signing.Signer(salt=POSTER_SALT).sign_object([point.site_id, point.poster_version])


def site_for_poster(library, token: str) -> Site | None:
    """The site of a current poster of `library` where self-service is on, else None."""
    try:
        site_id, version = signing.Signer(salt=POSTER_SALT).unsign_object(token)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    point = (
        SelfServicePoint.objects.select_related("site")
        .filter(site_id=site_id, library=library, enabled=True, poster_version=version)
        .first()
    )
    if point is None or not point.site.is_active:
        return None
    return point.site


def self_service_checkout(*, reader: Patron, site: Site, barcode: str, now=None) -> Checkout:
    """The signed-in `reader` lends themselves the volume with `barcode` at `site`.

    The site's switch is locked and re-checked inside the checkout's transaction, so a
    librarian turning self-service off is never overtaken by a checkout that read it on."""
    if reader.library_id != site.library_id:
        raise Refused(_("您不是本馆的读者，不能在这里借书。"))
    with transaction.atomic():
        point = SelfServicePoint.objects.select_for_update().filter(site=site).first()
        if point is None or not point.enabled:
            raise Refused(
                _("“%(site)s”没有开通自助借书，请到有馆员的服务台借书。") % {"site": site.name}
            )
        return loan_checkout(user=None, site=site, barcode=barcode, reader=reader, now=now)
