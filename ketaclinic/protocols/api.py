"""Protocols API: the dose calculator (on the clinic's protocols) and the catalog itself."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from ninja import Field, Router, Schema
from pydantic import ConfigDict

from ketaclinic.accounts.access import require_permission
from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.patients.vocabulary import earliest_birth_date

from . import dosing
from .models import ROUTE_CHOICES, Protocol

router = Router(tags=["protocols"])

# Without a session number the dose is checked as for a session after the first: the day-1
# limit (esketamine TRD starts at 56 mg) applies only when the caller says it is session 1.
LATER_SESSION = 2
CALCULATE_FIELDS = {"infusion_minutes": "duration_min"}


class DoseCalculationIn(Schema):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored

    route: str | None = Field(None, description="iv, im, esketamine, sublingual or oral")
    protocol: str | None = Field(None, description="A protocol code; default: the route's")
    weight_kg: float | None = None
    dose_mg_per_kg: float | None = None
    dose_mg: float | None = None
    duration_min: int | None = Field(None, ge=1, description="IV infusion time in minutes")
    session_number: int | None = Field(
        None, ge=1, description="Session of the course; 1 applies the first-session limit"
    )
    age_years: int | None = Field(
        None,
        ge=0,
        description="Esketamine: age limits (EU SmPC); at most the age of a patient born on "
        "the earliest birth date the patient record accepts",
    )
    override_reason: str | None = Field(
        None, description="Allows a dose outside the protocol's range, with a warning"
    )


class DoseCalculationOut(Schema):
    dose_mg: int | float
    rate_mg_per_min: int | float | None = None
    devices: int | None = None
    warnings: list[str]


def number(value: Decimal | None) -> int | float | None:
    """A Decimal as a JSON number: 84 stays 84, 36.7 stays 36.7."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def oldest_age_years(today: dt.date) -> int:
    """The age of someone born on the earliest birth date the patient record accepts."""
    born = earliest_birth_date()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def check_age(age_years: int | None) -> None:
    oldest = oldest_age_years(timezone.localdate())
    if age_years is not None and age_years > oldest:
        raise ValidationError(
            {
                "age_years": f"{age_years} years is older than any patient the record accepts "
                f"(at most {oldest}: born on or after {earliest_birth_date():%Y-%m-%d})"
            }
        )


def _protocol_for(payload: DoseCalculationIn) -> Protocol:
    routes = [code for code, _ in ROUTE_CHOICES]
    if payload.protocol:
        protocol = Protocol.objects.active().filter(code=payload.protocol).first()
        if protocol is None:
            known = ", ".join(Protocol.objects.active().values_list("code", flat=True))
            raise ValidationError({"protocol": f"Unknown protocol {payload.protocol!r}: {known}."})
        if payload.route and payload.route != protocol.route:
            raise ValidationError(
                {"route": f"{protocol.code} is a {protocol.route} protocol, not {payload.route}."}
            )
        return protocol
    if not payload.route:
        raise ValidationError({"route": "Give the route (or a protocol code)."})
    if payload.route not in routes:
        raise ValidationError(
            {"route": f"Unknown route {payload.route!r}; expected one of {', '.join(routes)}."}
        )
    protocol = Protocol.objects.default_for(payload.route)
    if protocol is None:
        raise ValidationError({"route": f"The clinic has no active {payload.route} protocol."})
    return protocol


@router.post(
    "/dosing/calculate",
    response=DoseCalculationOut,
    exclude_none=True,
    summary="Calculate a dose on the clinic's protocol (no patient record)",
)
def calculate(request, payload: DoseCalculationIn):
    require_permission(request, "clinical.calculate")
    check_age(payload.age_years)
    try:
        protocol = _protocol_for(payload)
        session = payload.session_number
        result = dosing.calculate_dose(
            protocol.rules(),
            weight_kg=None if protocol.route == "esketamine" else payload.weight_kg,
            dose_mg_per_kg=payload.dose_mg_per_kg,
            dose_mg=payload.dose_mg,
            infusion_minutes=payload.duration_min,
            session_number=(session if session is not None else LATER_SESSION)
            if protocol.route == "esketamine"
            else None,
            age_years=payload.age_years if protocol.route == "esketamine" else None,
            override_reason=payload.override_reason,
        )
    except dosing.DosingError as error:
        field = CALCULATE_FIELDS.get(error.field, error.field)
        trail.record(
            action="dosing.calculate",
            request=request,
            outcome=Outcome.INVALID,
            detail={"field": field, "message": error.message},
        )
        raise ValidationError({field: error.message}) from None
    trail.record(
        action="dosing.calculate",
        request=request,
        detail={
            "protocol": protocol.code,
            "dose_mg": result.dose_mg,
            "override_reason": payload.override_reason or "",
            "warnings": list(result.warnings),
        },
    )
    return {
        "dose_mg": number(result.dose_mg),
        "rate_mg_per_min": number(result.rate_mg_per_min),
        "devices": result.devices,
        "warnings": list(result.warnings),
    }


class RangeOut(Schema):
    min: float
    max: float
    unit: str
    sources: list[str]


class ProtocolOut(Schema):
    code: str
    name: str
    route: str
    drug: str
    indications: list[str] | None
    default_for_route: bool
    dose_basis: str
    allowed_dose: RangeOut | None
    allowed_fixed_dose: RangeOut | None
    allowed_doses_mg: list[int]
    infusion_minutes: RangeOut | None
    course_schedules: list[str]
    sources: list[str]


def _range(low, high, unit, sources) -> dict | None:
    if low is None or high is None:
        return None
    return {"min": float(low), "max": float(high), "unit": unit, "sources": sources}


@router.get("/protocols", response=list[ProtocolOut], summary="The clinic's protocol catalog")
def list_protocols(request):
    require_permission(request, "clinical.calculate")
    trail.record(action="protocol.list", request=request)
    return [
        {
            "code": p.code,
            "name": p.name,
            "route": p.route,
            "drug": p.drug,
            "indications": p.indications,
            "default_for_route": p.default_for_route,
            "dose_basis": p.dose_basis,
            "allowed_dose": _range(
                p.allowed_mg_per_kg_min,
                p.allowed_mg_per_kg_max,
                "mg/kg",
                p.allowed_mg_per_kg_sources.splitlines(),
            ),
            "allowed_fixed_dose": _range(
                p.allowed_fixed_mg_min,
                p.allowed_fixed_mg_max,
                "mg",
                p.allowed_fixed_mg_sources.splitlines(),
            ),
            "allowed_doses_mg": p.allowed_doses_mg or [],
            "infusion_minutes": _range(
                p.infusion_min_minutes,
                p.infusion_max_minutes,
                "min",
                p.infusion_minutes_sources.splitlines(),
            ),
            "course_schedules": p.course_schedules or [],
            "sources": p.source_list,
        }
        for p in Protocol.objects.active()
    ]
