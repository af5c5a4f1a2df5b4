from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from jobs.models import Job
from jobs.services import job_start, jobs_cleanup


class Command(BaseCommand):
    help = _(
        "删除过期的暂存清单和任务输出文件、JOB_KEEP_DAYS 天前结束的任务，"
        "并把中断的任务重新排队。每天运行；--enqueue 交给后台工作进程。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--enqueue", action="store_true", help=_("交给后台工作进程运行。"))

    def handle(self, *args, enqueue=False, **options):
        if enqueue:
            job = job_start(kind=Job.Kind.CLEANUP)
            self.stdout.write(_("已排队：任务 %(id)s。") % {"id": job.pk})
            return
        counts = jobs_cleanup()
        self.stdout.write(
            _("删除过期文件 %(files)s 个、旧任务 %(jobs)s 个；重新排队 %(requeued)s 个中断的任务。")
            % counts
        )
