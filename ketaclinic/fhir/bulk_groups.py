"""The clinic's cohort Groups, for ``GET /fhir/R4/Group`` and ``Group/{id}/$export``.

A Group is computed from the record, never stored (no second copy of the data):

- ``active-plans``: every patient with an active (signed, not finished) treatment plan;
- ``protocol-<code>``: every patient with a signed plan on that protocol (any status but
  draft or entered in error), e.g. ``protocol-iv-ketamine-6``.

Members are read at export time; the Group resource carries the count (``quantity``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from ketaclinic.plans.models import TreatmentPlan
from ketaclinic.protocols.models import Protocol


@dataclass(frozen=True)
class Cohort:
    id: str
    name: str
    plans: QuerySet

    def patient_ids(self) -> list[int]:
        return sorted(set(self.plans.values_list("patient_id", flat=True)))

    def to_fhir(self) -> dict:
        return {
            "resourceType": "Group",
            "id": self.id,
            "type": "person",
            "actual": True,
            "name": self.name,
            "quantity": len(self.patient_ids()),
        }


def _plans() -> QuerySet:
    return TreatmentPlan.objects.exclude(status__in=("draft", "entered-in-error"))


def all_cohorts() -> list[Cohort]:
    cohorts = [
        Cohort(
            "active-plans", "Patients on an active treatment plan", _plans().filter(status="active")
        )
    ]
    for protocol in Protocol.objects.order_by("code"):
        cohorts.append(
            Cohort(
                f"protocol-{protocol.code}",
                f"Patients treated by the protocol: {protocol.name}",
                _plans().filter(protocol=protocol),
            )
        )
    return cohorts


def find(group_id: str) -> Cohort | None:
    if len(group_id) > 64 or "\x00" in group_id:
        return None
    if group_id == "active-plans":
        return all_cohorts()[0]
    if group_id.startswith("protocol-"):
        protocol = Protocol.objects.filter(code=group_id.removeprefix("protocol-")).first()
        if protocol is not None:
            return Cohort(
                group_id,
                f"Patients treated by the protocol: {protocol.name}",
                _plans().filter(protocol=protocol),
            )
    return None
