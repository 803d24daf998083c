"""SOP steps 6-15: the team's report and its verify/revise/approve chain."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.access import record_access
from core.errors import ActionRefused
from core.models import AccessLog
from core.views import paginate, refusals_to_messages
from lokus import permissions as lokus_permissions
from lokus.enums import AssignmentState
from lokus.models import BeritaAcara, FieldMedia, Lokus, MemberReport
from lokus.selectors import step_standards
from reports import documents, permissions, selectors, services
from reports.enums import EDITABLE, HOLDER, ReportState
from reports.forms import ExcuseForm, NoteForm, ReportForm, VerificationForm
from reports.models import ActivityReport, DocumentDownload, DocumentKind

# The page's action buttons come from the transitions the user may take now.
ACTIONS = {
    "submit": ("reports:submit", gettext_lazy("Send to the Kasubbid"), "post", "btn-primary"),
    "receive": ("reports:receive", gettext_lazy("Receive (terima)"), "post", "btn-primary"),
    "verify": ("reports:verify", gettext_lazy("Verify"), "form", "btn-primary"),
    "forward": ("reports:forward", gettext_lazy("Forward to the next level"), "post", "btn-primary"),
    "return_for_revision": ("reports:return", gettext_lazy("Return for revision"), "form", ""),
    "pass_down": ("reports:pass_down", gettext_lazy("Pass further down for revision"), "form", ""),
    "approve": ("reports:approve", gettext_lazy("Approve (final)"), "post", "btn-ok"),
}
CONFIRM = {
    "submit": gettext_lazy("Send the report to the Kasubbid now?"),
    "forward": gettext_lazy("Forward the report to the next level now?"),
    "approve": gettext_lazy("Approve the report? It becomes final and can never be changed."),
}


def _visible(user, pk: int) -> ActivityReport:
    report = get_object_or_404(ActivityReport.objects.select_related("lokus__plan", "lokus__sub_division"), pk=pk)
    if not permissions.can_view_report(user, report):
        raise Http404
    return report


@login_required
@require_GET
def report_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not permissions.may_list_reports(user):
        raise PermissionDenied
    rows = (
        permissions.reports_for(user)
        .select_related("lokus__plan", "lokus__sub_division")
        .order_by("-state_changed_at", "-pk")
    )
    state = request.GET.get("state", "")
    if state in ReportState.values:
        rows = rows.filter(state=state)
    standards = step_standards()
    page = paginate(request, rows)
    now = timezone.now()
    held = permissions.held_reports(user, page.object_list)
    for report in page.object_list:
        report.due = selectors.due_at(report, standards)
        report.due_overdue = report.due is not None and now > report.due
        report.mine = report.pk in held
    return render(
        request,
        "reports/list.html",
        {
            "page": page,
            "states": ReportState.choices,
            "filters": {"state": state},
            "tasks": selectors.report_tasks(user),
        },
    )


@login_required
@require_POST
@refusals_to_messages("lokus:detail")
def report_start(request: HttpRequest, pk: int) -> HttpResponse:
    lokus = get_object_or_404(lokus_permissions.lokus_for(request.user), pk=pk)
    existing = ActivityReport.objects.filter(lokus=lokus).first()
    if existing and permissions.can_view_report(request.user, existing):
        return redirect("reports:detail", existing.pk)
    if not permissions.can_start_report(request.user, lokus):
        raise PermissionDenied
    report = services.report_start(user=request.user, lokus_id=lokus.pk)
    messages.success(request, _("The report was started from the lokus and the field notes. Complete it."))
    return redirect("reports:edit", report.pk)


@login_required
@require_GET
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    report = _visible(user, pk)
    lokus = report.lokus
    record_access(request, AccessLog.Kind.REPORT, lokus.pk, report.pk, report.classification)
    standards = step_standards()
    log = list(report.log.select_related("actor"))
    actions = []
    for transition in report.get_available_user_state_transitions(user):
        url_name, label, kind, css = ACTIONS[transition.name]
        actions.append(
            {
                "name": transition.name,
                "url_name": url_name,
                "label": label,
                "kind": kind,
                "css": css,
                "confirm": CONFIRM.get(transition.name, ""),
            }
        )
    assignments = list(lokus.assignments.select_related("member"))
    excused = {e.assignment_id: e for e in report.excuses.select_related("excused_by")}
    can_edit = report.state in EDITABLE and permissions.can_act(user, report)
    due = selectors.due_at(report, standards)
    elapsed = selectors.chain_elapsed(report)
    return render(
        request,
        "reports/detail.html",
        {
            "report": report,
            "lokus": lokus,
            "plan": lokus.plan,
            "actions": actions,
            "can_edit": can_edit,
            "is_korlap_stage": can_edit and HOLDER[report.state] == "korlap",
            "missing": services.missing_for_sending(report) if can_edit and HOLDER[report.state] == "korlap" else [],
            "assignments": [
                {"a": a, "excuse": excused.get(a.pk), "reported": a.state == AssignmentState.REPORTED}
                for a in assignments
            ],
            "member_reports": MemberReport.objects.filter(assignment__lokus=lokus).select_related("assignment__member"),
            "media": report.included_media.select_related("assignment__member"),
            "all_media": FieldMedia.objects.filter(assignment__lokus=lokus).count(),
            "verifications": report.verifications.select_related("verified_by"),
            "spans": selectors.step_spans(report, log, standards),
            "due": due,
            "due_overdue": due is not None and timezone.now() > due,
            "elapsed_hours": f"{elapsed.total_seconds() / 3600:.1f}",
            "elapsed_over": elapsed > selectors.SOP_TOTAL,
            "timeline": selectors.merged_timeline(report),
            "versions": selectors.versions(report),
            "excuse_form": ExcuseForm(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_edit(request: HttpRequest, pk: int) -> HttpResponse:
    report = _visible(request.user, pk)
    if report.state not in EDITABLE or not permissions.can_act(request.user, report):
        if report.state == ReportState.APPROVED:
            messages.error(request, _("The report is approved and final; it can no longer be changed."))
            return redirect("reports:detail", report.pk)
        raise PermissionDenied
    form = ReportForm(request.POST or None, instance=report)
    if request.method == "POST" and form.is_valid():
        data = {field: form.cleaned_data[field] for field in form.Meta.fields}
        try:
            services.report_save(
                user=request.user,
                report_id=report.pk,
                data=data,
                media_ids=[m.pk for m in form.cleaned_data["media"]],
            )
        except ActionRefused as refusal:
            form.add_error(None, refusal.message)
        else:
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
def report_verify(request: HttpRequest, pk: int) -> HttpResponse:
    report = _visible(request.user, pk)
    if not any(t.name == "verify" for t in report.get_available_user_state_transitions(request.user)):
        if not permissions.can_act(request.user, report):
            raise PermissionDenied
        messages.error(request, _("This report is not waiting for verification."))
        return redirect("reports:detail", report.pk)
    form = VerificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.report_verify(user=request.user, report_id=report.pk, checks=data, notes=data["notes"])
        except ActionRefused as refusal:
            messages.error(request, refusal.message)
        else:
            messages.success(request, _("Verification recorded. Now forward the report or return it for revision."))
        return redirect("reports:detail", report.pk)
    return render(request, "reports/verify.html", {"form": form, "report": report, "lokus": report.lokus})


def _note_view(service, transition_name, title, success):
    @login_required
    @require_http_methods(["GET", "POST"])
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        report = _visible(request.user, pk)
        if not any(t.name == transition_name for t in report.get_available_user_state_transitions(request.user)):
            if not permissions.can_act(request.user, report):
                raise PermissionDenied
            messages.error(request, _("This step is not open for the report now."))
            return redirect("reports:detail", report.pk)
        form = NoteForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                service(user=request.user, report_id=report.pk, note=form.cleaned_data["note"])
            except ActionRefused as refusal:
                messages.error(request, refusal.message)
            else:
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
        value = request.GET.get(name, "")
        return by_number.get(int(value)) if value.isdigit() and int(value) in by_number else default

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
    return _pdf_response(request, documents.surat_tugas(lokus, request.user), lokus, lokus.pk, lokus.classification)


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
    document = documents.laporan(report, request.user)
    return _pdf_response(request, document, report.lokus, report.pk, report.classification)


@require_GET
def verify_document(request: HttpRequest, code: str) -> HttpResponse:
    """Public: confirms that a Surat Tugas or final report exists, with its number, date and
    status, without showing any of its content. Anyone holding the paper can check it."""
    code = code.strip().upper()
    found = None
    lokus = Lokus.objects.filter(verification_code=code).exclude(verification_code="").first()
    if lokus is not None:
        found = {
            "kind": DocumentKind.SURAT_TUGAS.label,
            "number": lokus.surat_tugas_number,
            "date": lokus.dispatched_at,
            "valid_until": lokus.ends_at,
            "status": lokus.get_state_display(),
        }
    else:
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
    rows = DocumentDownload.objects.select_related("user", "lokus__plan").order_by("-downloaded_at", "-pk")
    kind = request.GET.get("kind", "")
    if kind in DocumentKind.values:
        rows = rows.filter(kind=kind)
    return render(
        request,
        "reports/download_log.html",
        {"page": paginate(request, rows, 50), "kinds": DocumentKind.choices, "filters": {"kind": kind}},
    )
