from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.models import ApiToken
from accounts.tokens import api_token_create


class Command(BaseCommand):
    help = _(
        "为一个账号创建 API 令牌并打印令牌（只打印这一次）。"
        "与“API 令牌”页面相同：只读账号只能创建只读令牌。"
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help=_("账号的登录名。"))
        parser.add_argument("--name", default="", help=_("令牌名称，写明用在哪里。"))
        parser.add_argument("--read-only", action="store_true", help=_("只读令牌。"))

    def handle(self, *args, username, name, read_only, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("没有登录名为 %(username)s 的账号。") % {"username": username})
        kind = ApiToken.Kind.READ_ONLY if read_only else ApiToken.Kind.FULL
        try:
            token, secret = api_token_create(user=user, name=name or _("命令行创建"), kind=kind)
        except PermissionDenied:
            raise CommandError(
                _("账号 %(username)s 不能创建这种令牌。") % {"username": username}
            ) from None
        self.stderr.write(
            _("已为 %(username)s 创建令牌“%(name)s”（%(kind)s）：")
            % {"username": username, "name": token.name, "kind": token.get_kind_display()}
        )
        self.stdout.write(secret)
