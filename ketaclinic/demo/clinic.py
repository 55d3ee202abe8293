"""A synthetic demo clinic: staff in every role, rooms and chairs, ~40 patients.

No real people: names are drawn from common first and last names, contact details use
reserved example domains and 555-01xx numbers. Drawn from a fixed seed, so every run builds
the same clinic, and loading twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.audit import trail
from ketaclinic.demo import billing as demo_billing
from ketaclinic.demo import calendar as demo_calendar
from ketaclinic.demo import charges as demo_charges
from ketaclinic.demo import cohort as demo_outcomes
from ketaclinic.demo import consent as demo_consent
from ketaclinic.demo import intake as demo_intake
from ketaclinic.demo import plans as demo_plans
from ketaclinic.demo import sessions as demo_sessions
from ketaclinic.patients.models import (
    Allergy,
    AllergySeverity,
    AntidepressantTrial,
    CareRole,
    CareTeamMember,
    Diagnosis,
    Medication,
    OtherTreatment,
    Patient,
    Sex,
    TreatmentKind,
    TrialOutcome,
    WeightMeasurement,
)
from ketaclinic.scheduling.models import Appointment, Chair, Room, RoomKind

DEMO_PASSWORD = "demo-clinic-2026"
SEED = 2026
MRN_PREFIX = "DEMO"


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: Role
    credentials: str = ""
    superuser: bool = False


STAFF = [
    DemoUser("prescriber", "Maya", "Chen", Role.PRESCRIBER, "MD"),
    DemoUser("prescriber2", "Samuel", "Okafor", Role.PRESCRIBER, "PMHNP"),
    DemoUser("nurse", "Jordan", "Reyes", Role.NURSE, "RN"),
    DemoUser("nurse2", "Priya", "Natarajan", Role.NURSE, "RN"),
    DemoUser("therapist", "Alex", "Kim", Role.THERAPIST, "LCSW"),
    DemoUser("frontdesk", "Pat", "Morgan", Role.FRONT_DESK),
    DemoUser("admin", "Robin", "Hale", Role.CLINIC_ADMIN, superuser=True),
]
PORTAL_USERS = [
    DemoUser("patient", "", "", Role.PATIENT),
    DemoUser("patient2", "", "", Role.PATIENT),
]

ROOMS = [
    ("Infusion suite", RoomKind.INFUSION_SUITE, [f"Chair {n}" for n in range(1, 7)]),
    ("Treatment room A", RoomKind.TREATMENT_ROOM, ["Recliner A"]),
    ("Treatment room B", RoomKind.TREATMENT_ROOM, ["Recliner B"]),
    ("Consult room", RoomKind.CONSULT_ROOM, []),
]

GIVEN = {
    Sex.FEMALE: [
        "Emma",
        "Olivia",
        "Ava",
        "Sophia",
        "Mia",
        "Grace",
        "Hannah",
        "Lucia",
        "Nora",
        "Zoe",
        "Aisha",
        "Leah",
        "Rosa",
        "Elena",
        "Chloe",
    ],
    Sex.MALE: [
        "Liam",
        "Noah",
        "Ethan",
        "Lucas",
        "Mateo",
        "James",
        "Daniel",
        "Omar",
        "Henry",
        "Caleb",
        "Wei",
        "Diego",
        "Marcus",
        "Isaac",
        "Tomas",
    ],
    Sex.OTHER: ["Riley", "Avery", "Quinn", "Sage"],
}
FAMILY = [
    "Anderson",
    "Baker",
    "Carter",
    "Diaz",
    "Evans",
    "Foster",
    "Garcia",
    "Hughes",
    "Ibrahim",
    "Jensen",
    "Khan",
    "Lopez",
    "Murphy",
    "Nguyen",
    "Ortiz",
    "Patel",
    "Quinn",
    "Rossi",
    "Silva",
    "Thompson",
    "Ueda",
    "Vargas",
    "Walsh",
    "Young",
    "Zimmerman",
    "Bennett",
    "Coleman",
    "Dubois",
    "Ferreira",
    "Novak",
]
CITIES = [
    ("Hartford", "CT", "06103"),
    ("New Haven", "CT", "06510"),
    ("Springfield", "MA", "01103"),
    ("Providence", "RI", "02903"),
]

# Primary condition mix of a ketamine clinic: mostly depression (seeds 000, 002).
CONDITIONS = [
    ("F33.2", 30),
    ("F32.2", 10),
    ("F33.1", 8),
    ("R45.851", 5),
    ("F43.12", 12),
    ("F41.1", 8),
    ("F40.11", 3),
    ("F31.4", 8),
    ("F42.2", 5),
    ("G90.521", 4),
    ("M79.7", 4),
    ("G89.4", 3),
]
# Antidepressants with a usual daily dose (mg) for the trial history.
ANTIDEPRESSANTS = [
    ("Sertraline", "ssri", 150),
    ("Escitalopram", "ssri", 20),
    ("Fluoxetine", "ssri", 40),
    ("Citalopram", "ssri", 40),
    ("Paroxetine", "ssri", 40),
    ("Venlafaxine XR", "snri", 225),
    ("Duloxetine", "snri", 60),
    ("Desvenlafaxine", "snri", 100),
    ("Bupropion XL", "atypical_antidepressant", 300),
    ("Mirtazapine", "atypical_antidepressant", 30),
    ("Vortioxetine", "atypical_antidepressant", 20),
    ("Nortriptyline", "tca", 100),
    ("Phenelzine", "maoi", 60),
]
OTHER_MEDICATIONS = [
    ("Lorazepam", "benzodiazepine", "0.5 mg", "as needed"),
    ("Clonazepam", "benzodiazepine", "0.5 mg", "twice daily"),
    ("Zolpidem", "sedative_hypnotic", "5 mg", "at night"),
    ("Lisdexamfetamine", "psychostimulant", "30 mg", "once daily"),
    ("Lamotrigine", "mood_stabilizer", "200 mg", "once daily"),
    ("Lithium carbonate", "mood_stabilizer", "600 mg", "twice daily"),
    ("Aripiprazole", "antipsychotic", "5 mg", "once daily"),
    ("Lisinopril", "antihypertensive", "10 mg", "once daily"),
    ("Tramadol", "opioid", "50 mg", "as needed"),
    ("Gabapentin", "other", "300 mg", "three times daily"),
]
ALLERGIES = [
    ("Penicillin", "rash", AllergySeverity.MODERATE),
    ("Sulfa drugs", "hives", AllergySeverity.MILD),
    ("Latex", "contact dermatitis", AllergySeverity.MILD),
    ("Codeine", "vomiting", AllergySeverity.MODERATE),
]


def load(patients: int = 40) -> dict[str, int]:
    """Create the demo clinic; return how many of each thing were created (0s on a rerun)."""
    with transaction.atomic():
        ensured = [ensure_user(spec) for spec in STAFF + PORTAL_USERS]
        users = {user.username: user for user, _ in ensured}
        users_created = sum(was_created for _, was_created in ensured)
        rooms_created = ensure_rooms()
        created = ensure_patients(patients, users)
        visits_before = Appointment.objects.count()
        demo_calendar.prepare(users)
        demo_plans.load(users)
        demo_calendar.plan_courses(users)
        demo_sessions.load(users)
        demo_calendar.load(users)
        visits = Appointment.objects.count() - visits_before
        if created or rooms_created or users_created or visits:
            trail.record(
                action="demo.load",
                actor_username="demo",
                detail={"patients": created, "rooms": rooms_created, "visits": visits},
            )
        demo_outcomes.load_histories(users)
        demo_intake.load(users)  # issue #12: consultation requests in every triage state
        demo_consent.load()  # issue #12: signed consents for patients with sessions
        demo_billing.load(users)  # issue #13: coverage and prior authorizations
        demo_charges.load(users)  # issue #13: charges, superbills, payments
    return {
        "users": users_created,
        "rooms": rooms_created,
        "patients": created,
        "visits": visits,
    }


def ensure_user(spec: DemoUser) -> tuple[User, bool]:
    user = User.objects.filter(username=spec.username).first()
    if user is not None:
        return user, False
    user = User(
        username=spec.username,
        first_name=spec.first_name,
        last_name=spec.last_name,
        role=spec.role,
        credentials=spec.credentials,
        email=f"{spec.username}@ketaclinic.example",
        is_staff=spec.superuser,
        is_superuser=spec.superuser,
    )
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user, True


def ensure_rooms() -> int:
    created = 0
    for name, kind, chairs in ROOMS:
        room, was_created = Room.objects.get_or_create(name=name, defaults={"kind": kind})
        created += was_created
        for chair in chairs:
            Chair.objects.get_or_create(room=room, name=chair)
    return created


def ensure_patients(count: int, users: dict[str, User]) -> int:
    rng = random.Random(SEED)
    today = timezone.localdate()
    created = 0
    for number in range(1, count + 1):
        mrn = f"{MRN_PREFIX}{number:04d}"
        # Draw every patient's details even if it exists, so later patients stay the same.
        spec = draw_patient(rng, number, today)
        if Patient.objects.filter(mrn=mrn).exists():
            continue
        make_patient(spec, mrn, users, today)
        created += 1
    return created


def draw_patient(rng: random.Random, number: int, today: dt.date) -> dict:
    sex = rng.choices([Sex.FEMALE, Sex.MALE, Sex.OTHER], weights=[55, 42, 3])[0]
    given = rng.choice(GIVEN[sex])
    family = FAMILY[(number * 7 + rng.randrange(len(FAMILY))) % len(FAMILY)]
    age = rng.randint(19, 78)
    born = today - dt.timedelta(days=age * 365 + rng.randint(0, 364))
    city, region, postal = rng.choice(CITIES)
    height = rng.gauss(165 if sex == Sex.FEMALE else 177, 7)
    weight = max(45.0, min(160.0, rng.gauss(70 if sex == Sex.FEMALE else 84, 14)))
    code = rng.choices([c for c, _ in CONDITIONS], weights=[w for _, w in CONDITIONS])[0]
    return {
        "sex": sex,
        "given": given,
        "family": family,
        "born": born,
        "city": city,
        "region": region,
        "postal": postal,
        "height": Decimal(f"{height:.1f}"),
        "weight": weight,
        "weights_age_days": sorted(rng.sample(range(2, 200), rng.randint(1, 4))),
        "weight_drift": [rng.uniform(-3, 3) for _ in range(4)],
        "code": code,
        "trials": rng.sample(ANTIDEPRESSANTS, rng.randint(1, 5)),
        "trial_details": [(rng.randint(4, 26), rng.random()) for _ in range(5)],
        "psychotherapy": rng.random() < 0.8,
        "tms": rng.random() < 0.25,
        "ect": rng.random() < 0.08,
        "prior_ketamine": rng.random() < 0.1,
        "other_meds": rng.sample(OTHER_MEDICATIONS, rng.choice([0, 0, 1, 1, 2])),
        "allergies": rng.sample(ALLERGIES, rng.choice([0, 0, 0, 1, 1, 2])),
        "prescriber": rng.choice(["prescriber", "prescriber2"]),
        "phone": f"860-555-01{number % 100:02d}",
    }


def make_patient(spec: dict, mrn: str, users: dict[str, User], today: dt.date) -> Patient:
    nurse, prescriber = users["nurse"], users[spec["prescriber"]]
    patient = Patient.objects.create(
        mrn=mrn,
        given_name=spec["given"],
        family_name=spec["family"],
        date_of_birth=spec["born"],
        sex=spec["sex"],
        email=f"{spec['given'].lower()}.{spec['family'].lower()}.{mrn.lower()}@example.org",
        phone=spec["phone"],
        address=f"{10 + int(mrn[-3:])} Elm Street",
        city=spec["city"],
        region=spec["region"],
        postal_code=spec["postal"],
        emergency_contact_name="Family member",
        emergency_contact_phone="860-555-0199",
        height_cm=spec["height"],
        created_by=users["frontdesk"],
        user=portal_user_for(mrn, users),
    )
    for days, drift in zip(spec["weights_age_days"], spec["weight_drift"], strict=False):
        WeightMeasurement.objects.create(
            patient=patient,
            weight_kg=Decimal(f"{spec['weight'] + drift:.1f}"),
            measured_on=today - dt.timedelta(days=days),
            recorded_by=nurse,
        )
    Diagnosis.objects.create(
        patient=patient,
        icd10_code=spec["code"],
        onset_on=spec["born"] + dt.timedelta(days=365 * 20),
        recorded_by=prescriber,
    )
    add_history(patient, spec, prescriber, today)
    add_medications(patient, spec, prescriber)
    add_care_team(patient, spec, users)
    return patient


def portal_user_for(mrn: str, users: dict[str, User]) -> User | None:
    """Demo patients 1 and 2 have portal logins ``patient`` and ``patient2``."""
    return {"DEMO0001": users["patient"], "DEMO0002": users["patient2"]}.get(mrn)


def add_history(patient: Patient, spec: dict, prescriber: User, today: dt.date) -> None:
    for (drug, drug_class, dose), (weeks, chance) in zip(
        spec["trials"], spec["trial_details"], strict=False
    ):
        outcome = TrialOutcome.NO_RESPONSE if chance < 0.6 else TrialOutcome.PARTIAL
        if chance > 0.9:
            outcome = TrialOutcome.NOT_TOLERATED
        AntidepressantTrial.objects.create(
            patient=patient,
            drug=drug,
            drug_class=drug_class,
            dose_mg_per_day=Decimal(dose),
            duration_weeks=weeks,
            outcome=outcome,
            adequate=weeks >= 6 and outcome != TrialOutcome.NOT_TOLERATED,
            started_on=today - dt.timedelta(days=weeks * 7 + 400),
            recorded_by=prescriber,
        )
    for wanted, kind, text in [
        (spec["psychotherapy"], TreatmentKind.PSYCHOTHERAPY, "Weekly CBT"),
        (spec["tms"], TreatmentKind.TMS, "36 sessions, left DLPFC"),
        (spec["ect"], TreatmentKind.ECT, "Right unilateral, 8 sessions"),
        (spec["prior_ketamine"], TreatmentKind.KETAMINE, "IV series at another clinic"),
    ]:
        if wanted:
            OtherTreatment.objects.create(
                patient=patient,
                kind=kind,
                description=text,
                started_on=today - dt.timedelta(days=700),
                ended_on=today - dt.timedelta(days=500),
                outcome=TrialOutcome.PARTIAL,
                recorded_by=prescriber,
            )


def add_medications(patient: Patient, spec: dict, prescriber: User) -> None:
    drug, drug_class, dose = spec["trials"][-1]
    Medication.objects.create(
        patient=patient,
        name=drug,
        drug_class=drug_class,
        dose=f"{dose} mg",
        frequency="once daily",
        recorded_by=prescriber,
    )
    for name, drug_class, dose, frequency in spec["other_meds"]:
        Medication.objects.create(
            patient=patient,
            name=name,
            drug_class=drug_class,
            dose=dose,
            frequency=frequency,
            recorded_by=prescriber,
        )
    for substance, reaction, severity in spec["allergies"]:
        Allergy.objects.create(
            patient=patient,
            substance=substance,
            reaction=reaction,
            severity=severity,
            recorded_by=prescriber,
        )


def add_care_team(patient: Patient, spec: dict, users: dict[str, User]) -> None:
    frontdesk = users["frontdesk"]
    CareTeamMember.objects.create(
        patient=patient,
        role=CareRole.PRESCRIBER,
        user=users[spec["prescriber"]],
        recorded_by=frontdesk,
    )
    CareTeamMember.objects.create(
        patient=patient, role=CareRole.THERAPIST, user=users["therapist"], recorded_by=frontdesk
    )
    CareTeamMember.objects.create(
        patient=patient,
        role=CareRole.PRIMARY_CARE,
        name="Dr. Lee Park",
        organisation="Riverside Family Practice",
        phone="860-555-0150",
        recorded_by=frontdesk,
    )
