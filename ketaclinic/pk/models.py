"""Published linear compartment models of racemic ketamine, built from ``data/models.yaml``.

Weight scaling: V1 = ``v1_l_per_kg`` x weight and the rate constants are weight-independent, so
every volume and clearance is proportional to total body weight (REFERENCE.md section 6: "V1 in
L/kg x weight, rate constants per minute").

Validated population: a model queried outside the age or weight range in its data entry still
predicts, but :func:`ketaclinic.pk.predict` emits an :class:`OutsideValidatedPopulationWarning`
through Python's ``warnings`` module (one per broken bound). Callers that want the messages as
data, e.g. to show them next to a chart, call :meth:`CompartmentModel.population_warnings`.
Both models' ranges are [U] placeholders: REFERENCE.md gives none.

References
----------
.. [1] Clements JA, Nimmo WS. Br J Anaesth 1981;53:27 (two-compartment model).
.. [2] Domino 1984, parameter set as distributed with StanPump.
.. [3] ../shared/domain/REFERENCE.md section 6, compartment model table.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from ketaclinic.pk.data import load_data
from ketaclinic.pk.regimen import RegimenError

# How a warning words the evidence tag of a validated range (the data keeps the tag).
EVIDENCE = {"[U]": "unverified: ", "[V]": "", "[2nd]": "from a secondary source: "}


class OutsideValidatedPopulationWarning(UserWarning):
    """A model was used for a patient outside the age or weight range it was validated on."""


@dataclass(frozen=True)
class ValidatedPopulation:
    """Closed ranges of age and weight a model is trusted for, with their basis and status."""

    age_years: tuple[float, float]
    weight_kg: tuple[float, float]
    basis: str
    status: str


@dataclass(frozen=True)
class ScaledModel:
    """A compartment model scaled to one body weight: volumes in L, clearances in L/min."""

    v1_l: float
    cl_l_per_min: float
    q_l_per_min: tuple[float, ...]
    vp_l: tuple[float, ...]


@dataclass(frozen=True)
class CompartmentModel:
    """Published mammillary model: central volume per kg and first-order rate constants.

    Attributes
    ----------
    code : str
        Stable identifier used by the API (``clements_1981``, ``domino_1984``).
    v1_l_per_kg : float
        Central volume per kg of body weight.
    k10_per_min, k12_per_min, k21_per_min, k13_per_min, k31_per_min : float
        Rate constants per minute; k13 = k31 = 0 for a two-compartment model.
    source, note : str
        Where the numbers come from (REFERENCE.md row) and what to know when using them.
    validated : ValidatedPopulation
    """

    code: str
    name: str
    v1_l_per_kg: float
    k10_per_min: float
    k12_per_min: float
    k21_per_min: float
    k13_per_min: float
    k31_per_min: float
    source: str
    note: str
    validated: ValidatedPopulation

    @property
    def compartments(self) -> int:
        return 3 if self.k13_per_min > 0 else 2

    def scaled(self, weight_kg: float) -> ScaledModel:
        """Volumes and clearances for a patient of ``weight_kg`` (V1 x weight; k unchanged)."""
        v1_l = self.v1_l_per_kg * weight_kg
        pairs = [(self.k12_per_min, self.k21_per_min)]
        if self.compartments == 3:
            pairs.append((self.k13_per_min, self.k31_per_min))
        # Q = k1j V1 = kj1 Vj, so Vj = V1 k1j / kj1.
        return ScaledModel(
            v1_l=v1_l,
            cl_l_per_min=self.k10_per_min * v1_l,
            q_l_per_min=tuple(k_out * v1_l for k_out, _ in pairs),
            vp_l=tuple(v1_l * k_out / k_back for k_out, k_back in pairs),
        )

    def population_warnings(self, weight_kg: float, age_years: float | None = None) -> list[str]:
        """Messages for each bound of the validated population that this patient falls outside.

        ``age_years`` None means unknown age: only weight is checked.
        """
        checks = [("weight", weight_kg, self.validated.weight_kg, "kg")]
        if age_years is not None:
            checks.append(("age", age_years, self.validated.age_years, "years"))
        return [
            f"{self.name}: {label} {value:g} {unit} is outside the validated range "
            f"{low:g}-{high:g} {unit} ({EVIDENCE.get(self.validated.status, '')}"
            f"{self.validated.basis})"
            for label, value, (low, high), unit in checks
            if not low <= value <= high
        ]


def _build(code: str, entry: dict[str, Any]) -> CompartmentModel:
    population = entry["validated_population"]
    return CompartmentModel(
        code=code,
        name=entry["name"],
        v1_l_per_kg=float(entry["v1_l_per_kg"]),
        k10_per_min=float(entry["k10_per_min"]),
        k12_per_min=float(entry["k12_per_min"]),
        k21_per_min=float(entry["k21_per_min"]),
        k13_per_min=float(entry.get("k13_per_min", 0.0)),
        k31_per_min=float(entry.get("k31_per_min", 0.0)),
        source=entry["source"],
        note=entry["note"],
        validated=ValidatedPopulation(
            age_years=tuple(population["age_years"]),
            weight_kg=tuple(population["weight_kg"]),
            basis=population["basis"],
            status=population["status"],
        ),
    )


@cache
def model_catalog() -> dict[str, CompartmentModel]:
    """All published models by code, read once from ``data/models.yaml``."""
    return {code: _build(code, entry) for code, entry in load_data("models")["models"].items()}


MODEL_CODES: tuple[str, ...] = tuple(model_catalog())
DEFAULT_MODEL: str = load_data("models")["default_model"]


def get_model(code: Any) -> CompartmentModel:
    """Return the model with this code, or raise :class:`RegimenError` on field ``model``."""
    catalog = model_catalog()
    if not isinstance(code, str) or code not in catalog:
        raise RegimenError("model", f"unknown model {code!r}; expected one of {', '.join(catalog)}")
    return catalog[code]
