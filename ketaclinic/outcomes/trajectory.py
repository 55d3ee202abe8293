"""The trajectory plot on the patient chart: each instrument over time, as Plotly figures.

Plain dicts in Plotly's JSON figure format (no plotly Python import at request time); the
page draws them with the locally served ``plotly.min.js``. Each instrument gets its own
figure: its bands shaded, a vertical marker at every treatment session with the dose, and the
response and remission lines of the latest course.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from ketaclinic.charting import administration
from ketaclinic.charting.models import SessionStatus, TreatmentSession

from .definitions import Instrument
from .scoring import DatedScore, course_baseline

# Light band colours, mildest first; printed in greyscale they still step in lightness.
BAND_COLOURS = ["#e8f4ec", "#f4f7e3", "#fdf3dc", "#fbe6d6", "#f7dcdc", "#f1d3e0"]
SCORE_COLOUR = "#23577d"
SESSION_COLOUR = "#6b3b8c"


@dataclass(frozen=True)
class SessionMark:
    at: dt.datetime
    number: int | None
    dose_mg: Decimal | None
    dose_kind: str  # "delivered" or "planned"
    route: str

    @property
    def label(self) -> str:
        number = f"Session {self.number}" if self.number else "Session"
        if self.dose_mg is None:
            return f"{number} ({self.route})"
        dose = f"{self.dose_mg.normalize():f}"
        return (
            f"{number}: {dose} mg {self.route}{' (planned)' if self.dose_kind == 'planned' else ''}"
        )


def session_marks(patient) -> list[SessionMark]:
    """Every treatment session given, with the dose delivered (or planned when unknown)."""
    sessions = list(
        TreatmentSession.objects.filter(patient=patient, dose_started_at__isnull=False)
        .exclude(status__in=[SessionStatus.ENTERED_IN_ERROR, SessionStatus.NOT_STARTED])
        .prefetch_related("infusion_events", "boluses", "devices")
        .order_by("dose_started_at")
    )
    marks = []
    for session in sessions:
        dose, kind = _delivered(session)
        marks.append(
            SessionMark(
                at=session.dose_started_at,
                number=session.session_number,
                dose_mg=dose,
                dose_kind=kind,
                route=session.get_route_display_name(),
            )
        )
    return marks


def _valid(rows):
    return [row for row in rows if row.status != "entered-in-error"]


def _delivered(session) -> tuple[Decimal | None, str]:
    """The delivered dose from the charted events (charting/administration.py)."""
    try:
        record = administration.AdministrationRecord(
            infusion=tuple(
                administration.InfusionEvent(
                    minute=Decimal(str(round(session.minute_of(e.at), 3))),
                    kind=e.kind,
                    rate_mg_per_min=e.rate_mg_per_min,
                )
                for e in sorted(_valid(session.infusion_events.all()), key=lambda e: e.at)
            ),
            boluses=tuple(
                administration.Bolus(
                    minute=Decimal(str(round(session.minute_of(b.at), 3))), dose_mg=b.dose_mg
                )
                for b in _valid(session.boluses.all())
            ),
            devices=tuple(
                administration.NasalDevice(
                    minute=Decimal(str(round(session.minute_of(d.at), 3))),
                    device_mg=Decimal(d.device_mg),
                )
                for d in _valid(session.devices.all())
            ),
        )
        if not (record.infusion or record.boluses or record.devices):
            return session.planned_dose_mg, "planned"
        total = administration.delivered(record, until_minute=None)
        if not total.infusion_complete:
            return session.planned_dose_mg, "planned"
        return total.total_mg, "delivered"
    except (administration.AdministrationError, TypeError, ValueError):
        return session.planned_dose_mg, "planned"


def response_line(instrument: Instrument, baseline: int | None) -> float | None:
    """The highest total that still counts as a response from ``baseline``."""
    rule = instrument.outcome.response
    if rule is None or baseline is None:
        return None
    if rule.fall_points is not None:
        return baseline - rule.fall_points
    if baseline == 0:
        return None
    assert rule.fall_pct is not None
    return baseline * (100 - rule.fall_pct) / 100


def figure(
    instrument: Instrument,
    points: list[tuple[dt.datetime, int, str]],
    marks: list[SessionMark],
    course_sessions: list[dt.date],
) -> dict:
    """One Plotly figure: scores over time with bands, sessions, response and remission."""
    local = [(timezone.localtime(at), total, band) for at, total, band in points]
    times = [at for at, _, _ in local] + [timezone.localtime(m.at) for m in marks]
    span = [
        (min(times) - dt.timedelta(days=3)).isoformat(),
        (max(times) + dt.timedelta(days=3)).isoformat(),
    ]
    low, high = instrument.total_min, instrument.total_max
    top = high + max(1, (high - low) * 0.06)

    data = [_score_trace(instrument, local)]
    shapes, annotations = _band_shapes(instrument)
    if marks:
        shapes += [_session_line(mark) for mark in marks]
        data.append(_session_trace(marks, top))
    scores = [DatedScore(at.date(), total) for at, total, _ in local]
    baseline = course_baseline(scores, course_sessions) if course_sessions else None
    data += _outcome_lines(instrument, baseline.total if baseline else None, span)
    layout = {
        "title": {"text": instrument.name, "font": {"size": 15}, "x": 0, "xanchor": "left"},
        "height": 340,
        "margin": {"l": 44, "r": 110, "t": 40, "b": 40},
        "xaxis": {"type": "date", "range": span},
        "yaxis": {"range": [low - 0.5, top + 0.8], "title": {"text": "Total"}, "zeroline": False},
        "shapes": shapes,
        "annotations": annotations,
        "legend": {"orientation": "h", "y": -0.18, "font": {"size": 11}},
        "plot_bgcolor": "#ffffff",
        "paper_bgcolor": "#ffffff",
        "hovermode": "closest",
    }
    return {"data": data, "layout": layout}


def _score_trace(instrument: Instrument, local: list[tuple[dt.datetime, int, str]]) -> dict:
    """The totals over time, each labelled with its band."""
    labels = {b.code: b.label for b in instrument.bands}
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "name": f"{instrument.name.split('(')[-1].rstrip(')')} total",
        "x": [at.isoformat() for at, _, _ in local],
        "y": [total for _, total, _ in local],
        "text": [labels.get(band, "") for _, _, band in local],
        "line": {"color": SCORE_COLOUR, "width": 2.5},
        "marker": {"size": 8},
        "hovertemplate": "%{x|%d %b %Y}: <b>%{y}</b> %{text}<extra></extra>",
    }


def _band_shapes(instrument: Instrument) -> tuple[list[dict], list[dict]]:
    """Each band shaded across the plot, with its label in the right margin."""
    low, high = instrument.total_min, instrument.total_max
    shapes, annotations = [], []
    for index, band in enumerate(instrument.bands):
        shapes.append(
            {
                "type": "rect",
                "xref": "paper",
                "yref": "y",
                "x0": 0,
                "x1": 1,
                "y0": band.min_total - 0.5 if band.min_total > low else low,
                "y1": band.max_total + 0.5 if band.max_total < high else high,
                "fillcolor": BAND_COLOURS[min(index, len(BAND_COLOURS) - 1)],
                "line": {"width": 0},
                "layer": "below",
            }
        )
        annotations.append(
            {
                "xref": "paper",
                "yref": "y",
                "x": 1.0,
                "xanchor": "left",
                "y": (band.min_total + band.max_total) / 2,
                "text": band.label,
                "showarrow": False,
                "font": {"size": 10, "color": "#5a6472"},
            }
        )
    return shapes, annotations


def _session_line(mark: SessionMark) -> dict:
    """A dotted vertical line at a treatment session."""
    at = timezone.localtime(mark.at).isoformat()
    return {
        "type": "line",
        "xref": "x",
        "yref": "paper",
        "x0": at,
        "x1": at,
        "y0": 0,
        "y1": 1,
        "line": {"color": SESSION_COLOUR, "width": 1, "dash": "dot"},
    }


def _session_trace(marks: list[SessionMark], top: float) -> dict:
    """A marker above the plot per session, its hover naming the dose."""
    return {
        "type": "scatter",
        "mode": "markers",
        "name": "Treatment session (dose)",
        "x": [timezone.localtime(m.at).isoformat() for m in marks],
        "y": [top] * len(marks),
        "text": [m.label for m in marks],
        "marker": {"symbol": "triangle-down", "size": 10, "color": SESSION_COLOUR},
        "hovertemplate": "%{x|%d %b %Y}<br>%{text}<extra></extra>",
        "cliponaxis": False,
    }


def _outcome_lines(instrument: Instrument, baseline: int | None, span: list[str]) -> list[dict]:
    """The response line (from the course baseline) and the primary remission line."""
    lines = []
    line = response_line(instrument, baseline)
    if line is not None:
        rule = instrument.outcome.response
        how = (
            f"{rule.fall_pct}% fall"
            if rule.fall_pct is not None
            else f"{rule.fall_points}-point fall"
        )
        lines.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"Response line: ≤ {line:g} ({how} from baseline {baseline})",
                "x": span,
                "y": [line, line],
                "line": {"color": "#1f6f43", "dash": "dash", "width": 2},
                "hoverinfo": "name",
            }
        )
    if instrument.outcome.remission:
        remission = instrument.outcome.remission[0]
        lines.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"Remission line: ≤ {remission.at_most}",
                "x": span,
                "y": [remission.at_most, remission.at_most],
                "line": {"color": "#23577d", "dash": "dot", "width": 2},
                "hoverinfo": "name",
            }
        )
    return lines
