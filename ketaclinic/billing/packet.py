"""The Spravato prior-authorization packet, assembled from plain facts (no database).

What payers ask for (REFERENCE.md section 8): a TRD diagnosis (ICD-10-CM), at least two
failed antidepressant trials with drug, dose and duration, evidence of psychotherapy, a
depression score (PHQ-9 or MADRS here, the instruments the clinic measures), a
contraindication check, height and weight; plus the patient's Spravato REMS enrolment
(REFERENCE.md section 4). Every value carries its source as a reader would say it. An item
the record cannot fill is listed as missing and the packet is incomplete until it exists
(the REMS form's pattern: fixing the chart fixes the packet).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

# Payers ask for at least two failed adequate trials (REFERENCE.md section 8).
MIN_FAILED_TRIALS = 2
FAILED_OUTCOMES = frozenset({"no_response", "partial_response", "not_tolerated"})
PSYCHOTHERAPY_KINDS = frozenset({"psychotherapy", "group_therapy"})
SCORE_INSTRUMENTS = ("phq9", "madrs")


@dataclass(frozen=True)
class DiagnosisFact:
    code: str
    label: str
    is_trd: bool
    recorded_by: str
    recorded_on: dt.date


@dataclass(frozen=True)
class TrialFact:
    drug: str
    dose_mg_per_day: Decimal
    weeks: int
    outcome: str
    outcome_label: str
    recorded_by: str
    recorded_on: dt.date


@dataclass(frozen=True)
class TherapyFact:
    kind: str
    kind_label: str
    description: str
    started_on: dt.date | None
    ended_on: dt.date | None
    outcome_label: str
    recorded_by: str
    recorded_on: dt.date


@dataclass(frozen=True)
class ScoreFact:
    instrument: str  # code: phq9, madrs
    name: str
    total: int
    band: str
    on: dt.date
    entered_by: str  # "" when the patient answered themselves


@dataclass(frozen=True)
class ScreeningFact:
    eligible: bool
    decision_label: str
    findings: tuple[str, ...]
    signed_by: str
    signed_on: dt.date


@dataclass(frozen=True)
class WeightFact:
    kg: Decimal
    measured_on: dt.date
    recorded_by: str


@dataclass(frozen=True)
class RemsFact:
    rems_patient_id: str
    enrolled_on: dt.date
    recorded_by: str


@dataclass(frozen=True)
class PacketRecord:
    patient_name: str
    date_of_birth: dt.date
    mrn: str
    diagnoses: Sequence[DiagnosisFact] = ()
    trials: Sequence[TrialFact] = ()
    therapies: Sequence[TherapyFact] = ()
    scores: Sequence[ScoreFact] = ()
    screening: ScreeningFact | None = None
    height_cm: Decimal | None = None
    weight: WeightFact | None = None
    rems: RemsFact | None = None


@dataclass(frozen=True)
class Line:
    value: str
    source: str


@dataclass(frozen=True)
class PacketItem:
    key: str
    label: str
    lines: tuple[Line, ...] = ()
    missing: str = ""  # why the item is missing; empty when present


@dataclass(frozen=True)
class Packet:
    record: PacketRecord
    items: tuple[PacketItem, ...] = field(default_factory=tuple)

    @property
    def missing(self) -> list[PacketItem]:
        return [item for item in self.items if item.missing]

    @property
    def complete(self) -> bool:
        return not self.missing


def day(value: dt.date) -> str:
    return f"{value:%Y-%m-%d}"


def number(value: Decimal) -> str:
    return f"{value.normalize():f}"


def diagnosis_item(record: PacketRecord) -> PacketItem:
    label = "Treatment-resistant depression diagnosis (ICD-10-CM)"
    found = [d for d in record.diagnoses if d.is_trd]
    if not found:
        return PacketItem(
            "diagnosis", label, missing="No major depressive disorder diagnosis on the chart."
        )
    lines = tuple(
        Line(
            f"{d.code} {d.label}",
            f"from the chart: diagnosis entered by {d.recorded_by} on {day(d.recorded_on)}",
        )
        for d in found
    )
    return PacketItem("diagnosis", label, lines)


def trials_item(record: PacketRecord) -> PacketItem:
    label = f"Failed antidepressant trials (at least {MIN_FAILED_TRIALS})"
    failed = [t for t in record.trials if t.outcome in FAILED_OUTCOMES]
    lines = tuple(
        Line(
            f"{t.drug} {number(t.dose_mg_per_day)} mg/day for {t.weeks} weeks: {t.outcome_label}",
            f"from the chart: treatment history entered by {t.recorded_by} on {day(t.recorded_on)}",
        )
        for t in failed
    )
    if len(failed) < MIN_FAILED_TRIALS:
        return PacketItem(
            "trials",
            label,
            lines,
            missing=f"{len(failed)} failed antidepressant trial(s) on the chart; "
            f"at least {MIN_FAILED_TRIALS} are needed.",
        )
    return PacketItem("trials", label, lines)


def therapy_item(record: PacketRecord) -> PacketItem:
    label = "Psychotherapy history"
    found = [t for t in record.therapies if t.kind in PSYCHOTHERAPY_KINDS]
    if not found:
        return PacketItem("psychotherapy", label, missing="No psychotherapy on the chart.")
    lines = []
    for t in found:
        span = ""
        if t.started_on:
            span = f", {day(t.started_on)} to {day(t.ended_on) if t.ended_on else 'ongoing'}"
        what = f"{t.kind_label}{': ' + t.description if t.description else ''}{span}"
        lines.append(
            Line(
                f"{what} ({t.outcome_label.lower()})",
                f"from the chart: treatment history entered by {t.recorded_by} on "
                f"{day(t.recorded_on)}",
            )
        )
    return PacketItem("psychotherapy", label, tuple(lines))


def score_item(record: PacketRecord) -> PacketItem:
    label = "Latest depression score (PHQ-9 / MADRS)"
    lines = []
    for code in SCORE_INSTRUMENTS:
        of_kind = [s for s in record.scores if s.instrument == code]
        if not of_kind:
            continue
        latest = max(of_kind, key=lambda s: s.on)
        who = f"entered by {latest.entered_by}" if latest.entered_by else "answered by the patient"
        band = f" ({latest.band})" if latest.band else ""
        lines.append(
            Line(
                f"{latest.name}: {latest.total}{band} on {day(latest.on)}",
                f"from the outcome measures: questionnaire {who} on {day(latest.on)}",
            )
        )
    if not lines:
        return PacketItem("score", label, missing="No completed PHQ-9 or MADRS on the record.")
    return PacketItem("score", label, tuple(lines))


def screening_item(record: PacketRecord) -> PacketItem:
    label = "Contraindication check"
    screening = record.screening
    if screening is None:
        return PacketItem(
            "screening", label, missing="The plan's eligibility screening is not signed."
        )
    findings = "; ".join(screening.findings) if screening.findings else "no findings"
    line = Line(
        f"{screening.decision_label} ({findings})",
        f"from the screening: signed by {screening.signed_by} on {day(screening.signed_on)}",
    )
    if not screening.eligible:
        return PacketItem(
            "screening",
            label,
            (line,),
            missing="The signed screening does not find the patient eligible.",
        )
    return PacketItem("screening", label, (line,))


def height_item(record: PacketRecord) -> PacketItem:
    if record.height_cm is None:
        return PacketItem("height", "Height", missing="No height on the patient record.")
    return PacketItem(
        "height",
        "Height",
        (Line(f"{number(record.height_cm)} cm", "from the patient record (demographics)"),),
    )


def weight_item(record: PacketRecord) -> PacketItem:
    weight = record.weight
    if weight is None:
        return PacketItem("weight", "Weight", missing="No weight on the chart.")
    return PacketItem(
        "weight",
        "Weight",
        (
            Line(
                f"{number(weight.kg)} kg, measured {day(weight.measured_on)}",
                f"from the chart: weight entered by {weight.recorded_by}",
            ),
        ),
    )


def rems_item(record: PacketRecord) -> PacketItem:
    label = "Spravato REMS enrolment"
    rems = record.rems
    if rems is None:
        return PacketItem("rems", label, missing="The patient is not enrolled in the REMS.")
    return PacketItem(
        "rems",
        label,
        (
            Line(
                f"REMS patient ID {rems.rems_patient_id}, enrolled {day(rems.enrolled_on)}",
                f"from the REMS enrolment recorded by {rems.recorded_by}",
            ),
        ),
    )


ITEMS = (
    diagnosis_item,
    trials_item,
    therapy_item,
    score_item,
    screening_item,
    height_item,
    weight_item,
    rems_item,
)


def assemble(record: PacketRecord) -> Packet:
    return Packet(record, tuple(build(record) for build in ITEMS))
