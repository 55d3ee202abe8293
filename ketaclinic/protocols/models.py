"""The clinic's protocol catalog: seeded from ``protocols/data/protocols.yaml``, edited in the
admin (every change audited), read by dosing and plans.

Each number sits next to the sources it comes from (``*_sources``, one source per line). The
database copy is what dosing uses: :meth:`Protocol.rules` turns a row back into the catalog's
frozen dataclass, validated by the same checks as the shipped file
(:func:`ketaclinic.protocols.catalog.parse_protocol`). The YAML file only seeds.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from . import catalog
from .choice import choose_protocol

ROUTE_CHOICES = [
    ("iv", "IV"),
    ("im", "IM"),
    ("esketamine", "Esketamine nasal spray"),
    ("sublingual", "Sublingual"),
    ("oral", "Oral"),
]


class ProtocolQuerySet(models.QuerySet):
    def active(self) -> ProtocolQuerySet:
        return self.filter(active=True)

    def default_for(self, route: str) -> Protocol | None:
        return self.active().filter(route=route, default_for_route=True).first()

    def chosen_for(self, route: str, indication: str) -> Protocol | None:
        """The active protocol a plan for ``route`` and ``indication`` starts from.

        The rule is the catalog's (:func:`ketaclinic.protocols.choice.choose_protocol`): the
        route's protocol whose label names the indication, else the route's default.
        """
        candidates = list(self.active().filter(route=route))
        default = next((row for row in candidates if row.default_for_route), None)
        found = choose_protocol(candidates, route=route, indication=indication, default=default)
        return None if found is None else found.protocol


def sources_text(sources) -> str:
    return "\n".join(sources or ())


def source_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _decimal_text(value: Decimal | None, places: int = 0) -> str | None:
    """``Decimal("1.000")`` as ``"1.0"`` (``places=1``): how the shipped file writes it."""
    if value is None:
        return None
    value = value.normalize()
    if value.as_tuple().exponent > -places:
        value = value.quantize(Decimal(1).scaleb(-places))
    return format(value, "f")


def _range_data(low, high, sources, places=1) -> dict | None:
    """A clinic-edited range in the shipped file's shape, or ``None`` when it is unset."""
    if low is None and high is None:
        return None
    return {
        "min": _decimal_text(low, places),
        "max": _decimal_text(high, places),
        "sources": source_lines(sources),
        "clinic_editable": True,
    }


class Protocol(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=150)
    route = models.CharField(max_length=20, choices=ROUTE_CHOICES)
    drug = models.CharField(max_length=60)
    indications = models.JSONField(
        null=True,
        blank=True,
        help_text="List of indication codes, or empty for unrestricted (prescriber decides).",
    )
    active = models.BooleanField(default=True)
    default_for_route = models.BooleanField(
        default=False, help_text="Used when a request names only the route (dosing calculator)."
    )
    position = models.PositiveSmallIntegerField(default=0)

    dose_basis = models.CharField(
        max_length=30, choices=[(basis.value, basis.value) for basis in catalog.DoseBasis]
    )
    dose_sources = models.TextField(blank=True, help_text="One source per line.")
    default_mg_per_kg_min = models.DecimalField(
        max_digits=6, decimal_places=3, null=True, blank=True
    )
    default_mg_per_kg_max = models.DecimalField(
        max_digits=6, decimal_places=3, null=True, blank=True
    )
    default_mg_per_kg_sources = models.TextField(blank=True)
    allowed_mg_per_kg_min = models.DecimalField(
        max_digits=6, decimal_places=3, null=True, blank=True
    )
    allowed_mg_per_kg_max = models.DecimalField(
        max_digits=6, decimal_places=3, null=True, blank=True
    )
    allowed_mg_per_kg_sources = models.TextField(blank=True)
    allowed_fixed_mg_min = models.DecimalField(
        max_digits=7, decimal_places=1, null=True, blank=True
    )
    allowed_fixed_mg_max = models.DecimalField(
        max_digits=7, decimal_places=1, null=True, blank=True
    )
    allowed_fixed_mg_sources = models.TextField(blank=True)

    infusion_default_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    infusion_default_sources = models.TextField(blank=True)
    infusion_min_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    infusion_max_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    infusion_minutes_sources = models.TextField(blank=True)

    device_mg = models.PositiveSmallIntegerField(null=True, blank=True)
    allowed_doses_mg = models.JSONField(default=list, blank=True, help_text="e.g. [28, 56, 84]")
    first_session_max_mg = models.PositiveSmallIntegerField(null=True, blank=True)
    minutes_between_devices = models.PositiveSmallIntegerField(null=True, blank=True)
    older_adult_from_age_years = models.PositiveSmallIntegerField(null=True, blank=True)
    older_adult_start_mg = models.PositiveSmallIntegerField(null=True, blank=True)
    older_adult_step_mg = models.PositiveSmallIntegerField(null=True, blank=True)
    older_adult_reserved_doses_mg = models.JSONField(default=list, blank=True)
    older_adult_sources = models.TextField(blank=True)

    fasting = models.JSONField(default=dict, help_text="As in protocols.yaml, with sources.")
    monitoring = models.JSONField(default=dict, help_text="As in protocols.yaml, with sources.")
    phases = models.JSONField(default=list, help_text="As in protocols.yaml, with sources.")
    course_schedules = models.JSONField(
        default=list,
        blank=True,
        help_text="Schedule pattern codes (protocols/data/schedules.yaml).",
    )
    home_use_allowed = models.BooleanField(default=False)
    sources = models.TextField(help_text="One source per line.")
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ProtocolQuerySet.as_manager()

    class Meta:
        ordering = ["position", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["route"],
                condition=Q(default_for_route=True),
                name="protocol_one_default_per_route",
            ),
            models.CheckConstraint(
                condition=Q(allowed_mg_per_kg_min__isnull=True)
                | Q(allowed_mg_per_kg_max__isnull=True)
                | Q(allowed_mg_per_kg_min__lte=models.F("allowed_mg_per_kg_max")),
                name="protocol_mg_per_kg_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    # --- Back to the catalog's shape ----------------------------------------------------

    def as_catalog_data(self) -> dict[str, Any]:
        """This row in the shape of a ``protocols.yaml`` entry."""
        return {
            "code": self.code,
            "name": self.name,
            "route": self.route,
            "drug": self.drug,
            "indications": self.indications or None,
            "dose": self._dose_data(),
            "infusion": self._infusion_data(),
            "fasting": self.fasting,
            "monitoring": self.monitoring,
            "phases": self.phases,
            "course_schedules": list(self.course_schedules or []),
            "home_use_allowed": self.home_use_allowed,
            "sources": source_lines(self.sources),
        }

    def _dose_data(self) -> dict[str, Any]:
        """The ``dose`` part: whole devices for esketamine, mg/kg (or fixed mg) otherwise."""
        dose: dict[str, Any] = {"basis": self.dose_basis}
        if self.dose_basis == catalog.DoseBasis.NASAL_DEVICE:
            return dose | self._device_dose_data()
        dose |= {
            "default_mg_per_kg": _range_data(
                self.default_mg_per_kg_min,
                self.default_mg_per_kg_max,
                self.default_mg_per_kg_sources,
            ),
            "allowed_mg_per_kg": _range_data(
                self.allowed_mg_per_kg_min,
                self.allowed_mg_per_kg_max,
                self.allowed_mg_per_kg_sources,
            ),
            "allowed_fixed_mg": _range_data(
                self.allowed_fixed_mg_min,
                self.allowed_fixed_mg_max,
                self.allowed_fixed_mg_sources,
                places=0,
            ),
        }
        if source_lines(self.dose_sources):
            dose["sources"] = source_lines(self.dose_sources)
        return dose

    def _device_dose_data(self) -> dict[str, Any]:
        dose: dict[str, Any] = {
            "device_mg": self.device_mg,
            "allowed_doses_mg": list(self.allowed_doses_mg or []),
            "first_session_max_mg": self.first_session_max_mg,
            "minutes_between_devices": self.minutes_between_devices,
            "sources": source_lines(self.dose_sources),
        }
        if self.older_adult_from_age_years is not None:
            dose["older_adult"] = {
                "from_age_years": self.older_adult_from_age_years,
                "start_mg": self.older_adult_start_mg,
                "step_mg": self.older_adult_step_mg,
                "reserved_doses_mg": list(self.older_adult_reserved_doses_mg or []),
                "sources": source_lines(self.older_adult_sources),
            }
        return dose

    def _infusion_data(self) -> dict[str, Any] | None:
        if self.infusion_default_minutes is None and self.infusion_min_minutes is None:
            return None
        return {
            "default_minutes": self.infusion_default_minutes,
            "default_sources": source_lines(self.infusion_default_sources),
            "allowed_minutes": {
                "min": self.infusion_min_minutes,
                "max": self.infusion_max_minutes,
                "sources": source_lines(self.infusion_minutes_sources),
                "clinic_editable": True,
            },
        }

    def rules(self) -> catalog.Protocol:
        """The catalog dataclass dosing and plans use, built from this row (validated)."""
        try:
            return catalog.parse_protocol(self.as_catalog_data(), where=f"protocol {self.code}")
        except catalog.CatalogError as error:
            raise ValidationError(
                {"protocol": f"Protocol {self.code} is not usable: {error}"}
            ) from None

    def clean(self) -> None:
        try:
            catalog.parse_protocol(self.as_catalog_data(), where=self.code or "protocol")
        except catalog.CatalogError as error:
            raise ValidationError(str(error)) from None
        if self.indications is not None and not isinstance(self.indications, list):
            raise ValidationError({"indications": "A list of indication codes, or empty."})

    # --- For pages -------------------------------------------------------------------------

    @property
    def source_list(self) -> list[str]:
        return source_lines(self.sources)

    def allows_indication(self, indication: str) -> bool:
        return not self.indications or indication in self.indications


def seed_values(raw: dict[str, Any]) -> dict[str, Any]:
    """Model field values for one ``protocols.yaml`` entry (already validated by the catalog)."""
    dose = raw["dose"]
    older = dose.get("older_adult") or {}
    infusion = raw.get("infusion") or {}
    allowed_minutes = infusion.get("allowed_minutes") or {}

    def rng(name: str) -> tuple[Any, Any, str]:
        part = dose.get(name) or {}
        return (
            None if part.get("min") is None else Decimal(str(part["min"])),
            None if part.get("max") is None else Decimal(str(part["max"])),
            sources_text(part.get("sources")),
        )

    default_min, default_max, default_sources = rng("default_mg_per_kg")
    allowed_min, allowed_max, allowed_sources = rng("allowed_mg_per_kg")
    fixed_min, fixed_max, fixed_sources = rng("allowed_fixed_mg")
    return {
        "name": raw["name"],
        "route": raw["route"],
        "drug": raw["drug"],
        "indications": raw.get("indications"),
        "dose_basis": dose["basis"],
        "dose_sources": sources_text(dose.get("sources")),
        "default_mg_per_kg_min": default_min,
        "default_mg_per_kg_max": default_max,
        "default_mg_per_kg_sources": default_sources,
        "allowed_mg_per_kg_min": allowed_min,
        "allowed_mg_per_kg_max": allowed_max,
        "allowed_mg_per_kg_sources": allowed_sources,
        "allowed_fixed_mg_min": fixed_min,
        "allowed_fixed_mg_max": fixed_max,
        "allowed_fixed_mg_sources": fixed_sources,
        "infusion_default_minutes": infusion.get("default_minutes"),
        "infusion_default_sources": sources_text(infusion.get("default_sources")),
        "infusion_min_minutes": allowed_minutes.get("min"),
        "infusion_max_minutes": allowed_minutes.get("max"),
        "infusion_minutes_sources": sources_text(allowed_minutes.get("sources")),
        "device_mg": dose.get("device_mg"),
        "allowed_doses_mg": list(dose.get("allowed_doses_mg") or []),
        "first_session_max_mg": dose.get("first_session_max_mg"),
        "minutes_between_devices": dose.get("minutes_between_devices"),
        "older_adult_from_age_years": older.get("from_age_years"),
        "older_adult_start_mg": older.get("start_mg"),
        "older_adult_step_mg": older.get("step_mg"),
        "older_adult_reserved_doses_mg": list(older.get("reserved_doses_mg") or []),
        "older_adult_sources": sources_text(older.get("sources")),
        "fasting": raw["fasting"],
        "monitoring": raw["monitoring"],
        "phases": raw["phases"],
        "course_schedules": list(raw.get("course_schedules") or []),
        "home_use_allowed": raw["home_use_allowed"],
        "sources": sources_text(raw["sources"]),
    }
