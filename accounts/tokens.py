"""API tokens: made, named and revoked by their own user on the tokens page (or with
`manage.py create_api_token`), sent as `Authorization: Token <secret>`.

The secret is 32 random bytes shown once; the database keeps its SHA-256 only. A slow password
hash would add nothing for a random secret of that length and would cost every API request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import authentication, exceptions

from accounts import scope
from accounts.models import ApiToken

SECRET_PREFIX = "sl_"
# How often the last-used time is written: once a minute is enough to tell a live token from a
# forgotten one, and a scanner's every request does not become a write.
LAST_USED_GRANULARITY = timedelta(minutes=1)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def api_token_create(*, user, name: str, kind: str = ApiToken.Kind.FULL) -> tuple[ApiToken, str]:
    """A new token for `user`, and its secret (the only time anyone sees it)."""
    if kind not in ApiToken.Kind.values or not scope.can_make_api_token(user, kind):
        raise PermissionDenied
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:80] or _("未命名"),
        kind=kind,
        prefix=secret[:10],
        digest=digest(secret),
    )
    return token, secret


def api_token_revoke(*, user, token: ApiToken) -> None:
    """Revoke one of the user's own tokens; it stops working at once. Revoking twice is fine."""
    if token.user_id != user.pk:
        raise PermissionDenied
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )


class ReadOnlyToken(exceptions.PermissionDenied):
    default_detail = gettext_lazy("这是只读令牌，不能用于修改数据。")
    default_code = "read_only_token"


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's `Authorization: Token <key>` header over ApiToken. A read-only token's write is
    refused here, before any view runs, so no endpoint can forget it."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if (
            result is not None
            and result[1].is_read_only
            and request.method
            not in (
                "GET",
                "HEAD",
                "OPTIONS",
            )
        ):
            raise ReadOnlyToken()
        return result

    def authenticate_credentials(self, key):
        token = (
            ApiToken.objects.select_related("user")
            .filter(digest=digest(key), revoked_at__isnull=True)
            .first()
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("令牌无效或已吊销。"))
        now = timezone.now()
        if token.last_used_at is None or token.last_used_at < now - LAST_USED_GRANULARITY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token.user, token
