"""The administration record: infusion events, IM injections, esketamine devices, the dose given.

The arithmetic is pure (``administration.py``: infusion segments, total dose, device rest);
this module reads the record into its plain data and writes what the nurse charts: a rate
change (with reason), pause, resume or stop of an infusion, an injection checked against the
protocol's allowed mg/kg, a nasal device (a too-short rest is a warning, not a refusal). The
total dose delivered is always computed from the record, never typed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError

from . import administration, vitals
from .models import (
    BolusDose,
    InfusionEvent,
    InfusionEventKind,
    NasalDevice,
    SessionStatus,
    TreatmentSession,
)
from .session_service import (
    audit,
    dose_minute,
    end_dose,
    entry_time,
    final,
    local_time,
    now,
    number_text,
    require,
    require_status,
    write_locked,
)

#: What a nurse may chart on a running infusion (the start is charted by starting the dose).
INFUSION_CHANGES = (
    InfusionEventKind.RATE_CHANGE,
    InfusionEventKind.PAUSE,
    InfusionEventKind.RESUME,
    InfusionEventKind.STOP,
)


# ---------------------------------------------------------------- the record and its total


def pure_infusion(
    session: TreatmentSession, rows: Iterable[InfusionEvent]
) -> list[administration.InfusionEvent]:
    return [
        administration.InfusionEvent(dose_minute(session, row.at), row.kind, row.rate_mg_per_min)
        for row in sorted(final(rows), key=lambda r: (r.at, r.pk))
    ]


def administration_record(
    session: TreatmentSession,
    infusion: Iterable[InfusionEvent] = (),
    boluses: Iterable[BolusDose] = (),
    devices: Iterable[NasalDevice] = (),
) -> administration.AdministrationRecord:
    ordered_devices = sorted(final(devices), key=lambda r: (r.at, r.pk))
    return administration.AdministrationRecord(
        infusion=tuple(pure_infusion(session, infusion)),
        boluses=tuple(
            administration.Bolus(dose_minute(session, row.at), row.dose_mg)
            for row in final(boluses)
        ),
        devices=tuple(
            administration.NasalDevice(dose_minute(session, row.at), None, Decimal(row.device_mg))
            for row in ordered_devices
        ),
    )


def delivered(
    session: TreatmentSession,
    infusion: Iterable[InfusionEvent] = (),
    boluses: Iterable[BolusDose] = (),
    devices: Iterable[NasalDevice] = (),
    *,
    at: dt.datetime | None = None,
) -> administration.DoseTotal:
    """Total dose delivered so far, computed from the administration record."""
    if session.dose_started_at is None:
        return administration.delivered(administration.AdministrationRecord())
    record = administration_record(session, infusion, boluses, devices)
    moment = at or session.dose_ended_at or now()
    until = (
        max(dose_minute(session, moment), record.infusion[-1].minute) if record.infusion else None
    )
    return administration.delivered(record, until_minute=until)


def session_delivered(
    session: TreatmentSession, *, at: dt.datetime | None = None
) -> administration.DoseTotal:
    """The session's total dose delivered, read from its whole administration record."""
    return delivered(
        session,
        session.infusion_events.all(),
        session.boluses.all(),
        session.devices.all(),
        at=at,
    )


# ---------------------------------------------------------------- infusion rates


@dataclass(frozen=True)
class RateRange:
    """The infusion rates the protocol allows for this patient, with the working."""

    low: Decimal
    high: Decimal
    rule: str
    sources: str

    @property
    def basis(self) -> str:
        return f"{self.rule} ({self.sources})"


def rate_range(session: TreatmentSession) -> RateRange | None:
    """Plausible infusion rates: the protocol's allowed mg/kg over its allowed minutes.

    From the clinic's protocol (allowed mg/kg and infusion minutes, each with sources) and
    the weight the plan's dose was computed on. ``None`` when the protocol has no infusion
    or the plan no weight.
    """
    rules = session.plan.protocol.rules()
    allowed, infusion = rules.dose.allowed_mg_per_kg, rules.infusion
    weight = session.plan.weight_kg
    if allowed is None or infusion is None or weight is None:
        return None
    minutes = infusion.allowed_minutes
    low = allowed.min * weight / minutes.max
    high = allowed.max * weight / minutes.min
    rule = (
        f"{session.plan.protocol.name}: {allowed.describe('mg/kg')} over "
        f"{minutes.min}-{minutes.max} min "
        f"at the plan's {weight} kg"
    )
    return RateRange(low, high, rule, "; ".join(allowed.sources + minutes.sources))


def check_rate(
    session: TreatmentSession, rate: Decimal | None, field: str = "rate_mg_per_min"
) -> Decimal:
    """The rate, refused when missing, not above 0 or outside the protocol's range."""
    require(rate is not None, field, "Give the rate in mg/min.")
    require(rate > 0, field, "The rate must be above 0 mg/min.")
    plausible = rate_range(session)
    if plausible is not None and not plausible.low <= rate <= plausible.high:
        raise ValidationError(
            {
                field: f"{vitals.format_number(rate)} mg/min is outside the protocol's "
                f"{number_text(plausible.low)}–{number_text(plausible.high)} mg/min "
                f"({plausible.rule})."
            }
        )
    return rate


# ---------------------------------------------------------------- charting the infusion


def infusion_record(
    *,
    request,
    session: TreatmentSession,
    kind: str,
    at: dt.datetime | None = None,
    rate_mg_per_min: Decimal | None = None,
    reason: str = "",
) -> InfusionEvent:
    """A rate change (with reason), pause, resume (at the old rate unless given) or stop.

    A stop ends the dose and starts observation; before the planned minutes it is an early
    stop and needs a reason. Nothing can follow a stop.
    """
    reason = (reason or "").strip()

    def write(locked: TreatmentSession) -> InfusionEvent:
        _require_running_infusion(locked, kind)
        rows = final(locked.infusion_events.all())
        last = max((row.at for row in rows), default=locked.dose_started_at)
        moment = entry_time(locked, at, not_before=last, not_before_what="the last infusion event")
        rate = _event_rate(locked, kind, rate_mg_per_min, reason)
        early = _early_stop(locked, rows, kind, rate, moment, reason)
        event = InfusionEvent.objects.create(
            session=locked,
            kind=kind,
            rate_mg_per_min=rate,
            reason=reason[:300],
            at=moment,
            recorded_by=request.user,
        )
        if kind == InfusionEventKind.STOP:
            end_dose(request, locked, moment)
        total = delivered(locked, [*rows, event], at=moment)
        audit(
            request,
            "session.infusion",
            locked,
            event,
            kind=kind,
            rate_mg_per_min=str(rate) if rate is not None else None,
            reason=event.reason,
            early_stop=early,
            delivered_mg=str(total.total_mg),
        )
        return event

    return write_locked(request, session, "session.infusion", write)


def _require_running_infusion(session: TreatmentSession, kind: str) -> None:
    """An IV session while dosing, and one of the changes a running infusion takes."""
    require(session.route == "iv", "kind", "Only an IV session has an infusion.")
    if session.status in (SessionStatus.OBSERVATION, SessionStatus.DISCHARGED):
        raise ValidationError(
            {
                "kind": f"The infusion was stopped at {local_time(session.dose_ended_at)}; "
                "nothing can follow a stop."
            }
        )
    require_status(session, [SessionStatus.DOSING], "chart the infusion")
    require(kind in INFUSION_CHANGES, "kind", "Choose a rate change, pause, resume or stop.")


def _event_rate(
    session: TreatmentSession, kind: str, rate_mg_per_min: Decimal | None, reason: str
) -> Decimal | None:
    """The new rate a rate change (or a resume at another rate) sets; why, for a change or pause."""
    rate = None
    if kind == InfusionEventKind.RATE_CHANGE or (
        kind == InfusionEventKind.RESUME and rate_mg_per_min
    ):
        rate = check_rate(session, rate_mg_per_min)
    elif rate_mg_per_min is not None:
        raise ValidationError({"rate_mg_per_min": f"A {kind.replace('_', ' ')} takes no rate."})
    if kind in (InfusionEventKind.RATE_CHANGE, InfusionEventKind.PAUSE):
        require(bool(reason), "reason", f"Say why ({kind.replace('_', ' ')}).")
    return rate


def _early_stop(
    session: TreatmentSession,
    rows: list[InfusionEvent],
    kind: str,
    rate: Decimal | None,
    moment: dt.datetime,
    reason: str,
) -> bool:
    """Whether the new event is a stop before the planned minutes (which needs a reason).

    The record with the new event must make sense (no resume without a pause...).
    """
    events = [
        *pure_infusion(session, rows),
        administration.InfusionEvent(dose_minute(session, moment), kind, rate),
    ]
    try:
        segments, _stopped = administration.infusion_segments(
            events, until_minute=events[-1].minute
        )
    except administration.AdministrationError as error:
        raise ValidationError({"kind": error.message}) from None
    if kind != InfusionEventKind.STOP or not session.planned_minutes:
        return False
    ran = sum((s.minutes for s in segments), Decimal(0))
    early = ran < session.planned_minutes
    require(
        not early or bool(reason),
        "reason",
        f"The infusion ran {number_text(ran, '0.1')} of {session.planned_minutes} planned "
        "minutes: say why it stops early.",
    )
    return early


# ---------------------------------------------------------------- injections and devices


def bolus_record(
    *, request, session: TreatmentSession, dose_mg: Decimal, at: dt.datetime | None = None
) -> BolusDose:
    """An IM injection, checked against the protocol's allowed mg/kg at the plan's weight."""

    def write(locked: TreatmentSession) -> BolusDose:
        require(locked.route == "im", "dose_mg", "Injections are charted on IM sessions.")
        require_status(locked, [SessionStatus.DOSING], "chart an injection")
        require(dose_mg is not None and dose_mg > 0, "dose_mg", "The dose must be above 0 mg.")
        _require_within_allowed(locked, dose_mg)
        moment = entry_time(
            locked, at, not_before=locked.dose_started_at, not_before_what="dosing started"
        )
        bolus = BolusDose.objects.create(
            session=locked, dose_mg=dose_mg, at=moment, recorded_by=request.user
        )
        audit(request, "session.bolus", locked, bolus, dose_mg=str(dose_mg))
        return bolus

    return write_locked(request, session, "session.bolus", write)


def _require_within_allowed(session: TreatmentSession, dose_mg: Decimal) -> None:
    """The session's injections stay within the protocol's highest mg/kg at the plan's weight."""
    rules = session.plan.protocol.rules()
    allowed, weight = rules.dose.allowed_mg_per_kg, session.plan.weight_kg
    given = sum((b.dose_mg for b in final(session.boluses.all())), Decimal(0))
    if allowed is None or weight is None:
        return
    ceiling = allowed.max * weight
    require(
        given + dose_mg <= ceiling,
        "dose_mg",
        f"{number_text(given + dose_mg)} mg in this session would exceed the protocol's "
        f"{allowed.max} mg/kg at {weight} kg = {number_text(ceiling)} mg "
        f"({'; '.join(allowed.sources)}).",
    )


def device_rest_warnings(
    session: TreatmentSession, devices: Iterable[NasalDevice]
) -> list[tuple[administration.DeviceRestWarning, str]]:
    """Devices used closer together than the label's rest, each with a message in clock times.

    The gap is judged on the exact charted times (``administration.device_rest_warnings``);
    the message shows them as a nurse reads them, with the rule and its source.
    """
    ordered = sorted(final(devices), key=lambda r: (r.at, r.pk))
    record = administration_record(session, devices=ordered)
    when = {f"device {n}": row.at for n, row in enumerate(ordered, 1)}
    return [
        (
            warning,
            f"{warning.second} at {local_time(when[warning.second])} was used "
            f"{number_text(warning.gap_minutes, '0.1')} min after {warning.first} at "
            f"{local_time(when[warning.first])}; {warning.source}",
        )
        for warning in administration.device_rest_warnings(record.devices)
    ]


@dataclass(frozen=True)
class DeviceResult:
    device: NasalDevice
    warnings: tuple[str, ...]


def device_record(
    *, request, session: TreatmentSession, at: dt.datetime | None = None
) -> DeviceResult:
    """One esketamine device used. Less than the rest interval after the previous one is a
    warning shown to the nurse, not a refusal: the device was used and counts."""

    def write(locked: TreatmentSession) -> DeviceResult:
        require(
            locked.route == "esketamine", "at", "Nasal devices are charted on esketamine sessions."
        )
        require_status(locked, [SessionStatus.DOSING], "chart a device")
        devices = final(locked.devices.all())
        device_mg = _device_mg(locked)
        _require_device_allowed(locked, devices, device_mg)
        moment = entry_time(
            locked, at, not_before=locked.dose_started_at, not_before_what="dosing started"
        )
        device = NasalDevice.objects.create(session=locked, at=moment, recorded_by=request.user)
        warnings = _device_warnings(locked, devices, device, device_mg)
        audit(request, "session.device", locked, device, warnings=warnings)
        return DeviceResult(device, tuple(warnings))

    return write_locked(request, session, "session.device", write)


def _device_mg(session: TreatmentSession) -> int:
    rules = session.plan.protocol.rules()
    return rules.dose.device_mg or int(administration.DEFAULT_FACTS.device_mg)


def _require_device_allowed(
    session: TreatmentSession, devices: list[NasalDevice], device_mg: int
) -> None:
    """No more devices than the protocol's highest dose allows."""
    rules = session.plan.protocol.rules()
    most = max(rules.dose.allowed_doses_mg, default=0) // device_mg
    require(
        not most or len(devices) < most,
        "at",
        f"{len(devices)} devices ({len(devices) * device_mg} mg) already given: the protocol "
        f"allows at most {most * device_mg} mg ({'; '.join(rules.dose.sources[:1])}).",
    )


def _device_warnings(
    session: TreatmentSession, devices: list[NasalDevice], device: NasalDevice, device_mg: int
) -> list[str]:
    """A rest shorter than the label's next to the new device, and devices beyond the plan."""
    ordered = sorted([*devices, device], key=lambda r: (r.at, r.pk))
    name = f"device {ordered.index(device) + 1}"
    warnings = [
        text
        for warning, text in device_rest_warnings(session, ordered)
        if name in (warning.first, warning.second)
    ]
    planned = int(session.planned_dose_mg) // device_mg
    if len(devices) + 1 > planned:
        warnings.append(
            f"{len(devices) + 1} devices given; the plan is {session.planned_dose_mg} mg "
            f"({planned} devices)."
        )
    return warnings
