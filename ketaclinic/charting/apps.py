import datetime as dt

from django.apps import AppConfig
from django.utils import timezone


def open_session_holds_visit(appointment) -> str | None:
    """A visit whose session was charted stays checked in: the chart hangs on the visit.

    A session marked not started or entered in error no longer holds it.
    """
    from .models import SessionStatus, TreatmentSession

    session = (
        TreatmentSession.objects.filter(appointment_id=appointment.pk)
        .exclude(status__in=(SessionStatus.NOT_STARTED, SessionStatus.ENTERED_IN_ERROR))
        .only("status")
        .first()
    )
    if session is None:
        return None
    return (
        f"Its treatment session is already open ({session.get_status_display().lower()}): "
        "end it as not started, or mark it entered in error, before undoing the check-in "
        "or cancelling the visit."
    )


def todays_blood_pressure(patient):
    """The latest final blood pressure charted for ``patient`` today (any session), or None.

    Registered with screening, which offers it on the screening form.
    """
    from .models import RecordStatus, VitalReading

    start = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(0)))
    return (
        VitalReading.objects.filter(
            session__patient=patient,
            status=RecordStatus.FINAL,
            at__gte=start,
            systolic_mmhg__isnull=False,
            diastolic_mmhg__isnull=False,
        )
        .order_by("-at")
        .only("at", "systolic_mmhg", "diastolic_mmhg")
        .first()
    )


def driving_advice(route: str):
    """The discharge policy's driving advice for ``route``, as a visit instruction.

    Registered with scheduling, which lists it among the preparation instructions.
    """
    from ketaclinic.scheduling.preparation import Instruction

    from .safety import DEFAULT_DISCHARGE

    advice = DEFAULT_DISCHARGE.driving_advice_for(route)
    return Instruction(advice.text, advice.source)


class ChartingConfig(AppConfig):
    name = "ketaclinic.charting"
    label = "charting"

    def ready(self) -> None:
        from ketaclinic.scheduling import holds

        holds.register(open_session_holds_visit)
        from ketaclinic.screening import blood_pressure

        blood_pressure.register_reader(todays_blood_pressure)
        from ketaclinic.scheduling import preparation

        preparation.register_route_advice(driving_advice)
        from ketaclinic.patients.chart import register_tab

        from .tabs import sessions_tab

        register_tab("sessions", "Sessions", "session.view", sessions_tab, position=80)
        from ketaclinic.jobs.registry import register_command, timedelta

        register_command(
            "prune_ingestion_keys",
            every=timedelta(days=1),
            description="Forget bedside monitors' idempotency keys older than 24 hours.",
        )
