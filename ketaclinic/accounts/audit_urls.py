"""The audit trail page at /audit/ (namespace ``audit``; the page lives in accounts)."""

from django.urls import path

from . import audit_views

app_name = "audit"
urlpatterns = [path("", audit_views.audit_list, name="list")]
