"""Transitional face of the session services, split by phase into ``*_service.py`` modules.

Kept only while the views move to the phase modules; import from those instead.
"""

from __future__ import annotations

from . import safety
from .administration_service import (
    DeviceResult,
    RateRange,
    administration_record,
    bolus_record,
    delivered,
    device_record,
    device_rest_warnings,
    infusion_record,
    pure_infusion,
    rate_range,
    session_delivered,
)
from .checklist_facts import checklist_conditions, checklist_facts, fasting_rule
from .checklist_service import (
    checklist_entries,
    checklist_override,
    checklist_record,
    checklist_rows,
    checklist_states,
)
from .discharge_service import (
    DoseWindow,
    discharge_assessment,
    discharge_instructions,
    discharge_sign,
    dose_window,
    integration_note_write,
    monitoring,
    observation_anchor,
    reference_moment,
)
from .dose_service import dose_end, session_not_started, session_start
from .in_error_service import ENTRY_KINDS, entry_mark_in_error
from .medication_service import medication_give, product_record
from .models import ACTIVE
from .observation_service import (
    DissociationOptions,
    adverse_event_record,
    dissociation_options,
    dissociation_record,
    side_effect_record,
)
from .session_service import (
    AFTER_START,
    ROUTE_WORDS,
    dose_minute,
    final,
    local_time,
    now,
    session_day,
)
from .vitals_service import alert_acknowledge, reading_text, vitals_enter

__all__ = [
    "ACTIVE",
    "AFTER_START",
    "ENTRY_KINDS",
    "ROUTE_WORDS",
    "DeviceResult",
    "DissociationOptions",
    "DoseWindow",
    "RateRange",
    "administration_record",
    "adverse_event_record",
    "alert_acknowledge",
    "bolus_record",
    "checklist_conditions",
    "checklist_entries",
    "checklist_facts",
    "checklist_override",
    "checklist_record",
    "checklist_rows",
    "checklist_states",
    "delivered",
    "device_record",
    "device_rest_warnings",
    "discharge_assessment",
    "discharge_instructions",
    "discharge_sign",
    "dissociation_options",
    "dissociation_record",
    "dose_end",
    "dose_minute",
    "dose_window",
    "entry_mark_in_error",
    "fasting_rule",
    "final",
    "infusion_record",
    "integration_note_write",
    "local_time",
    "medication_give",
    "monitoring",
    "now",
    "observation_anchor",
    "product_record",
    "pure_infusion",
    "rate_range",
    "reading_text",
    "reference_moment",
    "safety",
    "session_day",
    "session_delivered",
    "session_not_started",
    "session_start",
    "side_effect_record",
    "vitals_enter",
]
