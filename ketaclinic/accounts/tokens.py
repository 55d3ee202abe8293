"""Bearer-token authentication for the JSON API and FHIR: ``Authorization: Bearer <token>``.

Only a token's digest is stored (``ApiToken.key_hash``); a token that is unknown, revoked or
expired is refused and the refusal audited.
"""

from __future__ import annotations

from django.utils import timezone
from ninja.security import HttpBearer

from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome

from .models import ApiToken, hash_token

# Only refresh a token's last-used time this often, so reads do not all write.
LAST_USED_RESOLUTION_S = 60


class BearerToken(HttpBearer):
    def authenticate(self, request, token: str):
        found = (
            ApiToken.objects.active()
            .select_related("user")
            .filter(key_hash=hash_token(token))
            .first()
        )
        if found is None:
            trail.record(action="auth.token_refused", request=request, outcome=Outcome.REFUSED)
            return None
        now = timezone.now()
        if (
            not found.last_used_at
            or (now - found.last_used_at).total_seconds() > LAST_USED_RESOLUTION_S
        ):
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        return found.user
