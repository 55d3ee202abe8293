"""How a page shows a refused form: its status, and a service's errors on its fields.

Imports no app: every app's views use these.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError


def form_status(request, form) -> int:
    """422 for a refused form; a form may name its own status (429 while throttled)."""
    if request.method != "POST" or not form.errors:
        return 200
    return getattr(form, "status_code", None) or 422


def add_service_errors(form, error: ValidationError) -> None:
    """Show a service's validation errors on the form, per field where the form has it."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages_ in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)
