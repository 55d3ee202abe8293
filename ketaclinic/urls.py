from django.contrib import admin
from django.urls import include, path

from ketaclinic.analytics import views as analytics_views
from ketaclinic.api import api
from ketaclinic.outcomes.urls import portal_patterns as outcomes_portal
from ketaclinic.patients import portal
from ketaclinic.patients import views as patient_views
from ketaclinic.scheduling import patient_link

admin.site.site_header = "ketaclinic administration"

urlpatterns = [
    path("", patient_views.home, name="home"),
    path("accounts/", include("ketaclinic.accounts.urls")),
    path("patients/", include("ketaclinic.patients.urls")),
    path("patients/<int:patient_id>/screenings/", include("ketaclinic.screening.urls")),
    path("patients/<int:patient_id>/plans/", include("ketaclinic.plans.urls")),
    path("portal/", portal.portal, name="portal"),
    path("portal/questionnaires/", include(outcomes_portal)),
    path("portal/", include("ketaclinic.intake.portal_urls")),
    path("portal/visits/", include("ketaclinic.outcomes.prepare_urls")),
    path("patients/<int:patient_id>/resend/", include("ketaclinic.outcomes.resend_urls")),
    path("patients/<int:patient_id>/intake/", include("ketaclinic.intake.review_urls")),
    path("outcomes/", include("ketaclinic.outcomes.urls")),
    path("dashboard/", include("ketaclinic.analytics.urls")),
    path("assets/plotly.min.js", analytics_views.plotly_js, name="plotly_js"),
    path("audit/", include("ketaclinic.accounts.audit_urls")),
    path("jobs/", include("ketaclinic.jobs.urls")),  # issue #15: background jobs
    path("inventory/", include("ketaclinic.inventory.urls")),
    path("rems/", include("ketaclinic.charting.rems_urls")),
    path("calendar/", include("ketaclinic.scheduling.urls")),
    path("board/", include("ketaclinic.charting.board_urls")),
    path("policy/", include("ketaclinic.charting.policy_urls")),
    path("sessions/", include("ketaclinic.charting.urls")),
    path("billing/", include("ketaclinic.billing.urls")),
    path("billing/", include("ketaclinic.billing.charges_urls")),  # charges, superbills
    path("confirm/<str:token>/", patient_link.confirm, name="confirm"),
    path("api/v1/", api.urls),
    path("fhir/R4/", include("ketaclinic.fhir.urls")),  # issue #14
    path("imports/", include("ketaclinic.fhir.review_urls")),  # issue #14: FHIR import review
    path("", include("ketaclinic.intake.urls")),  # issue #12: /request/, /learn/, /triage/
    path("admin/", admin.site.urls),
]
