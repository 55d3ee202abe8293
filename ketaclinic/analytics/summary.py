"""Dashboard figures from the cohort table: rates with Wilson intervals next to the literature,
time to response, durability (Kaplan–Meier), completeness, and Plotly figure dicts."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ketaclinic.screening.models import INDICATION_CHOICES, ROUTE_CHOICES

from .benchmarks import Benchmark, benchmarks_for, shipped_benchmarks
from .cohort import Cohort
from .statistics import KaplanMeierCurve, kaplan_meier, wilson_interval

INDICATIONS = dict(INDICATION_CHOICES)
ROUTES = dict(ROUTE_CHOICES)
# Short labels for the plots' axes (the table keeps the full words).
SHORT_INDICATIONS = {
    "trd": "TRD",
    "mdd_suicidal_ideation": "Depression with SI",
    "ptsd": "PTSD",
    "anxiety": "Anxiety",
    "ocd": "OCD",
    "bipolar_depression": "Bipolar depression",
    "chronic_pain": "Chronic pain",
}
SHORT_ROUTES = {
    "iv": "IV",
    "im": "IM",
    "esketamine": "esketamine",
    "sublingual": "SL",
    "oral": "oral",
}
DURABILITY_CHECKPOINTS = (28, 56)


@dataclass(frozen=True)
class Rate:
    successes: int
    n: int
    low: float | None
    high: float | None

    @property
    def pct(self) -> float | None:
        return 100 * self.successes / self.n if self.n else None

    @property
    def low_pct(self) -> float | None:
        return None if self.low is None else 100 * self.low

    @property
    def high_pct(self) -> float | None:
        return None if self.high is None else 100 * self.high


def rate(flags: np.ndarray) -> Rate | None:
    """A rate over defined flags (0/1; -1 undefined is left out). None if none defined."""
    defined = flags[flags >= 0]
    if defined.size == 0:
        return None
    successes, n = int(defined.sum()), int(defined.size)
    interval = wilson_interval(successes, n)
    return Rate(successes, n, interval.low, interval.high)


@dataclass(frozen=True)
class Claim:
    kind: str  # "Patient-guide claim" or "Published"
    text: str
    source: str
    n: int | None
    regimen: str | None
    response: tuple[float | None, float | None, float | None] | None  # pct, low, high
    remission: tuple[float | None, float | None, float | None] | None


@dataclass(frozen=True)
class GroupRow:
    indication: str
    route: str
    instrument: str
    courses: int
    evaluable: int
    response: Rate | None
    remission: Rate | None
    claims: tuple[Claim, ...]

    @property
    def label(self) -> str:
        return f"{INDICATIONS.get(self.indication, self.indication)} · {ROUTES.get(self.route, self.route)}"

    @property
    def short_label(self) -> str:
        indication = SHORT_INDICATIONS.get(self.indication, self.indication)
        return f"{indication} · {SHORT_ROUTES.get(self.route, self.route)}"


def _figure_values(figures, measure: str):
    for figure in figures:
        if figure.measure == measure:
            return figure.pct, figure.low_pct, figure.high_pct
    return None


def claims_for(indication: str, route: str) -> tuple[Claim, ...]:
    claims = []
    for benchmark in benchmarks_for(indication, route):
        for kind, group in (
            ("Patient-guide claim", benchmark.seed_claims),
            ("Published", benchmark.published),
        ):
            for claim in group:
                if claim.route and claim.route != route:
                    continue
                claims.append(
                    Claim(
                        kind=kind,
                        text=claim.text,
                        source=claim.source,
                        n=claim.n,
                        regimen=benchmark.regimen,
                        response=_figure_values(claim.figures, "response"),
                        remission=_figure_values(claim.figures, "remission"),
                    )
                )
    return tuple(claims)


def durability_benchmark() -> Benchmark | None:
    return next((b for b in shipped_benchmarks() if b.code == "durability"), None)


@dataclass
class Summary:
    courses: int
    started: int
    evaluable: int
    groups: list[GroupRow]
    response: Rate | None
    remission: Rate | None
    complete: Rate | None
    ttr_days_median: float | None
    ttr_days_iqr: tuple[float, float] | None
    ttr_sessions_median: float | None
    responders_with_time: int
    ttr_sessions_histogram: list[tuple[int, int]]
    km: KaplanMeierCurve | None
    km_n: int
    km_events: int
    km_at: list[tuple[int, float | None, object]]
    sessions_given: int
    adverse_events: int = 0
    alerts: int = 0
    serious_adverse_events: int = 0
    figures: dict[str, dict] = field(default_factory=dict)

    def per_100(self, count: int) -> float | None:
        return 100 * count / self.sessions_given if self.sessions_given else None

    @property
    def ae_rate(self) -> float | None:
        return self.per_100(self.adverse_events)

    @property
    def alert_rate(self) -> float | None:
        return self.per_100(self.alerts)

    @property
    def sae_rate(self) -> float | None:
        return self.per_100(self.serious_adverse_events)


def summarise(cohort: Cohort) -> Summary:
    """The dashboard's figures for a cohort: rates per group and overall, time to response,
    durability after induction and completeness of measurement."""
    started = cohort.sessions > 0
    ttr = cohort.ttr_days[~np.isnan(cohort.ttr_days)]
    ttr_sessions = cohort.ttr_sessions[~np.isnan(cohort.ttr_sessions)]
    has_durability = ~np.isnan(cohort.durability_days)
    km, km_at = durability_curve(cohort, has_durability)
    return Summary(
        courses=len(cohort),
        started=int(started.sum()),
        evaluable=int(cohort.evaluable.sum()),
        groups=group_rows(cohort),
        response=rate(cohort.response),
        remission=rate(cohort.remission),
        complete=rate(cohort.complete[started].astype(np.int8)),
        ttr_days_median=float(np.median(ttr)) if ttr.size else None,
        ttr_days_iqr=(float(np.percentile(ttr, 25)), float(np.percentile(ttr, 75)))
        if ttr.size
        else None,
        ttr_sessions_median=float(np.median(ttr_sessions)) if ttr_sessions.size else None,
        responders_with_time=int(ttr.size),
        ttr_sessions_histogram=sessions_histogram(ttr_sessions),
        km=km,
        km_n=int(has_durability.sum()),
        km_events=int((cohort.relapsed == 1).sum()),
        km_at=km_at,
        sessions_given=int(cohort.sessions.sum()),
    )


def group_rows(cohort: Cohort) -> list[GroupRow]:
    """One row per (indication, route) in the cohort, with its rates and the literature's."""
    if not len(cohort):
        return []
    pairs = list(zip(cohort.indication.tolist(), cohort.route.tolist(), strict=True))
    keys = sorted(set(pairs))
    number = {key: k for k, key in enumerate(keys)}
    group = np.array([number[pair] for pair in pairs], dtype=np.int64)
    evaluable = cohort.evaluable
    rows = []
    for k, (indication, route) in enumerate(keys):
        mask = group == k
        instruments = sorted(set(cohort.instrument[mask].tolist()) - {""})
        rows.append(
            GroupRow(
                indication=indication,
                route=route,
                instrument=", ".join(instruments),
                courses=int(mask.sum()),
                evaluable=int((mask & evaluable).sum()),
                response=rate(cohort.response[mask]),
                remission=rate(cohort.remission[mask]),
                claims=claims_for(indication, route),
            )
        )
    return rows


def sessions_histogram(ttr_sessions: np.ndarray) -> list[tuple[int, int]]:
    """(sessions given before the first response, courses) for each count seen."""
    if not ttr_sessions.size:
        return []
    counts = np.bincount(ttr_sessions.astype(int))
    return [(k, int(c)) for k, c in enumerate(counts) if c]


def published_durability() -> dict[int, tuple]:
    """Day -> (% still responding, source, approximate) from the durability benchmark."""
    benchmark = durability_benchmark()
    published = {}
    if benchmark:
        for claim in benchmark.published:
            for figure in claim.figures:
                if figure.measure == "still_responding" and figure.timepoint:
                    weeks = int(figure.timepoint.split()[0])
                    published[weeks * 7] = (figure.pct, claim.source, figure.approximate)
    return published


def durability_curve(
    cohort: Cohort, has_durability: np.ndarray
) -> tuple[KaplanMeierCurve | None, list[tuple[int, float | None, object]]]:
    """The Kaplan–Meier curve of response after induction, and its value at the checkpoints
    next to the published figure (none without a course responding after induction)."""
    if not has_durability.any():
        return None, []
    km = kaplan_meier(
        zip(
            cohort.durability_days[has_durability].tolist(),
            (cohort.relapsed[has_durability] == 1).tolist(),
            strict=True,
        )
    )
    published = published_durability()
    km_at = []
    for day in DURABILITY_CHECKPOINTS:
        still = km.survival_at(day) if km.times.size and km.times.max() >= day else None
        km_at.append((day, None if still is None else 100 * still, published.get(day)))
    return km, km_at


# --- Plotly figures --------------------------------------------------------------------


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def rates_figure(groups: list[GroupRow], measure: str) -> dict:
    """Clinic rate per group with its 95% Wilson interval, next to the literature."""
    rows = [g for g in groups if getattr(g, measure) is not None]
    data = [_clinic_bars(rows, measure)]
    for kind, symbol, colour in (
        ("Published", "diamond", "#a1262b"),
        ("Patient-guide claim", "line-ns-open", "#8a5a00"),
    ):
        trace = _claim_markers(rows, measure, kind, symbol, colour)
        if trace is not None:
            data.append(trace)
    return {"data": data, "layout": _rates_layout(measure, len(rows))}


def _clinic_bars(rows: list[GroupRow], measure: str) -> dict:
    """The clinic's rate per group as horizontal bars with the interval as error bars."""
    rates = [getattr(g, measure) for g in rows]
    return {
        "type": "bar",
        "orientation": "h",
        "name": f"This clinic ({measure}, 95% CI)",
        "y": [g.short_label for g in rows],
        "x": [_pct(r.pct) for r in rates],
        "error_x": {
            "type": "data",
            "symmetric": False,
            "array": [_pct(r.high_pct - r.pct) for r in rates],
            "arrayminus": [_pct(r.pct - r.low_pct) for r in rates],
            "color": "#1d2430",
        },
        "text": [f"{r.successes}/{r.n}" for r in rates],
        "textposition": "inside",
        "marker": {"color": "#7fa6c6" if measure == "response" else "#9cc5a8"},
        "hovertemplate": "%{y}: %{x:.1f}% (%{text})<extra></extra>",
    }


def _claim_markers(
    rows: list[GroupRow], measure: str, kind: str, symbol: str, colour: str
) -> dict | None:
    """One marker per claim of ``kind`` on the groups' rows (a range's midpoint with its
    range as error bars for seed claims); None when there is no such claim."""
    xs, ys, texts, lows, highs = [], [], [], [], []
    for group in rows:
        for claim in group.claims:
            values = getattr(claim, measure)
            if claim.kind != kind or values is None:
                continue
            pct, low, high = values
            point = (
                pct
                if pct is not None
                else ((low or 0) + (high if high is not None else low or 0)) / 2
            )
            xs.append(point)
            ys.append(group.short_label)
            texts.append(f"{claim.text} — {claim.source}")
            lows.append(point - low if pct is None and low is not None else 0)
            highs.append((high - point) if pct is None and high is not None else 0)
    if not xs:
        return None
    trace = {
        "type": "scatter",
        "mode": "markers",
        "name": kind,
        "x": xs,
        "y": ys,
        "text": texts,
        "marker": {
            "symbol": symbol,
            "size": 11,
            "color": colour,
            "line": {"width": 2, "color": colour},
        },
        "hovertemplate": "%{text}<extra>" + kind + "</extra>",
    }
    if kind == "Patient-guide claim":
        trace["error_x"] = {
            "type": "data",
            "symmetric": False,
            "array": highs,
            "arrayminus": lows,
            "color": colour,
            "thickness": 2,
        }
    return trace


def _rates_layout(measure: str, groups: int) -> dict:
    return {
        "title": {
            "text": f"{measure.title()} rate by indication and route",
            "x": 0,
            "font": {"size": 15},
        },
        "barmode": "overlay",
        "height": max(280, 110 + 40 * groups),
        "margin": {"l": 170, "r": 20, "t": 70, "b": 50},
        "xaxis": {
            "range": [0, 100],
            "title": {"text": "% of evaluable courses"},
            "ticksuffix": "%",
        },
        "yaxis": {"autorange": "reversed", "automargin": True},
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        "plot_bgcolor": "#ffffff",
    }


def km_figure(summary: Summary) -> dict:
    km = summary.km
    data = []
    if km is not None and km.times.size:
        xs = [0.0, *km.times.tolist()]
        ys = [100.0, *(100 * km.survival).tolist()]
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "line": {"shape": "hv", "color": "#23577d", "width": 2.5},
                "name": f"This clinic (n={summary.km_n}, relapses={summary.km_events})",
                "x": xs,
                "y": ys,
                "hovertemplate": "day %{x}: %{y:.1f}% still responding<extra></extra>",
            }
        )
        published = [(day, p) for day, _, p in summary.km_at if p]
        if published:
            data.append(
                {
                    "type": "scatter",
                    "mode": "markers",
                    "name": "Published (McInnes 2022, ~)",
                    "x": [day for day, _ in published],
                    "y": [p[0] for _, p in published],
                    "text": [f"~{p[0]:g}% at {day // 7} weeks — {p[1]}" for day, p in published],
                    "marker": {"symbol": "diamond", "size": 11, "color": "#a1262b"},
                    "hovertemplate": "%{text}<extra></extra>",
                }
            )
    return {
        "data": data,
        "layout": {
            "title": {
                "text": "Durability after induction (Kaplan–Meier)",
                "x": 0,
                "font": {"size": 15},
            },
            "height": 340,
            "margin": {"l": 50, "r": 20, "t": 40, "b": 50},
            "xaxis": {
                "title": {"text": "Days after the last induction session"},
                "rangemode": "tozero",
            },
            "yaxis": {
                "title": {"text": "% still responding"},
                "range": [0, 102],
                "ticksuffix": "%",
            },
            "legend": {"orientation": "h", "y": -0.25},
            "plot_bgcolor": "#ffffff",
        },
    }


def ttr_figure(summary: Summary) -> dict:
    hist = summary.ttr_sessions_histogram
    return {
        "data": [
            {
                "type": "bar",
                "name": "Responders",
                "x": [k for k, _ in hist],
                "y": [c for _, c in hist],
                "marker": {"color": "#7fa6c6"},
                "hovertemplate": "response after %{x} sessions: %{y} courses<extra></extra>",
            }
        ],
        "layout": {
            "title": {
                "text": "Sessions given before the first response",
                "x": 0,
                "font": {"size": 15},
            },
            "height": 300,
            "margin": {"l": 50, "r": 20, "t": 40, "b": 50},
            "xaxis": {"title": {"text": "Sessions"}, "dtick": 1},
            "yaxis": {"title": {"text": "Courses"}},
            "plot_bgcolor": "#ffffff",
        },
    }
