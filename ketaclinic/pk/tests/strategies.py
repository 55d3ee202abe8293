"""Hypothesis strategies shared by the PK property tests: models, weights and regimens."""

from __future__ import annotations

from hypothesis import strategies as st

from ketaclinic.pk import MODEL_CODES, ROUTE_CODES

EXTRAVASCULAR_ROUTES = tuple(code for code in ROUTE_CODES if code != "iv")

models = st.sampled_from(MODEL_CODES)
# Inside every model's validated weight range, so no population warning fires.
weights_kg = st.floats(min_value=40, max_value=120)
dose_amounts_mg = st.floats(min_value=1, max_value=200)
start_times_min = st.floats(min_value=0, max_value=300)


@st.composite
def doses(draw: st.DrawFn, routes: tuple[str, ...] = ROUTE_CODES) -> dict:
    """One dose dict: any route; IV doses are either boluses or infusions of 1-120 min."""
    route = draw(st.sampled_from(routes))
    dose = {"route": route, "dose_mg": draw(dose_amounts_mg), "start_min": draw(start_times_min)}
    if route == "iv" and draw(st.booleans()):
        dose["duration_min"] = draw(st.floats(min_value=1, max_value=120))
    return dose


regimens = st.lists(doses(), min_size=1, max_size=4)
