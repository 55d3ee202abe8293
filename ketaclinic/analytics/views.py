"""The clinic dashboard (clinic admin and prescribers), its CSV export, and Plotly's JS."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from ketaclinic.accounts.access import require_permission
from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.charting.models import AdverseEvent, SafetyAlert

from . import summary as summaries
from .assets import plotly_js_path, plotly_version
from .cohort import GIVEN_EXCLUDED, CohortFilter, build_cohort, write_csv

YEAR_S = 365 * 24 * 3600


class DashboardFilterForm(forms.Form):
    start = forms.DateField(
        label="Courses starting from",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.DateField(
        label="to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    indication = forms.ChoiceField(
        required=False, choices=[("", "All indications"), *summaries.INDICATIONS.items()]
    )
    route = forms.ChoiceField(
        required=False, choices=[("", "All routes"), *summaries.ROUTES.items()]
    )
    prescriber = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        prescribers = User.objects.filter(role=Role.PRESCRIBER).order_by("last_name", "first_name")
        self.fields["prescriber"].choices = [("", "All prescribers")] + [
            (u.pk, u.display_name) for u in prescribers
        ]

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("The start date is after the end date.")
        return data

    def cohort_filter(self) -> CohortFilter:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return CohortFilter(
            start=data.get("start"),
            end=data.get("end"),
            indication=data.get("indication") or None,
            route=data.get("route") or None,
            prescriber_id=data.get("prescriber"),
        )


def safety_counts(cohort) -> dict[str, int]:
    """Adverse events and vital-sign alerts in the cohort's sessions given (two queries).

    Few rows (events are rare): each is read with its session's plan and kept when that
    plan is one of the cohort's courses.
    """
    given = Q(session__dose_started_at__isnull=False) & ~Q(session__status__in=GIVEN_EXCLUDED)
    events = list(
        AdverseEvent.objects.filter(given)
        .exclude(status="entered-in-error")
        .values_list("session__plan_id", "serious")
    )
    alerts = list(SafetyAlert.objects.filter(given).values_list("session__plan_id", flat=True))
    courses = set(cohort.plan_id.tolist())
    kept = [serious for plan, serious in events if plan in courses]
    return {
        "adverse_events": len(kept),
        "serious": sum(1 for serious in kept if serious),
        "alerts": sum(1 for plan in alerts if plan in courses),
    }


@login_required
@require_GET
def dashboard(request):
    require_permission(request, "dashboard.view")
    form = DashboardFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        trail.record(
            action="dashboard.view",
            request=request,
            outcome=Outcome.INVALID,
            detail={"errors": form.errors.get_json_data()},
        )
        return render(request, "analytics/dashboard.html", {"form": form}, status=422)
    filters = form.cohort_filter()
    cohort = build_cohort(filters)
    result = summaries.summarise(cohort)
    counts = safety_counts(cohort)
    result.adverse_events = counts["adverse_events"]
    result.serious_adverse_events = counts["serious"]
    result.alerts = counts["alerts"]
    figures = {
        "response": summaries.rates_figure(result.groups, "response"),
        "remission": summaries.rates_figure(result.groups, "remission"),
        "durability": summaries.km_figure(result),
        "ttr": summaries.ttr_figure(result),
    }
    trail.record(
        action="dashboard.view",
        request=request,
        detail={"filters": _filter_detail(filters), "courses": result.courses},
    )
    return render(
        request,
        "analytics/dashboard.html",
        {
            "form": form,
            "summary": result,
            "figures": figures,
            "query": request.GET.urlencode(),
            "today": timezone.localdate(),
        },
    )


def _filter_detail(filters: CohortFilter) -> dict:
    return {
        "start": filters.start.isoformat() if filters.start else None,
        "end": filters.end.isoformat() if filters.end else None,
        "indication": filters.indication,
        "route": filters.route,
        "prescriber_id": filters.prescriber_id,
    }


@login_required
@require_GET
def cohort_csv(request):
    """The cohort table as CSV (one row per course), with the dashboard's filters."""
    require_permission(request, "dashboard.view")
    form = DashboardFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return HttpResponse(form.errors.as_text(), status=422, content_type="text/plain")
    filters = form.cohort_filter()
    cohort = build_cohort(filters)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = dt.datetime.now(tz=dt.UTC).strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="ketaclinic-cohort-{stamp}.csv"'
    write_csv(cohort, response)
    trail.record(
        action="dashboard.export",
        request=request,
        detail={"filters": _filter_detail(filters), "rows": len(cohort)},
    )
    return response


@require_GET
def plotly_js(request):
    """Plotly from the installed package, cached for a year (the URL carries the version)."""
    path = plotly_js_path()
    if path is None:
        raise Http404("plotly is not installed: pip install 'plotly>=5.22,<7'")
    response = FileResponse(path.open("rb"), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={YEAR_S}, immutable"
    response["ETag"] = f'"plotly-{plotly_version()}"'
    return response
