"""Pages for receiving an NLC consignment: announce, import the manifest (preview, then commit),
scan the boxes in, sign off, export the missing and extra lists, print labels.

County librarians do everything for their own library; site staff scan in at the central library
when it is one of their sites; lenders and provincial reviewers read only (403 on POST); anything
outside a user's scope is 404.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.scope import (
    can_announce_consignment,
    can_manage_library,
    can_see_staff_names,
    can_work_at_site,
    get_scoped_or_404,
    is_site_bound,
    scoped,
)
from accounts.submissions import AlreadySubmitted, SubmissionKeyField, submitted_once
from collections_app import labels, receiving_selectors
from collections_app.barcodes import BarcodeListField
from collections_app.errors import Refused
from collections_app.exports import csv_response, xlsx_response
from collections_app.importing.limits import TooLarge, check_upload_size
from collections_app.importing.marc import HOLDINGS_CHOICES
from collections_app.importing.tabular import COLUMNS, EXAMPLE_ROWS
from collections_app.jobs import label_items
from collections_app.models import Consignment, Item, Library
from collections_app.services.receiving import (
    central_site,
    consignment_announce,
    consignment_scan,
    consignment_sign_off,
    consignment_start_receiving,
    receipt_counts,
)
from jobs.models import Job
from jobs.services import job_start, store_file, stored_file_spend
from sharedloan.negotiation import wants_json

# Scope helpers ----------------------------------------------------------------------------


def _get_consignment(request, pk) -> Consignment:
    return get_scoped_or_404(
        Consignment.objects.select_related("library", "lender", "signed_off_by"),
        request.user,
        pk=pk,
    )


def _get_consignment_volumes(request, pk) -> Consignment:
    """A consignment whose volumes a page lists: site staff only where they receive (the central
    library is one of their sites); anyone else in scope as for the consignment itself."""
    consignment = _get_consignment(request, pk)
    if not _can_see_volumes(request.user, consignment):
        raise Http404
    return consignment


def _can_see_volumes(user, consignment) -> bool:
    """Whether the scan and sign-off pages open for this user; the detail page links to them
    only then."""
    return not is_site_bound(user) or _can_scan(user, consignment)


def _require_manager(request, consignment) -> None:
    if not can_manage_library(request.user, consignment.library):
        raise PermissionDenied


def _central_or_none(consignment):
    try:
        return central_site(consignment.library)
    except Refused:
        return None


def _can_scan(user, consignment) -> bool:
    site = _central_or_none(consignment)
    return site is not None and can_work_at_site(user, site)


# Forms ------------------------------------------------------------------------------------

MAX_LISTED_LABELS = 2000
# Up to this many volumes a label PDF is answered at once; more go to a background job.
INLINE_LABELS = 200


class AnnounceForm(forms.Form):
    library = forms.ModelChoiceField(
        label=gettext_lazy("接收馆"), queryset=Library.objects.none(), required=False
    )
    lender = forms.ModelChoiceField(
        label=gettext_lazy("出借馆"), queryset=Library.objects.filter(kind=Library.Kind.NATIONAL)
    )
    reference = forms.CharField(
        label=gettext_lazy("批次号"), max_length=50, help_text=gettext_lazy("国图来函中的批次号。")
    )
    agreement_date = forms.DateField(
        label=gettext_lazy("协议日期"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    term_ends_on = forms.DateField(
        label=gettext_lazy("期满日期"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    expected_count = forms.IntegerField(
        label=gettext_lazy("应到册数"),
        min_value=0,
        required=False,
        help_text=gettext_lazy("留空则按导入的清单计算。"),
    )
    note = forms.CharField(
        label=gettext_lazy("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    submission = SubmissionKeyField()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        lenders = self.fields["lender"].queryset
        if lenders.count() == 1:
            self.fields["lender"].initial = lenders.get()
        if user.is_superuser:
            self.fields["library"].queryset = Library.objects.filter(kind=Library.Kind.COUNTY)
            self.fields["library"].required = True
        else:
            del self.fields["library"]

    def receiving_library(self):
        return self.cleaned_data.get("library") or self.user.library


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("清单文件"),
        help_text=gettext_lazy("CSV、XLSX、ISO 2709 MARC（.iso/.mrc）或 MARCXML；格式按内容识别。"),
    )
    encoding = forms.ChoiceField(
        label=gettext_lazy("文字编码"),
        required=False,
        choices=[
            ("", gettext_lazy("自动识别")),
            ("utf-8", "UTF-8"),
            ("gb18030", "GB18030 / GBK"),
            ("marc-8", "MARC-8"),
        ],
    )
    holdings = forms.CharField(
        label=gettext_lazy("MARC 馆藏条码字段"),
        required=False,
        max_length=8,
        help_text=gettext_lazy("留空则 CNMARC 依次尝试 906$b、995$f，MARC21 用 952$p。"),
        widget=forms.TextInput(attrs={"placeholder": "906$b", "list": "holdings-fields"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            check_upload_size(upload.size)
        except TooLarge as error:
            raise forms.ValidationError(str(error)) from None
        return upload

    def clean_holdings(self):
        from collections_app.importing.marc import parse_holdings

        value = self.cleaned_data["holdings"]
        try:
            parse_holdings(value)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None
        return value


class LabelForm(forms.Form):
    KINDS = [
        ("both", gettext_lazy("条码标签和书脊标签")),
        ("barcode", gettext_lazy("只印条码标签")),
        ("spine", gettext_lazy("只印书脊标签")),
    ]
    STATUSES = [
        ("", gettext_lazy("本批全部图书")),
        ("expected", gettext_lazy("待验收")),
        ("available", gettext_lazy("在架")),
    ]
    kind = forms.ChoiceField(label=gettext_lazy("标签"), choices=KINDS, initial="both")
    status = forms.ChoiceField(label=gettext_lazy("图书"), choices=STATUSES, required=False)
    barcodes = BarcodeListField(
        label=gettext_lazy("指定条码"),
        required=False,
        limit=MAX_LISTED_LABELS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("每行一个；留空则按上面的范围。"),
    )
    columns = forms.IntegerField(
        label=gettext_lazy("每行标签数"), min_value=1, max_value=6, initial=3
    )
    rows = forms.IntegerField(
        label=gettext_lazy("每列标签数"), min_value=1, max_value=20, initial=8
    )
    skip = forms.IntegerField(
        label=gettext_lazy("跳过前几个标签"),
        min_value=0,
        max_value=119,
        initial=0,
        required=False,
        help_text=gettext_lazy("接着打印用过一部分的标签纸。"),
    )


# Pages ------------------------------------------------------------------------------------


@login_required
def consignment_list(request):
    consignments = scoped(Consignment.objects.all(), request.user).select_related(
        "library", "lender"
    )
    page = Paginator(consignments, 50).get_page(request.GET.get("page"))
    user = request.user
    ctx = {"page": page, "can_announce": can_announce_consignment(user)}
    return render(request, "collections_app/receiving/consignment_list.html", ctx)


@login_required
def consignment_announce_view(request):
    user = request.user
    if not can_announce_consignment(user):
        raise PermissionDenied
    form = AnnounceForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with submitted_once(
                user,
                data["submission"],
                "consignment",
                fallback=reverse("collections:consignment-list"),
            ) as claim:
                consignment = consignment_announce(
                    user=user,
                    library=form.receiving_library(),
                    lender=data["lender"],
                    reference=data["reference"],
                    agreement_date=data["agreement_date"],
                    term_ends_on=data["term_ends_on"],
                    expected_count=data["expected_count"] or 0,
                    note=data["note"],
                )
                claim.done(reverse("collections:consignment-detail", args=[consignment.pk]))
        except AlreadySubmitted as first:
            messages.info(request, first.message)
            return redirect(first.url)
        except Refused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("已登记批次 %(ref)s。") % {"ref": consignment.reference})
            return redirect("collections:consignment-detail", consignment.pk)
    return render(request, "collections_app/receiving/consignment_announce.html", {"form": form})


@login_required
def consignment_detail(request, pk):
    consignment = _get_consignment(request, pk)
    ctx = {
        "consignment": consignment,
        "can_manage": can_manage_library(request.user, consignment.library),
        "can_scan": _can_scan(request.user, consignment),
        "can_see_volumes": _can_see_volumes(request.user, consignment),
        "counts": receiving_selectors.reconciliation(consignment),
        "imports": consignment.imports.select_related("created_by"),
        "import_form": ImportForm(),
        "shows_staff": can_see_staff_names(request.user, consignment.library),
    }
    return render(request, "collections_app/receiving/consignment_detail.html", ctx)


def _get_preview_job(request, consignment, pk) -> Job:
    """A manifest check this user started for this consignment; 404 for any other job."""
    return get_object_or_404(
        Job.objects.select_related("input").defer("input__data"),
        pk=pk,
        kind=Job.Kind.MANIFEST_PREVIEW,
        created_by=request.user,
        params__consignment=consignment.pk,
    )


def _import_context(consignment, job=None, form=None):
    preview = job.result if job is not None and job.status == Job.Status.SUCCEEDED else None
    return {
        "consignment": consignment,
        "job": job,
        "result": preview,
        "manifest": preview["manifest"] if preview else None,
        "by_clc": preview["by_clc"] if preview else [],
        "form": form or ImportForm(),
        "token": str(job.pk) if preview and preview.get("committable") else "",
        "columns": [(header, note, aliases) for header, note, aliases in COLUMNS.values()],
        "holdings_choices": HOLDINGS_CHOICES,
    }


@login_required
def consignment_import_view(request, pk):
    """GET: the upload form and the accepted columns, or with `?preview=` the check of an
    uploaded file (its progress while it runs). POST: stage the file in the database and start
    the check as a background job; the file waits there for the commit, so any web server can
    take the commit."""
    consignment = _get_consignment(request, pk)
    # Only those who may import see the form: a volunteer used to get it and a 403 on sending.
    _require_manager(request, consignment)
    template = "collections_app/receiving/import.html"
    if request.method != "POST":
        job = None
        if request.GET.get("preview"):
            try:
                job = _get_preview_job(request, consignment, request.GET["preview"])
            except ValidationError:
                raise Http404 from None
        return render(request, template, _import_context(consignment, job))
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, template, _import_context(consignment, None, form), status=400)
    upload = form.cleaned_data["file"]
    staged = store_file(
        data=upload.read(),
        name=upload.name or "manifest",
        library=consignment.library,
        user=request.user,
    )
    job = job_start(
        kind=Job.Kind.MANIFEST_PREVIEW,
        user=request.user,
        library=consignment.library,
        input=staged,
        params={
            "consignment": consignment.pk,
            "encoding": form.cleaned_data["encoding"],
            "holdings": form.cleaned_data["holdings"],
        },
    )
    url = reverse("collections:consignment-import", args=[consignment.pk])
    return redirect(f"{url}?preview={job.pk}")


@login_required
@require_POST
def consignment_import_commit(request, pk):
    """Start the import of a checked file; the job page follows it to the end."""
    consignment = _get_consignment(request, pk)
    _require_manager(request, consignment)
    expired = _("预览已过期，请重新上传清单文件。")
    try:
        preview = _get_preview_job(request, consignment, request.POST.get("token", ""))
    except (Http404, ValidationError):
        preview = None
    staged = preview.input if preview is not None else None
    if (
        staged is None
        or preview.status != Job.Status.SUCCEEDED
        or not preview.result.get("committable")
        or not stored_file_spend(stored=staged)
    ):
        messages.error(request, expired)
        return redirect("collections:consignment-import", consignment.pk)
    job = job_start(
        kind=Job.Kind.MANIFEST_COMMIT,
        user=request.user,
        library=consignment.library,
        input=staged,
        params=preview.params,
    )
    if job.status == Job.Status.SUCCEEDED:
        messages.success(request, job.result.get("message", ""))
        return redirect("collections:consignment-detail", consignment.pk)
    return redirect("jobs:job-detail", job.pk)


@login_required
@require_POST
def consignment_start(request, pk):
    consignment = _get_consignment(request, pk)
    _require_manager(request, consignment)
    try:
        consignment_start_receiving(user=request.user, consignment=consignment)
    except Refused as refused:
        messages.error(request, refused.message)
        return redirect("collections:consignment-detail", consignment.pk)
    return redirect("collections:consignment-scan", consignment.pk)


@login_required
def consignment_scan_view(request, pk):
    """The scanning desk. A keyboard-wedge scanner types the barcode and Enter; with JavaScript
    each scan is answered as JSON and the page keeps its focus, without it the page reloads."""
    consignment = _get_consignment_volumes(request, pk)
    last = None
    if request.method == "POST":
        if not _can_scan(request.user, consignment):
            raise PermissionDenied
        try:
            last = consignment_scan(
                user=request.user,
                consignment=consignment,
                barcode=request.POST.get("barcode", "")[:200],
                damaged=request.POST.get("damaged") == "on",
            )
        except Refused as refused:
            if wants_json(request):
                return JsonResponse({"error": str(refused.message)}, status=409)
            messages.error(request, refused.message)
        else:
            if wants_json(request):
                return JsonResponse(last.as_json())
    ctx = {
        "consignment": consignment,
        "can_scan": _can_scan(request.user, consignment),
        "can_manage": can_manage_library(request.user, consignment.library),
        "counts": receipt_counts(consignment),
        "recent": receiving_selectors.recent_scans(consignment),
        "last": last,
    }
    return render(request, "collections_app/receiving/scan.html", ctx)


@login_required
def consignment_sign_off_view(request, pk):
    consignment = _get_consignment_volumes(request, pk)
    if request.method == "POST":
        _require_manager(request, consignment)
        try:
            signed = consignment_sign_off(user=request.user, consignment=consignment)
        except Refused as refused:
            messages.error(request, refused.message)
        else:
            messages.success(
                request,
                _("批次 %(ref)s 已签收，%(missing)s 册记为缺失，图书已在总馆上架可借。")
                % {"ref": signed.consignment.reference, "missing": signed.missing},
            )
        return redirect("collections:consignment-sign-off", consignment.pk)
    missing = receiving_selectors.missing_items(consignment)
    ctx = {
        "consignment": consignment,
        "can_manage": can_manage_library(request.user, consignment.library),
        "counts": receiving_selectors.reconciliation(consignment),
        "missing": missing[:200],
        "extra": receiving_selectors.extra_scans(consignment)[:200],
        "shows_staff": can_see_staff_names(request.user, consignment.library),
    }
    return render(request, "collections_app/receiving/sign_off.html", ctx)


EXPORTS = {
    "missing": (
        receiving_selectors.MISSING_HEADERS,
        receiving_selectors.missing_rows,
        gettext_lazy("缺失清单"),
    ),
    "extra": (
        receiving_selectors.EXTRA_HEADERS,
        receiving_selectors.extra_rows,
        gettext_lazy("清单外图书"),
    ),
}


@login_required
def consignment_export(request, pk, which, fmt):
    consignment = _get_consignment_volumes(request, pk)
    if which not in EXPORTS or fmt not in ("csv", "xlsx"):
        raise Http404
    headers, rows, sheet = EXPORTS[which]
    name = f"{consignment.reference}-{which}.{fmt}"
    if fmt == "csv":
        return csv_response(name, headers, rows(consignment))
    return xlsx_response(name, [(sheet, headers, rows(consignment))])


@login_required
def manifest_template(request, fmt):
    headers = [header for header, _note, _aliases in COLUMNS.values()]
    if fmt == "csv":
        return csv_response("manifest-template.csv", headers, EXAMPLE_ROWS)
    if fmt == "xlsx":
        return xlsx_response("manifest-template.xlsx", [(_("清单"), headers, EXAMPLE_ROWS)])
    raise Http404


def _check_listed(form, listed, found: set[str]) -> None:
    """Every pasted line that is not a barcode of this consignment, with its line number."""
    wrong = [
        _("第 %(line)s 行：%(code)s 条码格式不符") % {"line": bad.line, "code": bad.code}
        for bad in listed.invalid
    ] + [
        _("第 %(line)s 行：%(code)s 不是本批次的图书") % {"line": entry.line, "code": entry.code}
        for entry in listed.codes
        if entry.code not in found
    ]
    for message in wrong[:20]:
        form.add_error("barcodes", message)


@login_required
def consignment_labels(request, pk):
    """The label form. Sent (POST), the PDF is made by a background job whose page offers the
    download; a small selection asked for by `?print=` in the address comes back at once."""
    consignment = _get_consignment(request, pk)
    data_in = request.POST if request.method == "POST" else request.GET
    form = LabelForm(data_in if request.method == "POST" or "print" in request.GET else None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        listed = data["barcodes"]
        codes = listed.values
        if codes or listed.invalid:
            items = label_items(consignment, request.user, barcodes=codes or [""])
            _check_listed(form, listed, set(items.values_list("barcode", flat=True)))
        else:
            items = label_items(consignment, request.user, status=data["status"])
        count = items.count()
        if not count:
            form.add_error(None, _("没有符合条件的图书。"))
        elif count > labels.MAX_LABELS:
            form.add_error(
                None,
                _("一次最多打印 %(max)s 册的标签，这次选了 %(n)s 册；请用“指定条码”分批打印。")
                % {"max": labels.MAX_LABELS, "n": count},
            )
        elif request.method != "POST" and count > INLINE_LABELS:
            form.add_error(None, _("图书较多，请按“生成 PDF”在后台生成。"))
        layout = {
            "columns": data["columns"],
            "rows": data["rows"],
            "kind": data["kind"],
            "skip": data["skip"] or 0,
        }
        if not form.errors and request.method == "POST":
            job = job_start(
                kind=Job.Kind.LABELS,
                user=request.user,
                library=consignment.library,
                params={
                    "consignment": consignment.pk,
                    "barcodes": codes,
                    "status": data["status"],
                    "layout": layout,
                },
            )
            return redirect("jobs:job-detail", job.pk)
        if not form.errors:
            pdf = labels.labels_pdf(items.order_by("barcode"), layout=labels.Layout(**layout))
            response = HttpResponse(pdf, content_type="application/pdf")
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
            response["Content-Disposition"] = content_disposition_header(
                False, f"labels-{consignment.reference}-{stamp}.pdf"
            )
            return response
    ctx = {"consignment": consignment, "form": form, "statuses": Item.Status}
    return render(request, "collections_app/receiving/labels.html", ctx)
