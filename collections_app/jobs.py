"""Background jobs of the collections: checking and importing a manifest, printing labels,
running the rotation plans. Each calls the same service as the page or command did before; the
job only adds progress and keeps the result (see jobs/services.py)."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.scope import scoped
from collections_app import labels as label_sheets
from collections_app.errors import Refused
from collections_app.importing import ImportOptions
from collections_app.models import Consignment, RotationPlan, clc_top_names
from collections_app.services.receiving import consignment_import
from jobs.services import job_attach_output

SAMPLE_SIZE = 20


def _consignment(job) -> Consignment:
    return Consignment.objects.select_related("library").get(pk=job.params["consignment"])


def _options(job) -> ImportOptions:
    return ImportOptions(
        encoding=job.params.get("encoding", ""), holdings=job.params.get("holdings", "")
    )


def _problem(problem) -> dict:
    return {
        "where": str(problem.where),
        "field": str(problem.field),
        "value": str(problem.value),
        "message": str(problem.message),
    }


def preview_of(result) -> dict:
    """What the preview page shows, kept as JSON so that any web server can show it."""
    manifest = result.manifest
    titles = getattr(manifest, "sample", None)
    sample = [
        {
            "where": str(title.where),
            "title": title.title,
            "responsibility": title.responsibility,
            "publisher": title.publisher,
            "suspect": str(getattr(title, "suspect", "")),
            "copies": [{"barcode": copy.barcode} for copy in title.copies],
        }
        for title in (manifest.titles[:SAMPLE_SIZE] if titles is None else titles)
    ]
    suspect = [{"where": str(t.where)} for t in getattr(manifest, "suspect_titles", [])]
    return {
        "summary": str(result.summary()),
        "has_errors": bool(result.has_errors),
        "already_imported": bool(result.already_imported),
        "sha256": result.sha256,
        "manifest": {
            "format_label": str(manifest.format_label),
            "encoding": manifest.encoding,
            "title_count": manifest.title_count,
            "item_count": manifest.item_count,
            "awaiting_count": manifest.awaiting_count,
            "errors": [_problem(problem) for problem in manifest.errors],
            "warnings": [_problem(problem) for problem in manifest.warnings],
            "sample": sample,
            "suspect_titles": suspect,
        },
        "by_clc": [
            {key: str(value) if key in ("code", "name") else value for key, value in row.items()}
            for row in manifest.by_clc_class(clc_top_names())
        ],
    }


def manifest_preview(job, progress) -> dict:
    """A dry run of the import on the staged file."""
    consignment = _consignment(job)
    progress.start(2, _("读取并检查清单文件……"))
    result = consignment_import(
        user=job.created_by,
        consignment=consignment,
        data=bytes(job.input.data),
        filename=job.input.name,
        options=_options(job),
        dry_run=True,
    )
    progress.set(1, _("整理预览……"))
    preview = preview_of(result)
    preview["committable"] = not result.has_errors and not result.already_imported
    preview["message"] = preview["summary"]
    preview["url"] = reverse("collections:consignment-import", args=[consignment.pk])
    return preview


def manifest_commit(job, progress) -> dict:
    """The import itself, all or nothing, from the file the preview checked."""
    consignment = _consignment(job)
    url = reverse("collections:consignment-detail", args=[consignment.pk])
    job.result = {"url": url}
    progress.start(1, _("写入图书记录……"))
    result = consignment_import(
        user=job.created_by,
        consignment=consignment,
        data=bytes(job.input.data),
        filename=job.input.name,
        options=_options(job),
    )
    return {"message": str(result.summary()), "url": url, "items": result.manifest.item_count}


def label_items(consignment, user, *, barcodes=(), status=""):
    """The volumes a label run prints: those of the consignment the user may see, the listed
    barcodes or those of one status."""
    items = scoped(consignment.items.all(), user)
    if barcodes:
        return items.filter(barcode__in=barcodes)
    if status:
        return items.filter(status=status)
    return items


def labels(job, progress) -> dict:
    consignment = _consignment(job)
    items = label_items(
        consignment,
        job.created_by,
        barcodes=job.params.get("barcodes", []),
        status=job.params.get("status", ""),
    )
    items = items.order_by("barcode")
    total = items.count()
    progress.start(total, _("绘制标签……"))
    layout = label_sheets.Layout(**job.params["layout"])
    pdf = label_sheets.labels_pdf(
        items, layout=layout, progress=lambda done: progress.set(done, _("绘制标签……"))
    )
    progress.set(total, _("写入 PDF……"))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    job_attach_output(
        job,
        data=pdf,
        name=f"labels-{consignment.reference}-{stamp}.pdf",
        content_type="application/pdf",
    )
    return {
        "message": _("已生成 %(n)s 册图书的标签。") % {"n": total},
        "url": reverse("collections:consignment-labels", args=[consignment.pk]),
    }


def rotation_run(job, progress) -> dict:
    """Every active rotation plan (of one library when the job names it), as
    `run_rotation --execute` does."""
    from collections_app.services.rotation import rotation_run as run_plan

    plans = RotationPlan.objects.filter(is_active=True).select_related("library")
    if job.library_id:
        plans = plans.filter(library_id=job.library_id)
    plans = list(plans.order_by("library__code", "name"))
    progress.start(len(plans), _("轮换计划……"))
    created, refused = 0, []
    for plan in plans:
        actor = job.created_by or (
            User.objects.filter(is_active=True, library=plan.library, role=User.Role.LIBRARIAN)
            .order_by("pk")
            .first()
        )
        if actor is None:
            refused.append(
                _("%(plan)s：%(library)s 没有可记为创建人的馆员。")
                % {"plan": plan.name, "library": plan.library.name}
            )
        else:
            try:
                created += len(run_plan(user=actor, plan=plan).transfers)
            except Refused as refusal:
                refused.append(f"{plan.name}：{refusal.message}")
        progress.advance(1, plan.name)
    if refused:
        raise Refused(_("%(n)s 个计划未能执行。") % {"n": len(refused)}, refused)
    return {
        "message": _("%(p)s 个轮换计划，生成 %(t)s 张调拨单。") % {"p": len(plans), "t": created},
    }
