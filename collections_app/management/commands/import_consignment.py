"""python manage.py import_consignment FILE --library CODE --consignment REF [--dry-run]"""

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from collections_app.errors import Refused
from collections_app.importing import ImportOptions
from collections_app.importing.limits import TooLarge, check_upload_size
from collections_app.models import Consignment, Library
from collections_app.services.receiving import consignment_announce, consignment_import


class Command(BaseCommand):
    help = (
        "导入共享借阅批次清单（CSV、XLSX、ISO 2709 MARC 或 MARCXML）。批次不存在时为该馆新建，"
        "出借馆为国家图书馆。有任何错误时不写入任何记录，并以非零状态退出。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="清单文件")
        parser.add_argument("--library", required=True, help="接收馆代码，例如 SUIXIAN")
        parser.add_argument("--consignment", required=True, help="批次号")
        parser.add_argument("--dry-run", action="store_true", help="只检查并预览，不写入")
        parser.add_argument("--lender", default="", help="出借馆代码；默认唯一的国家图书馆")
        parser.add_argument("--holdings", default="", help="MARC 馆藏条码字段，例如 906$b、995$f")
        parser.add_argument("--encoding", default="", help="强制编码：utf-8、gb18030、gbk")
        parser.add_argument(
            "--agreement-date", type=date.fromisoformat, default=None, help="新建批次的协议日期"
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"找不到文件 {path}")
        try:
            check_upload_size(path.stat().st_size)
        except TooLarge as error:
            raise CommandError(str(error)) from None
        library = Library.objects.filter(code=options["library"]).first()
        if library is None:
            raise CommandError(f"没有代码为 {options['library']} 的图书馆")
        data = path.read_bytes()
        # All or nothing: a consignment created for this file goes too when its import fails.
        with transaction.atomic():
            consignment, created = self._consignment(library, options)
            try:
                result = consignment_import(
                    user=None,
                    consignment=consignment,
                    data=data,
                    filename=path.name,
                    options=ImportOptions(
                        encoding=options["encoding"], holdings=options["holdings"]
                    ),
                    dry_run=options["dry_run"],
                )
            except Refused as refused:
                for problem in refused.problems:
                    self.stderr.write(f"{problem.where}：{problem.message}")
                raise CommandError(refused.message) from None
            manifest = result.manifest
            for problem in manifest.warnings:
                self.stdout.write(f"提示：{problem}")
            for problem in manifest.errors:
                self.stderr.write(str(problem))
            if result.has_errors:
                raise CommandError(result.summary())
        if created:
            self.stdout.write(f"已为{library}新建批次 {consignment.reference}")
        self.stdout.write(result.summary())

    def _consignment(self, library, options):
        consignment = Consignment.objects.filter(
            library=library, reference=options["consignment"]
        ).first()
        if consignment is not None:
            return consignment, False
        lenders = Library.objects.filter(kind=Library.Kind.NATIONAL)
        if options["lender"]:
            lenders = lenders.filter(code=options["lender"])
        if lenders.count() != 1:
            raise CommandError("请用 --lender 指定出借馆（国家图书馆）的代码")
        if options["dry_run"]:
            # A dry run writes nothing, not even the consignment: check against an unsaved one.
            consignment = Consignment(
                library=library, lender=lenders.get(), reference=options["consignment"]
            )
            return consignment, False
        try:
            consignment = consignment_announce(
                user=None,
                library=library,
                lender=lenders.get(),
                reference=options["consignment"],
                agreement_date=options["agreement_date"] or date.today(),
            )
        except Refused as refused:
            raise CommandError(refused.message) from None
        return consignment, True
