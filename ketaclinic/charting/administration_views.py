"""During dosing: infusion events, injections, nasal devices, the end of the dose, the product
and lot, and premedication or rescue medication. Each write goes to the administration
services and answers as :mod:`.session_writes` describes."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_POST

from . import administration_service, dose_service, forms, medication_service, session_service
from .session_writes import answer


def infusion_notice(event) -> str:
    rate = f", {event.rate_mg_per_min.normalize()} mg/min." if event.rate_mg_per_min else "."
    return f"Infusion {event.get_kind_display().lower()} at {session_service.local_time(event.at)}{rate}"


@login_required
@require_POST
def infusion(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.InfusionForm(request.POST),
        act=lambda s, f: administration_service.infusion_record(
            request=request,
            session=s,
            kind=f.cleaned_data["kind"],
            at=f.moment(),
            rate_mg_per_min=f.cleaned_data["rate_mg_per_min"],
            reason=f.cleaned_data["reason"],
        ),
        panel="administration",
        form_name="infusion_form",
        action="session.infusion",
        done=infusion_notice,
    )


@login_required
@require_POST
def bolus(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.BolusForm(request.POST),
        act=lambda s, f: administration_service.bolus_record(
            request=request, session=s, dose_mg=f.cleaned_data["dose_mg"], at=f.moment()
        ),
        panel="administration",
        form_name="bolus_form",
        action="session.bolus",
        done=lambda b: (
            f"Injection of {b.dose_mg.normalize()} mg at {session_service.local_time(b.at)}."
        ),
    )


@login_required
@require_POST
def device(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.DeviceForm(request.POST),
        act=lambda s, f: administration_service.device_record(
            request=request, session=s, at=f.moment()
        ),
        panel="administration",
        form_name="device_form",
        action="session.device",
        done=lambda r: (
            f"Device used at {session_service.local_time(r.device.at)}."
            + "".join(f" Warning: {w}." for w in r.warnings)
        ),
    )


@login_required
@require_POST
def end_dose(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.EndDoseForm(request.POST),
        act=lambda s, f: dose_service.dose_end(request=request, session=s, at=f.moment()),
        panel="administration",
        form_name="end_dose_form",
        action="session.dose_end",
        done=lambda s: f"Dose ended at {session_service.local_time(s.dose_ended_at)}: observation.",
    )


@login_required
@require_POST
def product(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.ProductForm(request.POST),
        act=lambda s, f: medication_service.product_record(
            request=request, session=s, **f.cleaned_data
        ),
        panel="administration",
        form_name="product_form",
        action="session.product",
        done=lambda s: f"Product recorded: {s.product}, lot {s.lot_number}.",
    )


@login_required
@require_POST
def medication(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.MedicationForm(request.POST),
        act=lambda s, f: medication_service.medication_give(
            request=request,
            session=s,
            kind=f.cleaned_data["kind"],
            drug=f.cleaned_data["drug"],
            dose=f.cleaned_data["dose"],
            route=f.cleaned_data["route"],
            reason=f.cleaned_data["reason"],
            at=f.moment(),
        ),
        panel="administration",
        form_name="medication_form",
        action="session.medication",
        done=lambda m: (
            f"{m.get_kind_display()}: {m.drug} {m.dose} at {session_service.local_time(m.at)}."
        ),
    )
