"""Read the record into the packet's plain facts (packet.py assembles them)."""

from __future__ import annotations

from django.utils import timezone

from ketaclinic.charting.models import RemsEnrollment
from ketaclinic.outcomes.models import Response, ResponseStatus
from ketaclinic.screening.models import ELIGIBLE_DECISIONS

from . import packet


def who(user) -> str:
    return user.display_name if user is not None else "unknown"


def record_for(plan) -> packet.PacketRecord:
    patient = plan.patient
    return packet.PacketRecord(
        patient_name=patient.full_name,
        date_of_birth=patient.date_of_birth,
        mrn=patient.mrn,
        diagnoses=[
            packet.DiagnosisFact(
                code=d.icd10_code,
                label=d.display,
                is_trd=d.indication == "trd",
                recorded_by=who(d.recorded_by),
                recorded_on=timezone.localdate(d.recorded_at),
            )
            for d in patient.diagnoses.valid().filter(status="active").select_related("recorded_by")
        ],
        trials=[
            packet.TrialFact(
                drug=t.drug,
                dose_mg_per_day=t.dose_mg_per_day,
                weeks=t.duration_weeks,
                outcome=t.outcome,
                outcome_label=t.get_outcome_display(),
                recorded_by=who(t.recorded_by),
                recorded_on=timezone.localdate(t.recorded_at),
            )
            for t in patient.antidepressant_trials.valid().select_related("recorded_by")
        ],
        therapies=[
            packet.TherapyFact(
                kind=t.kind,
                kind_label=t.get_kind_display(),
                description=t.description,
                started_on=t.started_on,
                ended_on=t.ended_on,
                outcome_label=t.get_outcome_display(),
                recorded_by=who(t.recorded_by),
                recorded_on=timezone.localdate(t.recorded_at),
            )
            for t in patient.treatments.valid().select_related("recorded_by")
        ],
        scores=scores_of(patient),
        screening=screening_of(plan),
        height_cm=patient.height_cm,
        weight=weight_of(patient),
        rems=rems_of(patient),
    )


def scores_of(patient) -> list[packet.ScoreFact]:
    rows = (
        Response.objects.filter(
            patient=patient,
            status=ResponseStatus.COMPLETED,
            instrument__code__in=packet.SCORE_INSTRUMENTS,
            total__isnull=False,
        )
        .select_related("instrument", "entered_by")
        .order_by("-submitted_at", "-id")
    )
    latest: dict[str, packet.ScoreFact] = {}
    for r in rows:
        if r.instrument.code in latest:
            continue
        moment = r.submitted_at or r.started_at
        latest[r.instrument.code] = packet.ScoreFact(
            instrument=r.instrument.code,
            name=r.instrument.name,
            total=r.total,
            band=r.band_label,
            on=timezone.localdate(moment),
            entered_by=who(r.entered_by) if r.entered_by_id else "",
        )
    return list(latest.values())


def screening_of(plan) -> packet.ScreeningFact | None:
    screening = plan.screening
    if screening.signed_at is None:
        return None
    findings = tuple(f["finding"] for f in screening.findings_for_display())
    return packet.ScreeningFact(
        eligible=screening.clinician_decision in ELIGIBLE_DECISIONS,
        decision_label=screening.get_clinician_decision_display(),
        findings=findings,
        signed_by=who(screening.signed_by),
        signed_on=timezone.localdate(screening.signed_at),
    )


def weight_of(patient) -> packet.WeightFact | None:
    weight = patient.current_weight()
    if weight is None:
        return None
    return packet.WeightFact(weight.weight_kg, weight.measured_on, who(weight.recorded_by))


def rems_of(patient) -> packet.RemsFact | None:
    enrolment = RemsEnrollment.objects.filter(patient=patient).select_related("recorded_by").first()
    if enrolment is None:
        return None
    return packet.RemsFact(
        enrolment.rems_patient_id, enrolment.enrolled_on, who(enrolment.recorded_by)
    )
