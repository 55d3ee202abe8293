"""Billing over the API: coverage on the patient record (and, with issue #13's charges, more)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["billing"])
