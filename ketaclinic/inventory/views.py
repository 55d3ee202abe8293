"""Pages of the controlled-substance log: lots, a lot's ledger, counts, a session's entries."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from ketaclinic.accounts.access import require_permission
from ketaclinic.accounts.permissions import can
from ketaclinic.accounts.roles import Role
from ketaclinic.audit import trail
from ketaclinic.audit.trail import audit_invalid_form
from ketaclinic.charting.access import access_session
from ketaclinic.web.forms import add_service_errors, form_status

from . import services
from .forms import AdministerForm, CountForm, DrawForm, ReceiveForm, StockWasteForm, WasteForm
from .models import LedgerEntry, Lot

# Lots expiring within this are flagged on the lots page (a display aid, not a rule).
EXPIRY_WARNING = dt.timedelta(days=90)


def staff_only(request, permission: str) -> None:
    """The log is staff business: to a patient account these pages do not exist."""
    if request.user.role == Role.PATIENT:
        raise Http404
    require_permission(request, permission)


def access_lot(request, lot_id: int, permission: str) -> Lot:
    staff_only(request, permission)
    lot = Lot.objects.filter(pk=lot_id).select_related("received_by").first()
    if lot is None:
        raise Http404("No such lot.")
    return lot


# ---------------------------------------------------------------- lots


@login_required
def lot_list(request):
    staff_only(request, "inventory.view")
    show = request.GET.get("show", "stock")
    lots = Lot.objects.select_related("received_by")
    summaries = services.lot_summaries(lots)
    if show != "all":
        summaries = [s for s in summaries if s.balance.on_hand_mg > 0 or s.open_draws]
    trail.record(action="inventory.view", request=request, detail={"page": "lots", "show": show})
    return render(
        request,
        "inventory/lots.html",
        {
            "summaries": summaries,
            "show": show,
            "today": timezone.localdate(),
            "soon": timezone.localdate() + EXPIRY_WARNING,
        },
    )


@login_required
def lot_detail(request, lot_id: int):
    lot = access_lot(request, lot_id, "inventory.view")
    lines, state = services.lot_ledger(lot)
    trail.record(action="inventory.view", request=request, target=lot, detail={"page": "lot"})
    return render(
        request,
        "inventory/lot.html",
        {
            "lot": lot,
            "lines": lines,
            "balance": state.lot(lot.lot_number),
            "open_draws": [d for d in state.draws.values() if d.outstanding_mg > 0],
            "today": timezone.localdate(),
        },
    )


@login_required
def receive(request):
    staff_only(request, "inventory.record")
    # "Receive more of this lot" links here with the lot's fields filled in.
    initial = {
        name: value for name, value in request.GET.items() if name in ReceiveForm.base_fields
    }
    form = ReceiveForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.lot_receive(request=request, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"Received {entry.vials} vials of lot {entry.lot.lot_number}."
            )
            return redirect("inventory:lot", lot_id=entry.lot_id)
    audit_invalid_form(request, form, "inventory.receive")
    return render(
        request,
        "inventory/form.html",
        {
            "form": form,
            "title": "Receive controlled substance",
            "intro": "Whole vials as delivered. A lot number already in the log adds to that lot.",
            "submit": "Record receipt",
            "cancel": reverse("inventory:lots"),
        },
        status=form_status(request, form),
    )


@login_required
def stock_waste(request, lot_id: int):
    lot = access_lot(request, lot_id, "inventory.record")
    form = StockWasteForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.waste_record(
                request=request,
                lot=lot,
                quantity_mg=data["quantity_mg"],
                witness=data["witness"],
                reason=data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Logged {data['quantity_mg']} mg wasted from stock.")
            return redirect("inventory:lot", lot_id=lot.pk)
    audit_invalid_form(request, form, "inventory.waste")
    return render(
        request,
        "inventory/form.html",
        {
            "form": form,
            "lot": lot,
            "title": f"Waste stock of lot {lot.lot_number}",
            "intro": "A broken, expired or contaminated vial, destroyed before a witness.",
            "submit": "Record waste",
            "cancel": reverse("inventory:lot", args=[lot.pk]),
        },
        status=form_status(request, form),
    )


@login_required
def count(request, lot_id: int):
    lot = access_lot(request, lot_id, "inventory.count")
    form = CountForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            _entry, result = services.count_record(
                request=request,
                lot=lot,
                full_vials=data["full_vials"],
                partial_ml=data["partial_ml"],
                witness=data["witness"],
                reason=data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            (messages.error if result.flagged else messages.success)(
                request, ("Discrepancy: " if result.flagged else "") + result.message + "."
            )
            return redirect("inventory:lot", lot_id=lot.pk)
    audit_invalid_form(request, form, "inventory.count")
    state = services.lot_state(lot)
    return render(
        request,
        "inventory/form.html",
        {
            "form": form,
            "lot": lot,
            "title": f"Count lot {lot.lot_number}",
            "intro": (
                f"A blind count of what is in the safe: sealed vials of "
                f"{services.show(lot.mg_per_vial)}, and mL left in an opened one. The ledger's "
                "balance is shown once the count is recorded."
            ),
            "submit": "Record count",
            "cancel": reverse("inventory:lot", args=[lot.pk]),
            "open_draws": services.ledger.open_draws(state),
        },
        status=form_status(request, form),
    )


@login_required
def count_list(request):
    staff_only(request, "inventory.view")
    flagged_only = request.GET.get("flagged") == "1"
    counts = (
        LedgerEntry.objects.counts().select_related("lot", "by", "witness").order_by("-at", "-id")
    )
    if flagged_only:
        counts = counts.filter(~Q(discrepancy_mg=0))
    trail.record(action="inventory.view", request=request, detail={"page": "counts"})
    return render(
        request,
        "inventory/counts.html",
        {"counts": counts[:200], "flagged_only": flagged_only},
    )


# ---------------------------------------------------------------- a session's entries


@login_required
def session_entries(request, session_id: int):
    session = access_session(request, session_id, "inventory.view")
    log = services.session_log(session)
    trail.record(
        action="inventory.view",
        request=request,
        patient_id=session.patient_id,
        target=session,
        detail={"page": "session"},
    )
    return render(
        request,
        "inventory/session.html",
        {
            "session": session,
            "log": log,
            "may_record": can(request.user, "inventory.record"),
            "may_draw": session.status in services.DRAW_STATUSES,
        },
    )


def session_form(request, session, form, *, title, intro, submit, action):
    audit_invalid_form(request, form, action, session.patient_id)
    return render(
        request,
        "inventory/form.html",
        {
            "form": form,
            "session": session,
            "title": title,
            "intro": intro,
            "submit": submit,
            "cancel": reverse("inventory:session", args=[session.pk]),
        },
        status=form_status(request, form),
    )


def open_draws_of(session):
    log = services.session_log(session)
    ids = [d.draw.pk for d in log.open_draws]
    return LedgerEntry.objects.filter(pk__in=ids).select_related("lot")


@login_required
def draw(request, session_id: int):
    session = access_session(request, session_id, "inventory.record")
    lots = Lot.objects.filter(drug=session.drug, expires_on__gte=timezone.localdate())
    form = DrawForm(request.POST or None, lots=lots)
    if request.method == "POST" and form.is_valid():
        try:
            services.draw_record(request=request, session=session, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Logged {form.cleaned_data['quantity_mg']} mg drawn.")
            return redirect("inventory:session", session_id=session.pk)
    return session_form(
        request,
        session,
        form,
        title="Draw for this session",
        intro=f"Planned dose {session.planned_dose_mg} mg of {session.drug}.",
        submit="Record draw",
        action="inventory.draw",
    )


@login_required
def administer(request, session_id: int):
    session = access_session(request, session_id, "inventory.record")
    form = AdministerForm(request.POST or None, draws=open_draws_of(session))
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.administer_record(
                request=request,
                draw=form.cleaned_data["draw"],
                quantity_mg=form.cleaned_data["quantity_mg"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Logged {entry.quantity_mg} mg administered.")
            return redirect("inventory:session", session_id=session.pk)
    return session_form(
        request,
        session,
        form,
        title="Administered in this session",
        intro="The log must agree with the administration record of the chart.",
        submit="Record administration",
        action="inventory.administer",
    )


@login_required
def waste(request, session_id: int):
    session = access_session(request, session_id, "inventory.record")
    form = WasteForm(request.POST or None, request=request, draws=open_draws_of(session))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.waste_record(
                request=request,
                draw=data["draw"],
                quantity_mg=data["quantity_mg"],
                witness=data["witness"],
                reason=data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Logged {data['quantity_mg']} mg wasted.")
            return redirect("inventory:session", session_id=session.pk)
    return session_form(
        request,
        session,
        form,
        title="Waste the rest of a draw",
        intro="What was drawn and not given, destroyed before a witness.",
        submit="Record waste",
        action="inventory.waste",
    )
