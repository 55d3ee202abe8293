"""Validate emitted resources with the fhir.resources R4B models (which cover R4)."""

from __future__ import annotations

import importlib

from fhir.resources.R4B import get_fhir_model_class


def validate(resource: dict):
    """The parsed model; raises pydantic's ValidationError naming the path on a bad resource."""
    model = get_fhir_model_class(resource["resourceType"])
    return model.model_validate(resource)


def model_module(name: str):
    return importlib.import_module(f"fhir.resources.R4B.{name.lower()}")
