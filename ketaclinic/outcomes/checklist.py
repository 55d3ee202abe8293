"""What the pre-session checklist (issue #5) asks of outcomes: was today's PHQ-9 done?"""

from __future__ import annotations

import datetime


def phq9_done_today(patient, day: datetime.date) -> bool:
    """True when a complete PHQ-9 for ``patient`` was submitted on the clinic-local ``day``.

    ``patient`` may be a Patient or its primary key. In-progress and entered-in-error
    responses do not count.
    """
    from .models import Response

    patient_id = getattr(patient, "pk", patient)
    return (
        Response.objects.completed()
        .filter(patient_id=patient_id, instrument_id="phq9")
        .on_local_day(day)
        .exists()
    )
