"""The CapabilityStatement: what this server does, generated from the registry.

Read and search for every registry type, the Group cohorts for bulk export, the
transaction interaction for imports and the Bulk Data ``$export`` operation; never more
than is served.
"""

from __future__ import annotations

import datetime as dt

from .registry import registry

FHIR_VERSION = "4.0.1"
BULK_DATA = "http://hl7.org/fhir/uv/bulkdata"


def statement(base_url: str, today: dt.date) -> dict:
    """The CapabilityStatement of the server answering at ``base_url``."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": today.isoformat(),
        "publisher": "ketaclinic",
        "kind": "instance",
        "software": {"name": "ketaclinic"},
        "implementation": {"description": "ketaclinic FHIR R4", "url": base_url},
        "instantiates": [f"{BULK_DATA}/CapabilityStatement/bulk-data"],
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [rest()],
    }


def rest() -> dict:
    return {
        "mode": "server",
        "security": {
            "cors": False,
            "description": "Bearer token (as for /api/v1/) or a signed-in session; "
            "a patient sees only their own record.",
        },
        "resource": [*served_types(), group()],
        "searchParam": [
            {"name": "_count", "type": "number", "documentation": "Page size"},
        ],
        # Bulk Data export and import (ketaclinic.fhir.bulk, .imports).
        "interaction": [
            {
                "code": "transaction",
                "documentation": "POST a transaction or collection Bundle (Patient, "
                "Condition, MedicationStatement, AllergyIntolerance, Observation): "
                "validated and staged for a clinician to accept, never merged",
            }
        ],
        "operation": [
            {
                "name": "export",
                "definition": f"{BULK_DATA}/OperationDefinition/export",
                "documentation": "$export, Patient/$export, Group/{id}/$export "
                "(Prefer: respond-async; _type, _since; NDJSON)",
            }
        ],
    }


def served_types() -> list[dict]:
    """Read and search for every type of the registry, with its search parameters."""
    return [
        {
            "type": name,
            "documentation": resource_type.documentation,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [
                {"name": param, "type": kind, "documentation": doc}
                for param, kind, doc in resource_type.search_params
            ],
        }
        for name, resource_type in registry().items()
    ]


def group() -> dict:
    """Group is the bulk export's cohorts (``bulk_groups``), not a registry type."""
    return {
        "type": "Group",
        "documentation": "Cohorts for bulk export: active-plans, protocol-<code>",
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "operation": [
            {"name": "export", "definition": f"{BULK_DATA}/OperationDefinition/group-export"}
        ],
    }
