"""Who may read the API's documentation and OpenAPI schema: signed-in staff only.

The schema lists every endpoint and field of the clinical record; it is no secret from the
clinic's own integrators, but nothing an anonymous caller or a patient needs. Used as the
``docs_decorator`` of the NinjaAPI, which wraps both the Swagger page and the schema.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied


def staff_only(is_staff_member: Callable[[object], bool]) -> Callable:
    """A view decorator: anonymous callers sign in first; others need ``is_staff_member``."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def guarded(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user.is_active or not is_staff_member(user):
                raise PermissionDenied("The API documentation is for clinic staff.")
            return view(request, *args, **kwargs)

        return guarded

    return decorator
