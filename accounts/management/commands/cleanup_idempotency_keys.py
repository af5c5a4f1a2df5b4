from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from sharedloan.idempotency import idempotent_requests_cleanup


class Command(BaseCommand):
    help = _("删除保存超过 24 小时的 API 幂等请求的应答。每天运行。")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help=_("只统计要删除多少，不删除。"))

    def handle(self, *args, dry_run=False, **options):
        count = idempotent_requests_cleanup(dry_run=dry_run)
        message = (
            _("将删除 %(count)s 个过期的幂等请求。")
            if dry_run
            else _("已删除 %(count)s 个过期的幂等请求。")
        )
        self.stdout.write(message % {"count": count})
