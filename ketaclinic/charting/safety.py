"""Session safety, the public face: vital-sign alerts, monitoring, discharge, side effects.

Each part lives in its own pure module, named after what it is about; this module gathers
them so callers can keep writing ``safety.evaluate`` or ``safety.DEFAULT_DISCHARGE``:

- ``alert_rules.py``: the clinic's vital-sign policy (rules, labels, advice per phase);
- ``alerts.py``: which rules a session's readings meet, in the clinic's words;
- ``monitoring.py``: when vital signs are expected and which checks are done or due;
- ``discharge.py``: what still stands between the patient and discharge;
- ``side_effects.py``: the side effects a chart can record.

Everything clinical is data in ``charting/data/``, each entry naming its source. The
software advises; a named clinician decides. Nothing here stops an infusion or signs a
discharge: it lists alerts, due checks and unmet criteria.

Pure module: no Django import.
"""

from __future__ import annotations

from ketaclinic.charting.alert_rules import (
    DEFAULT_PHASE,
    DEFAULT_POLICY,
    LEVELS,
    OPERATORS,
    PHASES,
    Condition,
    Sustained,
    VitalSignPolicy,
    VitalSignRule,
    label_of,
    load_policy,
    phase_at,
)
from ketaclinic.charting.alerts import (
    Alert,
    evaluate,
    evaluate_series,
    evaluate_vitals_request,
)
from ketaclinic.charting.data_files import PolicyError
from ketaclinic.charting.discharge import (
    DEFAULT_DISCHARGE,
    Blocker,
    DischargeAssessment,
    DischargeCriterion,
    DischargePolicy,
    DrivingAdvice,
    ObservationRule,
    discharge_blockers,
    load_discharge,
)
from ketaclinic.charting.monitoring import (
    ANCHORS,
    CHECK_STATUSES,
    DEFAULT_MONITORING,
    MonitoringCheck,
    MonitoringPolicy,
    MonitoringSchedule,
    ScheduledCheck,
    load_monitoring,
    monitoring_checks,
)
from ketaclinic.charting.side_effects import (
    SIDE_EFFECTS,
    SideEffect,
    SideEffectVocabulary,
    load_side_effects,
)

__all__ = [
    "ANCHORS",
    "CHECK_STATUSES",
    "DEFAULT_DISCHARGE",
    "DEFAULT_MONITORING",
    "DEFAULT_PHASE",
    "DEFAULT_POLICY",
    "LEVELS",
    "OPERATORS",
    "PHASES",
    "SIDE_EFFECTS",
    "Alert",
    "Blocker",
    "Condition",
    "DischargeAssessment",
    "DischargeCriterion",
    "DischargePolicy",
    "DrivingAdvice",
    "MonitoringCheck",
    "MonitoringPolicy",
    "MonitoringSchedule",
    "ObservationRule",
    "PolicyError",
    "ScheduledCheck",
    "SideEffect",
    "SideEffectVocabulary",
    "Sustained",
    "VitalSignPolicy",
    "VitalSignRule",
    "discharge_blockers",
    "evaluate",
    "evaluate_series",
    "evaluate_vitals_request",
    "label_of",
    "load_discharge",
    "load_monitoring",
    "load_policy",
    "load_side_effects",
    "monitoring_checks",
    "phase_at",
]
