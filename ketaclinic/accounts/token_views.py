"""API tokens page: a person's own bearer tokens (and, for the clinic admin, everyone's)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ketaclinic.audit import trail

from .models import ApiToken
from .permissions import can


def visible_tokens(user):
    """The tokens ``user`` may see: their own, or every token for the clinic admin."""
    tokens = ApiToken.objects.select_related("user").order_by("-created_at")
    return tokens if can(user, "token.view_all") else tokens.filter(user=user)


@login_required
def token_list(request):
    own = ApiToken.objects.filter(user=request.user).order_by("-created_at")
    others = None
    if can(request.user, "token.view_all"):
        others = (
            ApiToken.objects.exclude(user=request.user)
            .select_related("user")
            .order_by("user__username", "-created_at")
        )
    trail.record(action="token.list", request=request, detail={"all": others is not None})
    return render(
        request,
        "accounts/tokens.html",
        {"own": own, "others": others, "now": timezone.now()},
    )


@require_POST
@login_required
def token_revoke(request, token_id: int):
    token = visible_tokens(request.user).filter(pk=token_id).first()
    if token is None:
        raise Http404
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        trail.record(
            action="token.revoke",
            request=request,
            target=token,
            detail={"owner": token.user.username, "prefix": token.prefix, "by": "web"},
        )
        messages.success(request, f"Token {token.prefix}… ({token.name}) is revoked.")
    return redirect("accounts:tokens")
