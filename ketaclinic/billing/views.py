"""Billing pages: coverage, prior authorization, the Spravato prior-authorization packet."""

from __future__ import annotations
