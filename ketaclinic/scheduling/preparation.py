"""What a patient must do before a treatment visit, from the protocol catalog (pure).

Every instruction carries its source, so the reminder and the confirmation page show why.
Advice owned by a later app (charting's discharge policy: driving after the visit) is added
by that app from its ``AppConfig.ready()`` through :func:`register_route_advice`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ketaclinic.protocols.catalog import UnknownCodeError, get_protocol


@dataclass(frozen=True)
class Instruction:
    text: str
    source: str


RouteAdvice = Callable[[str], "Instruction | None"]
_route_advice: list[RouteAdvice] = []


def register_route_advice(advice: RouteAdvice) -> None:
    """Add advice that depends on the route (``iv``, ``esketamine``...), given last."""
    if advice not in _route_advice:
        _route_advice.append(advice)


def instructions(protocol_code: str) -> list[Instruction]:
    """Fasting, medicines, ride home and driving advice for a protocol's visit."""
    if not protocol_code:
        return []
    try:
        protocol = get_protocol(protocol_code)
    except UnknownCodeError:
        return []
    fasting = protocol.fasting
    sources = "; ".join(fasting.sources)
    found: list[Instruction] = []
    if fasting.food_min_hours is not None:
        hours = (
            f"{fasting.food_min_hours}–{fasting.food_max_hours} hours"
            if fasting.food_max_hours and fasting.food_max_hours != fasting.food_min_hours
            else f"{fasting.food_min_hours} hours"
        )
        found.append(Instruction(f"Do not eat for {hours} before your visit.", sources))
    if fasting.liquids_min_minutes is not None:
        found.append(
            Instruction(
                f"Do not drink anything for {fasting.liquids_min_minutes} minutes before your visit.",
                sources,
            )
        )
    if fasting.nasal_steroids_decongestants_min_hours_before is not None:
        found.append(
            Instruction(
                "Use any nasal steroid or decongestant at least "
                f"{fasting.nasal_steroids_decongestants_min_hours_before} hour before your visit.",
                sources,
            )
        )
    found.append(
        Instruction(
            "Arrange for a responsible adult to take you home after the visit.",
            "'The Transformative Power of Ketamine Therapy' (ride home arranged); "
            "Royal College of Emergency Medicine (RCEM) discharge criteria",
        )
    )
    for advice in _route_advice:
        instruction = advice(protocol.route)
        if instruction is not None:
            found.append(instruction)
    return found
