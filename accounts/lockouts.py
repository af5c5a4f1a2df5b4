"""Sign-in lockouts (django-axes) as this project configures them: the address a sign-in comes
from, the message a locked-out librarian reads, and the lockout lists' place in the admin."""

from axes.apps import AppConfig as AxesAppConfig
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class LockoutsConfig(AxesAppConfig):
    """django-axes under a Chinese heading in the admin; its own strings are translated in
    accounts/axes_locale (the package ships no Chinese)."""

    verbose_name = gettext_lazy("登录锁定")


def client_address(request):
    """The address a sign-in comes from, as django-axes counts it.

    Behind nginx every request arrives from 127.0.0.1; with SHAREDLOAN_PROXY_COUNT proxies in
    front, the address is the one the outermost of them saw (X-Forwarded-For counted from the
    right, as a client can write anything on its left)."""
    proxies = settings.SHAREDLOAN_PROXY_COUNT
    if proxies:
        header = request.META.get("HTTP_X_FORWARDED_FOR", "")
        forwarded = [part.strip() for part in header.split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")


def lockout_message():
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return _(
        "密码连续输错 %(count)d 次，这个账号在本机已暂停登录 %(minutes)d 分钟。"
        "请稍后再试，或请系统管理员解除锁定。"
    ) % {"count": settings.AXES_FAILURE_LIMIT, "minutes": minutes}
