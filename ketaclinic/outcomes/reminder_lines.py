"""The questionnaires-due paragraph of a visit's preparation reminder.

Scheduling writes the reminder but comes before outcomes in the clinic's order, so outcomes
adds this paragraph from ``OutcomesConfig.ready()`` (``scheduling.reminders.register_lines``).
"""

from __future__ import annotations

from . import services


def questionnaire_lines(appointment) -> list[str]:
    """A single-use, expiring link to the questionnaires due before the visit, if any."""
    due = [
        task
        for task in services.due_tasks(appointment.patient_id)
        if task.instrument.rater == "patient"
    ]
    if not due:
        return []
    names = ", ".join(sorted({task.instrument.name for task in due}))
    return [
        "",
        f"Before your visit, please answer: {names}. This link works once:",
        services.reminder_link(appointment.patient),
    ]
