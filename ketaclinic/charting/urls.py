from django.urls import path

from . import views

app_name = "charting"

urlpatterns = [
    path("open/<int:appointment_id>/", views.open_session, name="open"),
    path("<int:session_id>/", views.session_page, name="session"),
    path("<int:session_id>/monitoring/", views.monitoring_panel, name="monitoring"),
    path("<int:session_id>/concentration/", views.concentration_panel, name="concentration"),
    path("<int:session_id>/checklist/", views.checklist_record, name="checklist"),
    path("<int:session_id>/checklist/override/", views.checklist_override, name="override"),
    path("<int:session_id>/start/", views.start, name="start"),
    path("<int:session_id>/not-started/", views.not_started, name="not_started"),
    path("<int:session_id>/infusion/", views.infusion, name="infusion"),
    path("<int:session_id>/injection/", views.bolus, name="bolus"),
    path("<int:session_id>/device/", views.device, name="device"),
    path("<int:session_id>/end-dose/", views.end_dose, name="end_dose"),
    path("<int:session_id>/product/", views.product, name="product"),
    path("<int:session_id>/medication/", views.medication, name="medication"),
    path("<int:session_id>/vitals/", views.vitals, name="vitals"),
    path(
        "<int:session_id>/alerts/<int:alert_id>/acknowledge/",
        views.acknowledge,
        name="acknowledge",
    ),
    path("<int:session_id>/dissociation/", views.dissociation, name="dissociation"),
    path("<int:session_id>/side-effects/", views.side_effect, name="side_effect"),
    path("<int:session_id>/adverse-events/", views.adverse_event, name="adverse_event"),
    path("<int:session_id>/discharge/", views.discharge, name="discharge"),
    path("<int:session_id>/discharge/instructions/", views.instructions, name="instructions"),
    path("<int:session_id>/integration-notes/", views.integration_note, name="integration_note"),
    path(
        "<int:session_id>/entries/<slug:kind>/<int:entry_id>/error/",
        views.entry_in_error,
        name="entry_in_error",
    ),
]
