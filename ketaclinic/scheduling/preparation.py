"""What a patient must do before a treatment visit, from the protocol catalog (pure).

Every instruction carries its source, so the reminder and the confirmation page show why.
"""

from __future__ import annotations

from dataclasses import dataclass

from ketaclinic.charting.safety import DEFAULT_DISCHARGE
from ketaclinic.protocols.catalog import UnknownCodeError, get_protocol


@dataclass(frozen=True)
class Instruction:
    text: str
    source: str


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
            "seed 000 (ride home arranged); RCEM discharge criteria",
        )
    )
    advice = DEFAULT_DISCHARGE.driving_advice_for(protocol.route)
    found.append(Instruction(advice.text, advice.source))
    return found
