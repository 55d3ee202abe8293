from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from ninja import Field, Query, Router, Schema
from ninja import Status as Reply
from pydantic import ConfigDict, field_validator
from pydantic_core import PydanticCustomError

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
    confirm_duplicate: bool = Field(
        False,
        description="A patient with the same family name, given name and date of birth "
        "(ignoring case and accents) is refused with 409 listing the matching records; "
        "send true to create a new record for a different person anyway.",
    )


class DuplicateFieldError(Schema):
    field: str
    message: str


class DuplicatePatientOut(Schema):
    """409: the standard error body, plus the matching records the caller may see."""

    message: str
    errors: list[DuplicateFieldError]
    candidates: list[int] = Field(description="Ids of the existing records that match.")


CLEAR_WITH_EMPTY = "may not be null; send an empty string to clear it"
REQUIRED = "may not be null: the record needs a value"


class PatientChange(Schema):
    """Only the fields given are changed; an unknown field is an error, not ignored.

    ``null`` is refused (422 naming the field) for every field but ``height_cm``: send an
    empty string to clear a text field; a name, date of birth and sex cannot be cleared.
    """

    model_config = ConfigDict(extra="forbid")

    given_name: str = Field(None, min_length=1, max_length=100, description=REQUIRED)
    family_name: str = Field(None, min_length=1, max_length=100, description=REQUIRED)
    preferred_name: str = Field(None, max_length=100, description=CLEAR_WITH_EMPTY)
    date_of_birth: dt.date = Field(None, description=REQUIRED)
    sex: Sex = Field(None, description=REQUIRED)
    email: str = Field(None, max_length=254, description=CLEAR_WITH_EMPTY)
    phone: str = Field(None, max_length=30, description=CLEAR_WITH_EMPTY)
    address: str = Field(None, max_length=200, description=CLEAR_WITH_EMPTY)
    city: str = Field(None, max_length=100, description=CLEAR_WITH_EMPTY)
    region: str = Field(None, max_length=100, description=CLEAR_WITH_EMPTY)
    postal_code: str = Field(None, max_length=20, description=CLEAR_WITH_EMPTY)
    emergency_contact_name: str = Field(None, max_length=150, description=CLEAR_WITH_EMPTY)
    emergency_contact_phone: str = Field(None, max_length=30, description=CLEAR_WITH_EMPTY)
    height_cm: Decimal | None = Field(None, description="null clears the height.")

    @field_validator("given_name", "family_name", "date_of_birth", "sex", mode="before")
    @classmethod
    def required_not_null(cls, value):
        if value is None:
            raise PydanticCustomError("not_null", REQUIRED)
        return value

    @field_validator(
        "preferred_name",
        "email",
        "phone",
        "address",
        "city",
        "region",
        "postal_code",
        "emergency_contact_name",
        "emergency_contact_phone",
        mode="before",
    )
    @classmethod
    def text_not_null(cls, value):
        if value is None:
            raise PydanticCustomError("not_null", CLEAR_WITH_EMPTY)
        return value


class PatientPage(Schema):
    q: str = Field("", description="Name, MRN, email or date of birth (YYYY-MM-DD)")
    # offset + limit must fit the database's 64-bit LIMIT/OFFSET (else a 500, not a 422).
    offset: int = Field(0, ge=0, le=2**63 - 1 - MAX_PAGE)
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
    if "\x00" in page.q:
        trail.reject(request, "patient.list", ValidationError({"q": services.NUL_MESSAGE}))
    patients = list(Patient.objects.search(page.q)[page.offset : page.offset + page.limit])
    trail.record(action="patient.list", request=request, detail=page.dict())
    return patients


@router.post(
    "",
    response={201: PatientOut, 409: DuplicatePatientOut},
    summary="Register a patient",
    description="409 when the name and date of birth match existing records (ignoring case "
    "and accents): the body lists their ids in `candidates`; repeat with "
    '`"confirm_duplicate": true` to create a new record for a different person.',
)
def create_patient(request, payload: PatientCreate):
    require_permission(request, "patient.create")
    fields = payload.dict(exclude={"confirm_duplicate"})
    try:
        patient = services.patient_create(
            request=request,
            patient=Patient(**fields),
            confirm_duplicate=payload.confirm_duplicate,
        )
    except services.DuplicatePatient as found:  # audited as refused by the service
        return Reply(
            409,
            {
                "message": found.message,
                "errors": [{"field": "confirm_duplicate", "message": found.message}],
                "candidates": [c.pk for c in found.candidates],
            },
        )
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
