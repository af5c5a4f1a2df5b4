import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from circulation.integrity import CHECKS, run_checks
from collections_app.models import Library


class Command(BaseCommand):
    help = gettext_lazy(
        "证明数据是自洽的：逐条检查设计文档中的不变量（图书状态与借阅、调拨、书箱、预约一致，"
        "借阅限额，流转记录，同一图书馆，空批次），每条一个集合查询。"
        "有任何一条不成立时列出最多十个示例 ID，并以退出码 1 结束。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--library",
            metavar="CODE",
            help=gettext_lazy("只检查这个图书馆（代码）的数据。"),
        )

    def handle(self, *args, library=None, **options):
        if library is not None and not Library.objects.filter(code=library).exists():
            raise CommandError(_("没有代码为“%(code)s”的图书馆。") % {"code": library})
        started = time.monotonic()
        results = run_checks(library)
        elapsed = time.monotonic() - started
        broken = [result for result in results if result.count]
        for result in results:
            if result.count:
                self.stdout.write(
                    _("✗ %(name)s：%(count)s — 示例：%(examples)s（%(description)s）")
                    % {
                        "name": result.name,
                        "count": result.count,
                        "examples": ", ".join(str(pk) for pk in result.examples),
                        "description": result.description,
                    }
                )
            else:
                self.stdout.write(
                    _("✓ %(name)s（%(description)s）")
                    % {"name": result.name, "description": result.description}
                )
        summary = {"checks": len(CHECKS), "broken": len(broken), "seconds": elapsed}
        if broken:
            self.stdout.write(
                _("共检查 %(checks)s 条不变量，%(broken)s 条不成立（%(seconds).2f 秒）。") % summary
            )
            raise CommandError(_("数据不一致：%(broken)s 条不变量不成立。") % summary, returncode=1)
        self.stdout.write(_("共检查 %(checks)s 条不变量，全部成立（%(seconds).2f 秒）。") % summary)
