"""Predicted ketamine concentrations for plans (and the API), from the pure ``pk`` engine.

Everything shown is a model prediction from published population data, never a
measurement; the plots say so and name the model.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

import numpy as np
import yaml
from django.core.cache import caches

from ketaclinic import pk

PK_DATA = Path(pk.__file__).parent / "data"
MODEL = pk.DEFAULT_MODEL
BAND_PATIENTS = 1000
CURVE_CACHE_S = 24 * 3600  # inputs are in the key; the expiry only bounds memory
DISCLAIMER = (
    "Model prediction from published population data ({model}), not a measurement. "
    "The shaded band holds 90% of simulated patients."
)
DEVICE_MG = 28
DEVICE_GAP_MIN = 5  # esketamine label: 5 min rest between devices (REFERENCE.md section 1)


@cache
def effect_ranges() -> dict:
    return yaml.safe_load((PK_DATA / "effect_ranges.yaml").read_text())


@cache
def comparisons() -> list[dict]:
    return yaml.safe_load((PK_DATA / "comparisons.yaml").read_text())["regimens"]


def regimen(route: str, dose_mg: Decimal | float, minutes: int | None = None) -> list[dict]:
    """One session's doses in the engine's terms."""
    dose = float(dose_mg)
    if route == "iv":
        return [{"route": "iv", "dose_mg": dose, "start_min": 0, "duration_min": minutes or 40}]
    if route == "esketamine":
        devices = max(1, round(dose / DEVICE_MG))
        return [
            {"route": "esketamine", "dose_mg": DEVICE_MG, "start_min": n * DEVICE_GAP_MIN}
            for n in range(devices)
        ]
    return [{"route": route, "dose_mg": dose, "start_min": 0}]


def horizon_min(route: str) -> int:
    # Oral and sublingual absorb for an hour or more; show them longer.
    return 480 if route in {"oral", "sublingual"} else 240


@dataclass(frozen=True)
class Curve:
    label: str
    times_min: list[float]
    p50: list[float]
    p5: list[float] | None = None
    p95: list[float] | None = None
    source: str = ""


def population_curve(label, doses, weight_kg, horizon, seed, source="") -> Curve:
    """The median and 5th–95th percentile band of ``BAND_PATIENTS`` simulated patients.

    Simulating the band costs ~15 ms a curve and a page draws up to three, on every load and
    every poll, for inputs that change only when the plan or the record does. So each curve is
    cached under a digest of everything it depends on (doses, weight, horizon, seed, model,
    population size, labels): a dose amendment, a new weight or another dose given is a new
    key, never a stale band. The cache is Django's (``CACHE_URL`` in production, shared by all
    workers; per-process memory otherwise).
    """
    key = curve_key(label, doses, weight_kg, horizon, seed, source)
    cached = caches["default"].get(key)
    if cached is not None:
        return cached
    curve = simulate_curve(label, doses, weight_kg, horizon, seed, source)
    caches["default"].set(key, curve, CURVE_CACHE_S)
    return curve


def curve_key(label, doses, weight_kg, horizon, seed, source) -> str:
    inputs = [MODEL, BAND_PATIENTS, label, doses, float(weight_kg), horizon, seed, source]
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()
    return f"pk-curve:{digest}"


def simulate_curve(label, doses, weight_kg, horizon, seed, source="") -> Curve:
    times = np.arange(0, horizon + 1, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pk.OutsideValidatedPopulationWarning)
        band = pk.predict_population(MODEL, weight_kg, doses, times, n=BAND_PATIENTS, seed=seed)
    return Curve(
        label,
        times.tolist(),
        rounded(band["p50"]),
        rounded(band["p5"]),
        rounded(band["p95"]),
        source,
    )


def rounded(values) -> list[float]:
    return [round(float(v), 1) for v in values]


def plan_curves(plan, weight_kg: float, dose_mg: Decimal) -> list[Curve]:
    """The plan's own session at ``dose_mg``, then the comparison routes for the same patient."""
    own = population_curve(
        f"This plan: {plan.protocol.get_route_display()} {dose_mg} mg",
        regimen(plan.route, dose_mg, plan.infusion_minutes),
        weight_kg,
        horizon_min(plan.route),
        seed=plan.pk,
        source=f"{plan.protocol.name} as signed",
    )
    curves = [own]
    for item in comparisons():
        if item["route"] == plan.route:
            continue
        dose = Decimal(str(item["dose_mg_per_kg"])) * Decimal(str(weight_kg))
        curves.append(
            population_curve(
                item["label"],
                regimen(item["route"], dose, item.get("duration_min")),
                weight_kg,
                horizon_min(plan.route),
                seed=plan.pk,
                source=item["source"],
            )
        )
    return curves


def figure(curves: list[Curve], *, now_min: float | None = None, title: str = "") -> dict:
    """A Plotly figure (as plain JSON) with the band, the effect ranges and the curves."""
    own, others = curves[0], curves[1:]
    traces = _own_traces(own) + _comparison_traces(others)
    top = max(max(c.p95 or c.p50) for c in curves)
    shapes, annotations = effect_shapes(top)
    if now_min is not None:
        shape, annotation = _now_marker(now_min)
        shapes.append(shape)
        annotations.append(annotation)
    layout = {
        "title": {"text": title},
        "xaxis": {"title": {"text": "minutes from the start of dosing"}},
        "yaxis": {
            "title": {"text": "predicted plasma ketamine (ng/mL)"},
            "rangemode": "tozero",
            "range": [0, max(top * 1.15, 50)],
        },
        "shapes": shapes,
        "annotations": annotations,
        "legend": {"orientation": "h", "y": -0.25},
        "margin": {"t": 40, "r": 20, "b": 40, "l": 60},
        "height": 420,
    }
    return {"data": traces, "layout": layout}


def _own_traces(own: Curve) -> list[dict]:
    """The plan's median, drawn over its shaded 5th-95th percentile band."""
    return [
        {
            "x": own.times_min,
            "y": own.p95,
            "mode": "lines",
            "line": {"width": 0},
            "hoverinfo": "skip",
            "showlegend": False,
            "name": "95th percentile",
        },
        {
            "x": own.times_min,
            "y": own.p5,
            "mode": "lines",
            "line": {"width": 0},
            "fill": "tonexty",
            "fillcolor": "rgba(35,87,125,0.18)",
            "name": "5th–95th percentile",
        },
        {
            "x": own.times_min,
            "y": own.p50,
            "mode": "lines",
            "name": own.label,
            "line": {"color": "#23577d", "width": 3},
        },
    ]


def _comparison_traces(others: list[Curve]) -> list[dict]:
    """The other routes' medians, dashed, one colour each."""
    palette = ["#8a5a00", "#6b3b8c", "#1f6f43"]
    return [
        {
            "x": curve.times_min,
            "y": curve.p50,
            "mode": "lines",
            "name": curve.label,
            "line": {"color": color, "dash": "dash"},
        }
        for curve, color in zip(others, palette, strict=False)
    ]


def _now_marker(now_min: float) -> tuple[dict, dict]:
    """A vertical line at the present minute of the session, labelled "now"."""
    shape = {
        "type": "line",
        "x0": now_min,
        "x1": now_min,
        "y0": 0,
        "y1": 1,
        "yref": "paper",
        "line": {"color": "#a1262b", "width": 2},
    }
    annotation = {
        "x": now_min,
        "y": 1,
        "yref": "paper",
        "text": "now",
        "showarrow": False,
        "yanchor": "bottom",
    }
    return shape, annotation


EFFECT_COLOURS = {
    "analgesia": "rgba(31,111,67,0.10)",
    "dissociation": "rgba(107,59,140,0.10)",
    "anaesthesia": "rgba(161,38,43,0.10)",
}


def effect_shapes(top: float) -> tuple[list[dict], list[dict]]:
    """Labelled horizontal bands (and the observed antidepressant peak) within the plot."""
    shapes, annotations = [], []
    ceiling = max(top * 1.15, 50)
    for band in effect_ranges()["ranges"]:
        if band["low"] <= ceiling:
            shape, annotation = _effect_band(band, ceiling)
            shapes.append(shape)
            annotations.append(annotation)
    for line in effect_ranges()["lines"]:
        if line["value"] <= ceiling:
            shape, annotation = _effect_line(line)
            shapes.append(shape)
            annotations.append(annotation)
    return shapes, annotations


def _effect_band(band: dict, ceiling: float) -> tuple[dict, dict]:
    """A concentration range (analgesia, dissociation...) as a shaded band, cut at the top."""
    high = min(band["high"], ceiling)
    shape = {
        "type": "rect",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "y0": band["low"],
        "y1": high,
        "fillcolor": EFFECT_COLOURS.get(band["code"]),
        "line": {"width": 0},
        "layer": "below",
    }
    annotation = {
        "xref": "paper",
        "x": 1,
        "y": high,
        "text": f"{band['label']} {band['low']}–{band['high']}",
        "showarrow": False,
        "xanchor": "right",
        "yanchor": "top",
        "font": {"size": 11},
    }
    return shape, annotation


def _effect_line(line: dict) -> tuple[dict, dict]:
    """A single reported concentration (the observed antidepressant peak) as a dotted line."""
    shape = {
        "type": "line",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "y0": line["value"],
        "y1": line["value"],
        "line": {"dash": "dot", "color": "#5a6472"},
    }
    annotation = {
        "xref": "paper",
        "x": 0,
        "y": line["value"],
        "text": line["label"],
        "showarrow": False,
        "xanchor": "left",
        "yanchor": "bottom",
        "font": {"size": 11},
    }
    return shape, annotation


def model_name() -> str:
    return pk.get_model(MODEL).name


def plan_figure(plan, *, patient, dose_mg: Decimal) -> dict:
    """What the plan page shows: the figure, its sources, or why there is none.

    ``patient`` and ``dose_mg`` (the dose now in effect) come from the caller, which has them.
    """
    weight = plan.weight_kg or (w.weight_kg if (w := patient.current_weight()) else None)
    if weight is None:
        return {"unavailable": "Record the patient's weight to see predicted concentrations."}
    curves = plan_curves(plan, float(weight), dose_mg)
    model = pk.get_model(MODEL)
    return {
        "figure": figure(curves, title=f"Predicted concentration at {weight} kg"),
        "sources": [(c.label, c.source) for c in curves]
        + [(r["label"], r["source"]) for r in effect_ranges()["ranges"] + effect_ranges()["lines"]],
        "disclaimer": DISCLAIMER.format(model=model_name()),
        "warnings": model.population_warnings(float(weight), patient.age_today),
    }
