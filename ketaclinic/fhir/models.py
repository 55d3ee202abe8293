"""Models of the FHIR app (each in its own module, imported here so Django finds them)."""

from __future__ import annotations

from .bulk_models import ExportJob, ExportLevel, ExportStatus  # noqa: F401
from .staging_models import StagedImport, StagedItem, StagedStatus  # noqa: F401
