"""SOP steps 6-15: the team's report and its verify/revise/approve chain."""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.access import record_access
from core.models import AccessLog
from core.params import int_param
from core.views import paginate, refusals_to_messages
from lokus import permissions as lokus_permissions
from lokus import selectors as lokus_selectors
from lokus.models import BeritaAcara, Lokus
from reports import documents, permissions, selectors, services
from reports.forms import DownloadFilterForm, ExcuseForm, NoteForm, ReportFilterForm, ReportForm, VerificationForm
from reports.models import ActivityReport, DocumentDownload, DocumentKind

# What a printed verification code can look like (lokus.codes: "7KQ4-XM2P-RT").
VERIFICATION_CODE = re.compile(r"[0-9A-Z-]{1,16}")


def _visible(user, pk: int) -> ActivityReport:
    """The report, fetched through what the user may read (404 for anything else)."""
    return get_object_or_404(permissions.reports_for(user).select_related("lokus__plan", "lokus__sub_division"), pk=pk)


@login_required
@require_GET
def report_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not permissions.may_list_reports(user):
        raise PermissionDenied
    filters = ReportFilterForm(request.GET)
    page = paginate(request, filters.rows(user))
    # Only the page's rows are marked (due time, whose turn): the list costs the same few
    # queries however many reports there are.
    rows = lokus_selectors.labelled(selectors.mark_rows(user, page.object_list), "state")
    page.object_list = lokus_selectors.linked(rows, "reports:detail")
    return render(request, "reports/list.html", {"page": page, "filters": filters})


@login_required
@require_POST
@refusals_to_messages("lokus:detail")
def report_start(request: HttpRequest, pk: int) -> HttpResponse:
    lokus = get_object_or_404(lokus_permissions.lokus_for(request.user), pk=pk)
    try:
        report = services.report_start(user=request.user, lokus_id=lokus.pk)
    except services.ReportAlreadyStarted as refusal:  # a second tab: go to the report
        messages.error(request, refusal.message)
        return redirect("reports:detail", refusal.report_id)
    messages.success(request, _("The report was started from the lokus and the field notes. Complete it."))
    return redirect("reports:edit", report.pk)


@login_required
@require_GET
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = _visible(request.user, pk)
    record_access(request, AccessLog.Kind.REPORT, report.lokus_id, report.pk, report.classification)
    context = selectors.report_page(request.user, report)
    return render(request, "reports/detail.html", {**context, "excuse_form": ExcuseForm()})


@login_required
@require_http_methods(["GET", "POST"])
@refusals_to_messages("reports:detail")
def report_edit(request: HttpRequest, pk: int) -> HttpResponse:
    report = _visible(request.user, pk)
    services.ensure_step_open(request.user, report, permissions.EDIT)
    form = ReportForm(request.POST or None, instance=report)
    if request.method == "POST" and form.is_valid():
        services.report_save(
            user=request.user,
            report_id=report.pk,
            data={field: form.cleaned_data[field] for field in form.Meta.fields},
            media_ids=[m.pk for m in form.cleaned_data["media"]],
        )
        messages.success(request, _("Saved."))
        return redirect("reports:detail", report.pk)
    return render(request, "reports/edit.html", {"form": form, "report": report, "lokus": report.lokus})


@login_required
@require_POST
@refusals_to_messages("reports:detail")
def report_excuse(request: HttpRequest, pk: int) -> HttpResponse:
    report = _visible(request.user, pk)
    form = ExcuseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason the member is excused."))
        return redirect("reports:detail", report.pk)
    if not report.lokus.assignments.filter(pk=form.cleaned_data["assignment"]).exists():
        raise Http404  # not an officer of this team (a tampered form): never a server error
    services.report_excuse(
        user=request.user,
        report_id=report.pk,
        assignment_id=form.cleaned_data["assignment"],
        reason=form.cleaned_data["reason"],
    )
    messages.success(request, _("The member is excused."))
    return redirect("reports:detail", report.pk)


def _simple_action(service, success):
    @login_required
    @require_POST
    @refusals_to_messages("reports:detail")
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        report = _visible(request.user, pk)
        service(user=request.user, report_id=report.pk)
        messages.success(request, success)
        return redirect("reports:detail", report.pk)

    return view


report_submit = _simple_action(services.report_submit, gettext_lazy("The report was sent to the Kasubbid."))
report_receive = _simple_action(services.report_receive, gettext_lazy("Received. Verify it next."))
report_forward = _simple_action(services.report_forward, gettext_lazy("Forwarded to the next level."))
report_approve = _simple_action(services.report_approve, gettext_lazy("Approved. The report is final."))


@login_required
@require_http_methods(["GET", "POST"])
@refusals_to_messages("reports:detail")
def report_verify(request: HttpRequest, pk: int) -> HttpResponse:
    report = _visible(request.user, pk)
    services.ensure_step_open(request.user, report, "verify")
    form = VerificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        checks = form.cleaned_data
        services.report_verify(user=request.user, report_id=report.pk, checks=checks, notes=checks["notes"])
        messages.success(request, _("Verification recorded. Now forward the report or return it for revision."))
        return redirect("reports:detail", report.pk)
    return render(request, "reports/verify.html", {"form": form, "report": report, "lokus": report.lokus})


def _note_view(service, transition_name, title, success):
    @login_required
    @require_http_methods(["GET", "POST"])
    @refusals_to_messages("reports:detail")
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        report = _visible(request.user, pk)
        services.ensure_step_open(request.user, report, transition_name)
        form = NoteForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            service(user=request.user, report_id=report.pk, note=form.cleaned_data["note"])
            messages.success(request, success)
            return redirect("reports:detail", report.pk)
        return render(request, "reports/note.html", {"form": form, "report": report, "title": title})

    return view


report_return = _note_view(
    services.report_return,
    "return_for_revision",
    gettext_lazy("Return for revision"),
    gettext_lazy("The report was returned one level down with your note."),
)
report_pass_down = _note_view(
    services.report_pass_down,
    "pass_down",
    gettext_lazy("Pass further down for revision"),
    gettext_lazy("The report was passed further down with your note."),
)


@login_required
@require_GET
def report_versions(request: HttpRequest, pk: int) -> HttpResponse:
    report = _visible(request.user, pk)
    versions = list(selectors.versions(report))
    by_number = {v.number: v for v in versions}

    def pick(name, default):
        return by_number.get(int_param(request.GET, name), default)

    newer = pick("b", versions[-1] if versions else None)
    older = pick("a", versions[-2] if len(versions) > 1 else newer)
    if older and newer and older.number > newer.number:
        older, newer = newer, older
    return render(
        request,
        "reports/versions.html",
        {
            "report": report,
            "versions": versions,
            "older": older,
            "newer": newer,
            "rows": selectors.version_diff(report, older, newer) if older and newer else [],
            "notes": selectors.return_notes_between(report, older, newer) if older and newer else [],
        },
    )


# Official documents ---------------------------------------------------------------------------


def _pdf_response(request, document, lokus, object_id, classification) -> HttpResponse:
    record_access(request, AccessLog.Kind.DOCUMENT, lokus.pk, object_id, classification)
    response = HttpResponse(document.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{document.filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def surat_tugas_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    lokus = get_object_or_404(lokus_permissions.lokus_for(request.user).select_related("plan", "dispatched_by"), pk=pk)
    if lokus.dispatched_at is None:
        raise Http404  # a Surat Tugas exists only once the team is dispatched
    document = documents.surat_tugas(lokus, request.user, request=request)
    return _pdf_response(request, document, lokus, lokus.pk, lokus.classification)


@login_required
@require_GET
def berita_acara_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(
        BeritaAcara.objects.filter(lokus__in=lokus_permissions.lokus_for(request.user)).select_related(
            "lokus__plan", "author"
        ),
        pk=pk,
    )
    lokus = record.lokus
    return _pdf_response(request, documents.berita_acara(record, request.user), lokus, record.pk, lokus.classification)


@login_required
@require_GET
def report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    report = _visible(request.user, pk)
    document = documents.laporan(report, request.user, request=request)
    return _pdf_response(request, document, report.lokus, report.pk, report.classification)


@require_GET
def verify_document(request: HttpRequest, code: str) -> HttpResponse:
    """Public: confirms that a Surat Tugas or final report exists, with its number, date and
    status, without showing any of its content. Anyone holding the paper can check it."""
    code = code.strip().upper()
    found = None
    # Only something shaped like a printed code reaches the database (core.middleware already
    # refuses control characters in the path).
    well_formed = VERIFICATION_CODE.fullmatch(code) is not None
    lokus = Lokus.objects.filter(verification_code=code).exclude(verification_code="").first() if well_formed else None
    if lokus is not None:
        found = {
            "kind": DocumentKind.SURAT_TUGAS.label,
            "number": lokus.surat_tugas_number,
            "date": lokus.dispatched_at,
            "valid_until": lokus.ends_at,
            "status": lokus.get_state_display(),
        }
    elif well_formed:
        report = (
            ActivityReport.objects.filter(verification_code=code, approved_at__isnull=False)
            .exclude(verification_code="")
            .select_related("lokus")
            .first()
        )
        if report is not None:
            found = {
                "kind": DocumentKind.LAPORAN.label,
                "number": report.lokus.surat_tugas_number,
                "date": report.approved_at,
                "status": report.get_state_display(),
                "version": report.version,
            }
    response = render(
        request, "reports/verify_document.html", {"found": found, "code": code}, status=200 if found else 404
    )
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@login_required
@require_GET
def download_log(request: HttpRequest) -> HttpResponse:
    if not permissions.may_view_download_log(request.user):
        raise PermissionDenied
    filters = DownloadFilterForm(request.GET)
    rows = filters.apply(
        DocumentDownload.objects.select_related("user", "lokus__plan")
        .only(
            "kind",
            "number",
            "version",
            "classification",
            "watermarked",
            "downloaded_at",
            "user__full_name",
            "user__nip",
            "lokus__state",
            "lokus__plan__status",
            "lokus__plan__title",
        )
        .order_by("-downloaded_at", "-pk")
    )
    page = paginate(request, rows, 50)
    rows = lokus_selectors.labelled(page.object_list, "kind", "classification")
    page.object_list = lokus_selectors.dated(rows, "downloaded_at", style="stamp")
    return render(request, "reports/download_log.html", {"page": page, "filters": filters})
