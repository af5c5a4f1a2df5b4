from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from circulation.demo.seed import EARLIEST_ANCHOR, seed_demo
from collections_app.models import Library


def _anchor(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(
            _("--today 需要 YYYY-MM-DD 格式的日期：%(value)s") % {"value": value}
        ) from error


class Command(BaseCommand):
    help = _(
        "写入随县案例的演示数据：国家图书馆、湖北省图书馆、随县图书馆（总馆、分馆、基层服务点）"
        "和曾都区图书馆，2021 年的共享借阅批次（随县 30000 册），读者，借阅规则，"
        "截至锚定日期前一天的一整年调拨与借阅，以及每个角色一个演示登录（密码 shared-loan-demo）。"
        "锚定日期默认为本地今天，可用 --today YYYY-MM-DD 指定；同一锚定日期总是得到完全相同的数据。"
        "已有演示数据时不重复写入，只补齐缺少的演示登录。"
        "DJANGO_ENV=production 时拒绝运行，除非加 --force。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--today",
            type=_anchor,
            help=_("锚定日期 YYYY-MM-DD（默认：本地今天）。模拟的一年在这一天之前结束。"),
        )
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help=_("数据量倍数，0 到 1 之间（默认 1）；测试用小倍数加快速度。"),
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help=_("数据库里已有图书馆时什么也不做（make run 用它，不往真实数据里混入演示数据）。"),
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help=_("在生产环境中也运行（会创建公开密码的演示登录）。"),
        )

    def handle(self, *args, today=None, scale=1.0, force=False, if_empty=False, **options):
        if settings.DJANGO_ENV == "production" and not force:
            raise CommandError(
                _("拒绝在生产环境写入演示数据：演示登录的密码是公开的。确需如此请加 --force。")
            )
        if if_empty and Library.objects.exists():
            self.stdout.write(_("数据库中已有数据，未写入演示数据。"))
            return
        if not 0 < scale <= 1:
            raise CommandError(_("--scale 必须大于 0 且不大于 1。"))
        anchor = today or timezone.localdate()
        if anchor < EARLIEST_ANCHOR:
            raise CommandError(
                _("锚定日期不能早于 %(date)s：图书 2021 年才到馆。") % {"date": EARLIEST_ANCHOR}
            )
        summary = seed_demo(today=anchor, scale=scale)
        # Readers' searches are counted by the reports app (collections and circulation do
        # not depend on it); the demo's year of them goes through the same counter.
        from reports.demand_demo import seed_demand

        searches = seed_demand(today=anchor)
        created = summary.created
        if created.get("items"):
            # The readers' side of the demo (self-service at one service point). Imported here,
            # at the command: readers builds on circulation, never the other way round.
            from readers.demo import seed_self_service

            seed_self_service()
        # The period reports last: their frozen figures count the demo's year, holds and all.
        from reports.period_demo import seed_period_reports

        reports = seed_period_reports(today=anchor)
        for name in summary.skipped:
            self.stdout.write(_("%(library)s的演示数据已存在，未重复写入。") % {"library": name})
        if not created.get("items"):
            self.stdout.write(
                _("未新建任何演示数据；新建演示登录 %(users)d 个。") % {"users": created["users"]}
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "演示数据已写入（锚定日期 %(anchor)s）：图书馆 %(libraries)d，站点 %(sites)d，"
                    "书目 %(titles)d，图书 %(items)d，读者 %(patrons)d，借阅 %(loans)d"
                    "（未还 %(open)d，其中逾期 %(overdue)d），调拨单 %(transfers)d"
                    "（在途图书 %(in_transit)d），流转记录 %(events)d，预约 %(holds)d，"
                    "工作报表 %(reports)d（已通过 %(accepted)d），演示登录 %(users)d，"
                    "未找到的读者检索 %(searches)d 次。"
                )
                % {
                    "anchor": anchor,
                    "libraries": created["libraries"],
                    "sites": created["sites"],
                    "titles": created["titles"],
                    "items": created["items"],
                    "patrons": created["patrons"],
                    "loans": created["loans"],
                    "open": summary.open_loans,
                    "overdue": summary.overdue,
                    "transfers": created["transfers"],
                    "in_transit": summary.in_transit,
                    "events": created["item events"],
                    "holds": created["holds"],
                    "reports": sum(reports.values()),
                    "accepted": reports.get("accepted", 0),
                    "users": created["users"],
                    "searches": searches,
                }
            )
        )
