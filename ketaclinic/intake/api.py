"""Consultation requests over the API: anyone may send one; only staff read and triage."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["intake"])
