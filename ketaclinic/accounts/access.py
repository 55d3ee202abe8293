from __future__ import annotations

from django.core.exceptions import PermissionDenied

from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.web.labels import words

from .permissions import can


class Refusal(PermissionDenied):
    """A 403 for a role without ``permission``: words for people, the code for the API."""

    def __init__(self, user, permission: str) -> None:
        self.permission = permission
        super().__init__(refusal_message(user, permission))


def require_permission(request, permission: str) -> None:
    """403 (audited) unless the user's role carries ``permission``."""
    if not can(request.user, permission):
        trail.record(
            action="access.refused",
            request=request,
            outcome=Outcome.REFUSED,
            detail={"permission": permission},
        )
        raise Refusal(request.user, permission)


def refusal_reason(user, permission: str) -> str:
    """Why the audit trail refused: the role and the permission, in words."""
    return f"role {user.get_role_display()} lacks “{words(permission)}”"


def refusal_message(user, permission: str) -> str:
    """What a refused person reads on the 403 page."""
    return f"Your role ({user.get_role_display()}) does not allow “{words(permission)}”."
