"""Deploy check: production runs with the second factor required."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def second_factor_required_in_production(app_configs, **kwargs):
    if getattr(settings, "MFA_REQUIRED", False):
        return []
    return [
        Warning(
            "MFA_REQUIRED is off: staff can reach patient records with a password alone.",
            hint="Unset MFA_REQUIRED (it defaults to on with SECURE_MODE) or set MFA_REQUIRED=1.",
            id="accounts.W001",
        )
    ]
