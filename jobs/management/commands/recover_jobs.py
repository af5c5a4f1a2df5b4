from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from jobs.services import jobs_recover


class Command(BaseCommand):
    help = _(
        "把工作进程中断（心跳超过 JOB_STALE_SECONDS 秒）的后台任务重新排队；"
        "已中断 JOB_MAX_ATTEMPTS 次的记为失败并写明原因。工作进程启动前运行。"
    )

    def handle(self, *args, **options):
        counts = jobs_recover()
        self.stdout.write(_("重新排队 %(requeued)s 个任务，记为失败 %(failed)s 个。") % counts)
