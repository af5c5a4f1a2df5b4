from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.models import User
from collections_app.errors import Refused
from collections_app.models import Library, RotationPlan
from collections_app.services.rotation import Action, rotation_review, rotation_run
from jobs.models import Job
from jobs.services import job_start


class Command(BaseCommand):
    help = (
        "Review every active rotation plan: list what is due to move on and why (due, in "
        "demand so staying, over capacity, on loan so waiting). A dry run unless --execute, "
        "which creates the draft transfers. Volumes already on an open transfer count at its "
        "destination, so running it again before anything is received creates nothing new. "
        "For a scheduler, e.g. nightly."
    )

    def add_arguments(self, parser):
        parser.add_argument("--library", help="only this library code")
        parser.add_argument("--plan", type=int, help="only this plan id")
        parser.add_argument("--execute", action="store_true", help="create the transfers")
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="with --execute: hand the run to the background worker (db_worker); its "
            "progress and result are on the job",
        )
        parser.add_argument(
            "--user",
            help="username recorded as creator of the transfers (default: a librarian of the "
            "plan's library)",
        )

    def handle(
        self, *args, library=None, plan=None, execute=False, user=None, enqueue=False, **options
    ):
        plans = RotationPlan.objects.filter(is_active=True).select_related("library")
        if library:
            if not Library.objects.filter(code=library).exists():
                raise CommandError(_("没有代码为 %(code)s 的图书馆。") % {"code": library})
            plans = plans.filter(library__code=library)
        if enqueue and execute:
            job = job_start(
                kind=Job.Kind.ROTATION_RUN,
                library=Library.objects.filter(code=library).first() if library else None,
                user=User.objects.filter(username=user).first() if user else None,
            )
            self.stdout.write(_("已排队：任务 %(id)s。") % {"id": job.pk})
            return
        if plan:
            plans = plans.filter(pk=plan)
        moving = created = 0
        refused = 0
        for rotation_plan in plans.order_by("library__code", "name"):
            self.stdout.write(f"== {rotation_plan.library.name} · {rotation_plan.name}")
            if execute:
                # What is announced is what the run did, reviewed under the plan's lock.
                actor = self._actor(rotation_plan.library, user)
                try:
                    run = rotation_run(user=actor, plan=rotation_plan)
                except Refused as refusal:
                    self.stderr.write(str(refusal))
                    refused += 1
                    continue
                decisions, created = run.decisions, created + len(run.transfers)
            else:
                decisions = rotation_review(plan=rotation_plan)
            for decision in decisions:
                if decision.action == Action.NOT_DUE:
                    continue
                member = decision.member
                what = (
                    member.item.barcode
                    if member.item_id
                    else f"{member.box.code} ({len(decision.items)})"
                )
                target = decision.next_stop.site.name if decision.next_stop else "—"
                route = f"{member.stop.site.name} → {target}"
                self.stdout.write(f"{what}\t{route}\t{decision.label}\t{decision.reason}")
            moving += sum(len(d.items) for d in decisions if d.action == Action.MOVE)
        if execute:
            self.stdout.write(
                _("%(n)s 册图书，生成 %(t)s 张调拨单。") % {"n": moving, "t": created}
            )
            if refused:
                raise CommandError(_("%(n)s 个计划未能执行。") % {"n": refused})
        else:
            self.stdout.write(
                _("%(n)s 册图书到期待调（试运行，未生成调拨单；加 --execute 执行）。")
                % {"n": moving}
            )

    def _actor(self, library, username):
        users = User.objects.filter(is_active=True)
        if username:
            actor = users.filter(username=username).first()
        else:
            actor = users.filter(library=library, role=User.Role.LIBRARIAN).order_by("pk").first()
        if actor is None:
            raise CommandError(
                _("%(library)s 没有可记为创建人的馆员，请用 --user 指定。")
                % {"library": library.name}
            )
        return actor
