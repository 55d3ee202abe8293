"""Transitional face of ``session_service.py`` (opening a session) while the views move to it."""

from __future__ import annotations

from .session_service import ChairBusy, initials, running_in_chair, session_open, session_transition

__all__ = ["ChairBusy", "initials", "running_in_chair", "session_open", "session_transition"]
