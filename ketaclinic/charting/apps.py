from django.apps import AppConfig


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


class ChartingConfig(AppConfig):
    name = "ketaclinic.charting"
    label = "charting"

    def ready(self) -> None:
        from ketaclinic.scheduling import holds

        holds.register(open_session_holds_visit)
        from ketaclinic.patients.chart import register_tab

        from .tabs import sessions_tab

        register_tab("sessions", "Sessions", "session.view", sessions_tab, position=80)
        from ketaclinic.jobs.registry import register_command, timedelta

        register_command(
            "prune_ingestion_keys",
            every=timedelta(days=1),
            description="Forget bedside monitors' idempotency keys older than 24 hours.",
        )
