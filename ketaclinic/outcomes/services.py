"""Writes for measurement-based care. Each validates, saves and audits in one transaction.

The app's public face for its services, which live by subject:

* ``response_service``: ``response_save`` (answers from the portal, a paper form, a phone
  call or a clinician's interview; scored when complete, fulfilling due measures and
  opening a safety task for every flag in the same transaction) and
  ``response_mark_in_error``.
* ``safety_task_service``: ``safety_task_resolve`` (a clinician documents the follow-up;
  only then does it close) and ``open_safety_tasks``.
* ``measurement_service``: ``tasks_sync``, the measures due over a signed plan's course
  (``schedule.py``).
* ``link_service``: ``link_create`` / ``link_redeem``, single-use, expiring questionnaire
  links.
* ``definition_service``: ``definition_load``, a clinic loads (or updates) an instrument
  definition, validated by ``parse_instrument`` and audited with the old and new version.
"""

from __future__ import annotations

from .definition_service import (
    definition,
    definition_load,
    definition_set_status,
    parse_definition_text,
    usable_definitions,
)
from .link_service import (
    LINK_SESSION_MINUTES,
    LINK_VALID_HOURS,
    link_create,
    link_redeem,
    link_url,
    reminder_link,
)
from .measurement_service import due_tasks, plan_course, tasks_sync, tasks_sync_missing
from .response_service import clean_answers, current_plan, response_mark_in_error, response_save
from .safety_task_service import care_team_prescriber, open_safety_tasks, safety_task_resolve

__all__ = [
    "LINK_SESSION_MINUTES",
    "LINK_VALID_HOURS",
    "care_team_prescriber",
    "clean_answers",
    "current_plan",
    "definition",
    "definition_load",
    "definition_set_status",
    "due_tasks",
    "link_create",
    "link_redeem",
    "link_url",
    "open_safety_tasks",
    "parse_definition_text",
    "plan_course",
    "reminder_link",
    "response_mark_in_error",
    "response_save",
    "safety_task_resolve",
    "tasks_sync",
    "tasks_sync_missing",
    "usable_definitions",
]
