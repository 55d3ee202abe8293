"""What was given, as MedicationAdministration: infusion segments, boluses, nasal devices.

The delivered amount of an infusion segment is computed from the whole administration
record, as the chart shows it: never typed in.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ketaclinic.charting import administration_service, session_service
from ketaclinic.charting.models import RecordStatus

from . import codes
from .datatypes import clean, instant, meta, mg, number, ref


def administration_base(obj, session, prefix: str, when: dict, dose: dict | None) -> dict:
    return {
        "resourceType": "MedicationAdministration",
        "id": f"{prefix}-{obj.pk}",
        "meta": meta(obj.recorded_at),
        "status": "entered-in-error"
        if obj.status == RecordStatus.ENTERED_IN_ERROR
        else "completed",
        "medicationCodeableConcept": {"text": session.drug},
        "subject": ref("Patient", session.patient_id),
        "context": ref("Encounter", session.pk),
        "performer": [{"actor": ref("Practitioner", obj.recorded_by_id)}]
        if obj.recorded_by_id
        else [],
        **when,
        "dosage": dose,
    }


def infusion_segment(obj) -> dict:
    """One running segment of an infusion (start, rate change or resume to the next event).

    The dose is computed from the whole administration record by
    ``charting.administration_service``, as the chart shows it: never typed in.
    """
    session = obj.session
    events = list(session.infusion_events.all())
    start = session_service.dose_minute(session, obj.at) if session.dose_started_at else None
    segment = None
    if start is not None and obj.status == RecordStatus.FINAL:
        total = administration_service.delivered(session, events)
        segment = next((s for s in total.segments if s.start_minute == start), None)
    if segment is None:
        when = {"effectiveDateTime": instant(obj.at)}
        dose = {"text": "Infusion segment", "route": {"text": "Intravenous"}}
        if obj.rate_mg_per_min:
            dose["rateRatio"] = {
                "numerator": mg(obj.rate_mg_per_min),
                "denominator": {
                    "value": 1,
                    "unit": "min",
                    "system": codes.system("ucum"),
                    "code": "min",
                },
            }
    else:
        anchor = session.dose_started_at
        end = anchor + dt.timedelta(minutes=float(segment.end_minute))
        when = {"effectivePeriod": {"start": instant(obj.at), "end": instant(end)}}
        dose = {
            "text": (
                f"{number(segment.rate_mg_per_min)} mg/min for "
                f"{number(segment.minutes.quantize(Decimal('0.01')))} min"
            ),
            "route": {"text": "Intravenous"},
            "dose": mg(segment.dose_mg.quantize(Decimal("0.01"))),
            "rateRatio": {
                "numerator": mg(segment.rate_mg_per_min),
                "denominator": {
                    "value": 1,
                    "unit": "min",
                    "system": codes.system("ucum"),
                    "code": "min",
                },
            },
        }
    return clean(administration_base(obj, session, "segment", when, dose))


def bolus(obj) -> dict:
    session = obj.session
    route = "Intramuscular" if session.route == "im" else "Intravenous"
    dose = {
        "text": f"{number(obj.dose_mg)} mg bolus",
        "route": {"text": route},
        "dose": mg(obj.dose_mg),
    }
    return clean(
        administration_base(obj, session, "bolus", {"effectiveDateTime": instant(obj.at)}, dose)
    )


def nasal_device(obj) -> dict:
    session = obj.session
    dose = {
        "text": f"One {obj.device_mg} mg nasal spray device",
        "route": {"text": "Nasal"},
        "dose": mg(obj.device_mg),
    }
    return clean(
        administration_base(obj, session, "device", {"effectiveDateTime": instant(obj.at)}, dose)
    )
