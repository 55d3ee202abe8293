from __future__ import annotations

from django.conf import settings

from .permissions import permissions_of


def permissions(request) -> dict:
    user = getattr(request, "user", None)
    return {
        "perms_of_user": permissions_of(user) if user is not None else frozenset(),
        "clinic_name": settings.CLINIC_NAME,
    }
