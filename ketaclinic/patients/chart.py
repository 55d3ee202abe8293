"""The patient chart: its tabs, the registry later apps add theirs to, and patients' own tabs.

Patients comes early in the clinic's order, yet the chart shows what later apps record
(screening and plan, sessions, outcomes, intake, billing, imported records). This app may not
import them, so each registers its tab from its ``AppConfig.ready()`` with :func:`register_tab`,
as Django's admin does with ``admin.site.register``. A tab's template is
``patients/tabs/<slug>.html``; its loader returns the template's context.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.paginator import Paginator

from ketaclinic.accounts.permissions import can
from ketaclinic.audit.models import AuditEvent

from .entries import KINDS
from .models import Patient

PAGE_SIZE = 50

TabLoader = Callable[..., dict]


# slug -> (label, permission), in the order the chart shows them; the first is the default.
TABS: dict[str, tuple[str, str]] = {}
TAB_LOADERS: dict[str, TabLoader] = {}
_positions: dict[str, int] = {}


def register_tab(slug: str, label: str, permission: str, loader: TabLoader, *, position: int):
    """Add a chart tab, shown by ``position`` (patients' own: 10-50; "Record changes": last).

    Registering the same slug again only replaces its loader.
    """
    TAB_LOADERS[slug] = loader
    if slug in TABS:
        return
    _positions[slug] = position
    tabs = [*TABS.items(), (slug, (label, permission))]
    tabs.sort(key=lambda item: _positions[item[0]])  # stable: equal positions keep their order
    TABS.clear()
    TABS.update(tabs)


def visible_tabs(user) -> list[tuple[str, str]]:
    """(slug, label) of the tabs ``user``'s role may open."""
    return [(slug, label) for slug, (label, permission) in TABS.items() if can(user, permission)]


def chart_context(request, patient: Patient, tab: str) -> dict:
    """The chart page's context with ``tab`` open (already access-checked)."""
    context = {"patient": patient, "tab": tab, "tabs": visible_tabs(request.user)}
    context.update(TAB_LOADERS[tab](request, patient))
    return context


# --- Patients' own tabs ----------------------------------------------------------------------


def summary_tab(request, patient: Patient) -> dict:
    context = {
        "care_team": patient.care_team.valid().select_related("user"),
        "upcoming": patient.appointments.upcoming().select_related("type", "chair__room")[:8],
    }
    if can(request.user, "patient.view_clinical"):
        context.update(
            weight=patient.current_weight(),
            diagnoses=patient.diagnoses.valid().filter(status="active"),
            medications=patient.medications.valid().filter(status="active"),
            allergies=patient.allergies.valid(),
            adequate_trials=patient.antidepressant_trials.valid().filter(adequate=True).count(),
        )
    return context


def history_tab(request, patient: Patient) -> dict:
    return {
        "diagnoses": patient.diagnoses.select_related("recorded_by"),
        "trials": patient.antidepressant_trials.select_related("recorded_by"),
        "treatments": patient.treatments.select_related("recorded_by"),
        "adequate_trials": patient.antidepressant_trials.valid().filter(adequate=True).count(),
    }


def medications_tab(request, patient: Patient) -> dict:
    return {
        "medications": patient.medications.select_related("recorded_by"),
        "allergies": patient.allergies.select_related("recorded_by"),
    }


def weights_tab(request, patient: Patient) -> dict:
    return {
        "weights": patient.weights.select_related("recorded_by"),
        "weight": patient.current_weight(),
        "add_form": KINDS["weights"].form(),
    }


def care_team_tab(request, patient: Patient) -> dict:
    return {"care_team": patient.care_team.select_related("user", "recorded_by")}


def changes_tab(request, patient: Patient) -> dict:
    events = AuditEvent.objects.for_patient(patient.pk).exclude(action="patient.view")
    return {"events": Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))}


register_tab("summary", "Summary", "patient.view", summary_tab, position=10)
register_tab("history", "History", "patient.view_clinical", history_tab, position=20)
register_tab(
    "medications", "Medications & allergies", "patient.view_clinical", medications_tab, position=30
)
register_tab("weights", "Weights", "patient.view_clinical", weights_tab, position=40)
register_tab("care-team", "Care team", "patient.view", care_team_tab, position=50)
register_tab("changes", "Record changes", "patient.view_changes", changes_tab, position=1000)
