from __future__ import annotations

from django.core.exceptions import PermissionDenied

from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome

from .permissions import can


def require_permission(request, permission: str) -> None:
    """403 (audited) unless the user's role carries ``permission``."""
    if not can(request.user, permission):
        trail.record(
            action="access.refused",
            request=request,
            outcome=Outcome.REFUSED,
            detail={"permission": permission},
        )
        raise PermissionDenied(
            f"Your role ({request.user.role}) lacks the '{permission}' permission."
        )
