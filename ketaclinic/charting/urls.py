"""The treatment-session URLs, each served by the views module of its phase."""

from django.urls import path

from . import (
    administration_views,
    checklist_views,
    discharge_views,
    observation_views,
    session_views,
    vitals_views,
)

app_name = "charting"

urlpatterns = [
    path("open/<int:appointment_id>/", session_views.open_session, name="open"),
    path("<int:session_id>/", session_views.session_page, name="session"),
    path("<int:session_id>/monitoring/", vitals_views.monitoring_panel, name="monitoring"),
    path(
        "<int:session_id>/concentration/",
        session_views.concentration_panel,
        name="concentration",
    ),
    path("<int:session_id>/checklist/", checklist_views.checklist_record, name="checklist"),
    path(
        "<int:session_id>/checklist/override/",
        checklist_views.checklist_override,
        name="override",
    ),
    path("<int:session_id>/start/", checklist_views.start, name="start"),
    path("<int:session_id>/not-started/", checklist_views.not_started, name="not_started"),
    path("<int:session_id>/infusion/", administration_views.infusion, name="infusion"),
    path("<int:session_id>/injection/", administration_views.bolus, name="bolus"),
    path("<int:session_id>/device/", administration_views.device, name="device"),
    path("<int:session_id>/end-dose/", administration_views.end_dose, name="end_dose"),
    path("<int:session_id>/product/", administration_views.product, name="product"),
    path("<int:session_id>/medication/", administration_views.medication, name="medication"),
    path("<int:session_id>/vitals/", vitals_views.vitals, name="vitals"),
    path(
        "<int:session_id>/alerts/<int:alert_id>/acknowledge/",
        vitals_views.acknowledge,
        name="acknowledge",
    ),
    path("<int:session_id>/dissociation/", observation_views.dissociation, name="dissociation"),
    path("<int:session_id>/side-effects/", observation_views.side_effect, name="side_effect"),
    path(
        "<int:session_id>/adverse-events/",
        observation_views.adverse_event,
        name="adverse_event",
    ),
    path("<int:session_id>/discharge/", discharge_views.discharge, name="discharge"),
    path(
        "<int:session_id>/discharge/instructions/",
        discharge_views.instructions,
        name="instructions",
    ),
    path(
        "<int:session_id>/integration-notes/",
        discharge_views.integration_note,
        name="integration_note",
    ),
    path(
        "<int:session_id>/entries/<slug:kind>/<int:entry_id>/error/",
        session_views.entry_in_error,
        name="entry_in_error",
    ),
]
