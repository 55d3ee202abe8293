"""Signed consents for the detailed demo patients who have treatment sessions (issue #12).

Each patient signed the current version of the consent document for every route they were
treated by, the day before their first session on it: on the portal when they have a portal
account, otherwise on paper (recorded as such). Idempotent: a rerun adds nothing.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Min

from ketaclinic.audit import trail
from ketaclinic.charting.models import TreatmentSession
from ketaclinic.demo import cohort
from ketaclinic.intake import consent
from ketaclinic.intake.models import ConsentSignature
from ketaclinic.patients.models import Patient


def load() -> int:
    """Sign what is missing; the number of signatures created."""
    # The detailed demo patients; the bulk outcomes cohort (added after load()) has no chart.
    firsts = (
        TreatmentSession.objects.exclude(patient__mrn__startswith=cohort.MRN_PREFIX)
        .values("patient_id", "route")
        .annotate(first=Min("opened_at"))
        .order_by("patient_id", "route")
    )
    patients = Patient.objects.in_bulk({row["patient_id"] for row in firsts})
    have = set(
        ConsentSignature.objects.valid().values_list(
            "patient_id", "document_code", "document_version"
        )
    )
    wanted: dict[tuple[int, str], tuple[consent.ConsentDocument, dt.datetime]] = {}
    for row in firsts:
        document = consent.document_for_route(row["route"])
        if document is None or row["first"] is None:
            continue
        key = (row["patient_id"], document.code)
        if key not in wanted or row["first"] < wanted[key][1]:
            wanted[key] = (document, row["first"])
    rows = []
    for (patient_id, code), (document, first) in sorted(wanted.items()):
        if (patient_id, code, document.version) in have:
            continue
        patient = patients[patient_id]
        rows.append(
            ConsentSignature(
                patient=patient,
                document_code=code,
                document_version=document.version,
                document_title=document.title[:200],
                text_sha256=document.sha256,
                typed_name=f"{patient.given_name} {patient.family_name}",
                signed_at=first - dt.timedelta(days=1),
                signed_by=patient.user,
                via="portal" if patient.user_id else "paper",
            )
        )
    ConsentSignature.objects.bulk_create(rows)
    if rows:
        trail.record(
            action="demo.consents",
            actor_username="demo",
            detail={"signatures": len(rows)},
        )
    return len(rows)
