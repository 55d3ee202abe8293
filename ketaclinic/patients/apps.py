from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "ketaclinic.patients"
    label = "patients"

    def ready(self) -> None:
        # The audit trail page (accounts) filters by MRN; accounts may not import patients.
        from ketaclinic.accounts import audit_views

        from .models import Patient

        audit_views.register_patient_finder(Patient.objects.id_for_mrn)
