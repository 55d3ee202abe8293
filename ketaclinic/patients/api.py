from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Query, Router, Schema
from ninja import Status as Reply
from pydantic import ConfigDict

from ketaclinic.accounts.access import require_permission
from ketaclinic.accounts.roles import Role
from ketaclinic.audit import trail

from . import services
from .access import access_patient
from .models import Patient, Sex, WeightMeasurement

router = Router(tags=["patients"])
MAX_PAGE = 200


class PatientOut(Schema):
    id: int
    mrn: str
    given_name: str
    family_name: str
    preferred_name: str
    date_of_birth: dt.date
    sex: Sex
    email: str
    phone: str
    height_cm: Decimal | None


class PatientCreate(Schema):
    model_config = ConfigDict(extra="forbid")

    given_name: str = Field(min_length=1, max_length=100)
    family_name: str = Field(min_length=1, max_length=100)
    preferred_name: str = Field("", max_length=100)
    date_of_birth: dt.date
    sex: Sex
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=30)
    address: str = Field("", max_length=200)
    city: str = Field("", max_length=100)
    region: str = Field("", max_length=100)
    postal_code: str = Field("", max_length=20)
    emergency_contact_name: str = Field("", max_length=150)
    emergency_contact_phone: str = Field("", max_length=30)
    height_cm: Decimal | None = None


class PatientChange(Schema):
    """Only the fields given are changed; an unknown field is an error, not ignored."""

    model_config = ConfigDict(extra="forbid")

    given_name: str | None = Field(None, min_length=1, max_length=100)
    family_name: str | None = Field(None, min_length=1, max_length=100)
    preferred_name: str | None = Field(None, max_length=100)
    date_of_birth: dt.date | None = None
    sex: Sex | None = None
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=30)
    address: str | None = Field(None, max_length=200)
    city: str | None = Field(None, max_length=100)
    region: str | None = Field(None, max_length=100)
    postal_code: str | None = Field(None, max_length=20)
    emergency_contact_name: str | None = Field(None, max_length=150)
    emergency_contact_phone: str | None = Field(None, max_length=30)
    height_cm: Decimal | None = None


class PatientPage(Schema):
    q: str = Field("", description="Name, MRN, email or date of birth (YYYY-MM-DD)")
    offset: int = Field(0, ge=0)
    limit: int = Field(50, ge=1, le=MAX_PAGE)


class WeightIn(Schema):
    weight_kg: Decimal = Field(max_digits=4, decimal_places=1)
    measured_on: dt.date


class WeightOut(Schema):
    id: int
    weight_kg: Decimal
    measured_on: dt.date
    status: str
    recorded_at: dt.datetime
    recorded_by: str = Field(alias="recorded_by.username")


@router.get("", response=list[PatientOut], summary="Patients the caller may see")
def list_patients(request, page: Query[PatientPage]):
    if request.user.role == Role.PATIENT:
        own = getattr(request.user, "patient_record", None)
        patients = [own] if own is not None else []
        trail.record(action="patient.list", request=request, detail={"scope": "own"})
        return patients
    require_permission(request, "patient.list")
    patients = list(Patient.objects.search(page.q)[page.offset : page.offset + page.limit])
    trail.record(action="patient.list", request=request, detail=page.dict())
    return patients


@router.post("", response={201: PatientOut}, summary="Register a patient")
def create_patient(request, payload: PatientCreate):
    require_permission(request, "patient.create")
    patient = services.patient_create(request=request, patient=Patient(**payload.dict()))
    return Reply(201, patient)


@router.get("/{int:patient_id}", response=PatientOut)
def get_patient(request, patient_id: int):
    return access_patient(request, patient_id, section="api")


@router.post("/{int:patient_id}", response=PatientOut, summary="Change demographics")
def change_patient(request, patient_id: int, payload: PatientChange):
    patient = access_patient(request, patient_id, "patient.edit_demographics")
    changes = payload.dict(exclude_unset=True)
    services.patient_update(request=request, patient=patient, changes=changes)
    return patient


@router.get("/{int:patient_id}/weights", response=list[WeightOut])
def list_weights(request, patient_id: int):
    patient = access_patient(request, patient_id, "patient.view_clinical", section="api.weights")
    return patient.weights.select_related("recorded_by")


@router.post("/{int:patient_id}/weights", response={201: WeightOut})
def record_weight(request, patient_id: int, payload: WeightIn):
    patient = access_patient(request, patient_id, "weight.record")
    entry = WeightMeasurement(patient=patient, **payload.dict())
    services.entry_record(request=request, entry=entry, kind="weight")
    return Reply(201, entry)
