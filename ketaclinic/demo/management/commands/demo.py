from django.core.management.base import BaseCommand

from ketaclinic.demo import clinic, cohort

LOGINS = [
    ("prescriber", "Prescriber (Dr. Maya Chen, MD)"),
    ("prescriber2", "Prescriber (Samuel Okafor, PMHNP)"),
    ("nurse", "Nurse (Jordan Reyes, RN)"),
    ("nurse2", "Nurse (Priya Natarajan, RN)"),
    ("therapist", "Therapist (Alex Kim, LCSW)"),
    ("frontdesk", "Front desk (Pat Morgan)"),
    ("admin", "Clinic admin (Robin Hale), also Django admin"),
    ("patient", "Patient portal (demo patient DEMO0001)"),
    ("patient2", "Patient portal (demo patient DEMO0002)"),
]


class Command(BaseCommand):
    help = "Load the synthetic demo clinic (idempotent: a second run changes nothing)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--patients",
            type=int,
            default=cohort.DETAILED_PATIENTS + cohort.DEFAULT_COHORT,
            help="Patients in all. Beyond the 40 detailed demo patients, the rest form a "
            "multi-year outcomes cohort for the dashboard (demo/cohort.py), e.g. 20000. "
            f"Default: {cohort.DETAILED_PATIENTS} + {cohort.DEFAULT_COHORT}.",
        )
        parser.add_argument("--quiet-logins", action="store_true", help="Do not print logins.")

    def handle(self, patients, quiet_logins, **options):
        created = clinic.load(patients=min(patients, cohort.DETAILED_PATIENTS))
        if patients > cohort.DETAILED_PATIENTS:
            made = cohort.load_cohort(
                patients - cohort.DETAILED_PATIENTS,
                progress=(
                    (
                        lambda c: self.stdout.write(
                            f"  cohort: {c['patients']} patients, {c['courses']} courses",
                            ending="\r",
                        )
                    )
                    if options["verbosity"] >= 1
                    else None
                ),
            )
            self.stdout.write(
                "\ncohort: created {patients} patients, {courses} courses, {sessions} sessions, "
                "{responses} questionnaires".format(**made)
            )
        self.stdout.write(
            "demo clinic: created {users} users, {rooms} rooms, {patients} patients, "
            "{visits} visits".format(**created)
        )
        if not quiet_logins:
            self.stdout.write(f"\nDemo logins (password for all: {clinic.DEMO_PASSWORD}):")
            for username, who in LOGINS:
                self.stdout.write(f"  {username:<12} {who}")
