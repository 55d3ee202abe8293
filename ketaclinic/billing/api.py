"""Billing over the API: coverage on the patient record (charges live in their own modules)."""

from __future__ import annotations

import datetime as dt

from django.db.models import F
from ninja import Field, Router, Schema
from ninja import Status as Reply
from pydantic import ConfigDict

from ketaclinic.patients.access import access_patient

from . import coverage_services
from .coverage import CoverageInput
from .models import Network, SubscriberRelationship

router = Router(tags=["billing"])


class CoverageOut(Schema):
    id: int
    self_pay: bool
    payer_name: str
    member_id: str
    group_number: str
    subscriber_relationship: str
    network: str
    effective_from: dt.date
    effective_to: dt.date | None
    current: bool = Field(description="False once a later change replaced this entry.")
    replaces_id: int | None
    created_at: dt.datetime
    closed_at: dt.datetime | None

    @staticmethod
    def resolve_current(obj) -> bool:
        return obj.closed_at is None


class CoverageIn(Schema):
    """A new coverage entry; the patient's current one is closed and kept as history."""

    model_config = ConfigDict(extra="forbid")

    self_pay: bool = False
    payer_name: str = Field("", max_length=150)
    member_id: str = Field("", max_length=60)
    group_number: str = Field("", max_length=60)
    subscriber_relationship: SubscriberRelationship | None = None
    network: Network = Network.UNKNOWN
    effective_from: dt.date
    effective_to: dt.date | None = None

    def entry(self) -> CoverageInput:
        return CoverageInput(
            self_pay=self.self_pay,
            payer_name=self.payer_name.strip(),
            member_id=self.member_id.strip(),
            group_number=self.group_number.strip(),
            subscriber_relationship=self.subscriber_relationship or "",
            network=self.network,
            effective_from=self.effective_from,
            effective_to=self.effective_to,
        )


@router.get(
    "/patients/{int:patient_id}/coverage",
    response=list[CoverageOut],
    summary="The patient's coverage, current first, with its history",
)
def list_coverage(request, patient_id: int):
    patient = access_patient(request, patient_id, "coverage.view", section="api.coverage")
    # The current entry first, then the history, latest replaced first (on every database).
    return list(patient.coverages.order_by(F("closed_at").desc(nulls_first=True), "-id"))


@router.post(
    "/patients/{int:patient_id}/coverage",
    response={201: CoverageOut},
    summary="Add or change the patient's coverage (the previous entry is kept, closed)",
)
def create_coverage(request, patient_id: int, payload: CoverageIn):
    patient = access_patient(request, patient_id, "coverage.edit")
    coverage = coverage_services.coverage_add(
        request=request, patient=patient, entry=payload.entry()
    )
    return Reply(201, coverage)


# Charges, payments and the coding calculator (issue #13, charges side).
from .charges_api import router as charges_router  # noqa: E402

router.add_router("", charges_router)
