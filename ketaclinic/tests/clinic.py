"""A small clinic for API-wide tests: one patient with a record in every app, so the ids a
generated request names can exist, a monitor in the patient's chair, and API tokens."""

from __future__ import annotations

from dataclasses import dataclass

from ketaclinic.accounts.models import ApiToken, User
from ketaclinic.charting.models import TreatmentSession
from ketaclinic.charting.tests.floor import make_chairs, make_session, monitor_in
from ketaclinic.inventory.models import Lot
from ketaclinic.inventory.tests.helpers import receive
from ketaclinic.outcomes import services as outcomes
from ketaclinic.outcomes.models import Response
from ketaclinic.patients.models import Patient
from ketaclinic.plans.tests.helpers import request_by
from ketaclinic.scheduling.models import Appointment


@dataclass
class Clinic:
    patient: Patient
    session: TreatmentSession
    lot: Lot
    response: Response
    visit: Appointment | None
    staff_token: str
    patient_token: str
    monitor_token: str

    def ids(self) -> dict[str, int | str]:
        """A real value for each path parameter name the API uses."""
        plan = self.patient.plans.first()
        screening = self.patient.screenings.first()
        return {
            "patient_id": self.patient.pk,
            "plan_id": plan.pk,
            "screening_id": screening.pk,
            "session_id": self.session.pk,
            "lot_id": self.lot.pk,
            "appointment_id": self.visit.pk if self.visit else self.patient.pk,
            "code": self.response.instrument_id,
        }


def make_clinic(prescriber: User, nurse: User, patient: Patient) -> Clinic:
    (chair,) = make_chairs(1)
    session = make_session(patient=patient, prescriber=prescriber, nurse=nurse, chair=chair)
    _, monitor_token = monitor_in(chair)
    lot = receive(nurse, vials=3).lot
    response = outcomes.response_save(
        request=request_by(nurse),
        patient=patient,
        definition=outcomes.definition("phq9"),
        answers=[1, 1, 2, 1, 0, 1, 1, 0, 0],
        channel="paper",
    )
    _, staff_token = ApiToken.issue(prescriber, "contract tests")
    _, patient_token = ApiToken.issue(patient.user, "contract tests")
    return Clinic(
        patient=patient,
        session=session,
        lot=lot,
        response=response,
        visit=Appointment.objects.filter(patient=patient).first(),
        staff_token=staff_token,
        patient_token=patient_token,
        monitor_token=monitor_token,
    )
