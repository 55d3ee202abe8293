"""Pages of the second sign-in step: overview, authenticator set-up, verify, recovery codes."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from . import mfa, passkeys
from .models import SecondFactorThrottle

DEVICE_KINDS = {"authenticator": TOTPDevice, "passkey": WebAuthnCredential}


def next_url(request) -> str:
    """Where to go after the second step: the page asked for, when it is ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


def verified_if_enrolled(view):
    """Changing devices needs the second step first when there already is a device, so a
    stolen password alone cannot add the thief's authenticator."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not mfa.is_verified(request.user) and mfa.has_device(request.user):
            return redirect(f"{reverse('accounts:mfa_verify')}?next={request.path}")
        return view(request, *args, **kwargs)

    return login_required(wrapper)


@verified_if_enrolled
def overview(request):
    user = request.user
    context = {
        "authenticator": mfa.confirmed_authenticator(user),
        "passkeys": passkeys.credentials_of(user),
        "recovery_codes_left": mfa.recovery_codes_left(user),
        "has_device": mfa.has_device(user),
        "required": mfa.required_by_policy(user),
    }
    return render(request, "accounts/mfa/overview.html", context)


@verified_if_enrolled
def enrol(request):
    """Set up an authenticator app: scan the QR code, type the first code to confirm."""
    user = request.user
    if mfa.confirmed_authenticator(user) is not None:
        return redirect("accounts:mfa")
    device = mfa.pending_authenticator(user)
    error = ""
    if request.method == "POST":
        if mfa.confirm_authenticator(request, device, request.POST.get("code", "")):
            codes = mfa.issue_recovery_codes(request, user)
            return render(
                request,
                "accounts/mfa/recovery_codes.html",
                {"codes": codes, "next": next_url(request), "first_time": True},
            )
        error = "That code did not match. Check the app shows this clinic's entry and try the newest code."
    context = {
        "qr_svg": mfa.qr_svg(device),
        "manual_key": mfa.manual_key(device),
        "error": error,
        "next": request.POST.get("next") or request.GET.get("next", ""),
        "required": mfa.required_by_policy(user),
    }
    return render(request, "accounts/mfa/enrol.html", context, status=422 if error else 200)


@login_required
def verify(request):
    """Ask for an authenticator code, a recovery code or a passkey after the password."""
    user = request.user
    if mfa.is_verified(user):
        return HttpResponseRedirect(next_url(request))
    if not mfa.has_device(user):
        return redirect(f"{reverse('accounts:mfa_enrol')}?next={next_url(request)}")
    status, error = 200, ""
    until = mfa.locked_until(user)
    if request.method == "POST":
        if until is not None:
            mfa.record_refused_while_locked(request, user, method="code")
            status, error = 429, mfa.lock_message(until)
        else:
            check = mfa.verify_code(user, request.POST.get("code", ""))
            if check.ok:
                mfa.complete_second_step(request, check.device, method=check.method)
                return HttpResponseRedirect(next_url(request))
            until = mfa.record_failure(request, user, method=check.method)
            status, error = (429, mfa.lock_message(until)) if until else (422, wrong_code(user))
    elif until is not None:
        status, error = 429, mfa.lock_message(until)
    context = {
        "error": error,
        "locked": until is not None,
        "next": request.POST.get("next") or request.GET.get("next", ""),
        "has_passkey": passkeys.credentials_of(user).exists(),
        "webauthn_config": passkeys.script_config(request),
    }
    return render(request, "accounts/mfa/verify.html", context, status=status)


def wrong_code(user) -> str:
    failures = SecondFactorThrottle.objects.get(user=user).failures
    left = mfa.MAX_FAILURES - failures
    minutes = int(mfa.LOCK_FOR.total_seconds() // 60)
    return (
        f"That code did not match. {left} more wrong code{'s' if left != 1 else ''} "
        f"will lock the second step for {minutes} minutes."
    )


@verified_if_enrolled
def recovery_codes(request):
    """How many recovery codes are left; a POST replaces them all and shows the new ones once."""
    if request.method == "POST":
        if not mfa.is_verified(request.user):
            # New codes are a second factor: only a verified session may mint them.
            return redirect("accounts:mfa")
        codes = mfa.issue_recovery_codes(request, request.user)
        return render(request, "accounts/mfa/recovery_codes.html", {"codes": codes})
    return render(
        request,
        "accounts/mfa/recovery_codes.html",
        {"left": mfa.recovery_codes_left(request.user), "codes": None},
    )


@require_POST
@verified_if_enrolled
def remove_device(request, kind: str, device_id: int):
    model = DEVICE_KINDS.get(kind)
    if model is None:
        raise Http404
    device = model.objects.filter(user=request.user, pk=device_id).first()
    if device is None:
        raise Http404
    mfa.remove_device(request, device)
    if not mfa.has_primary_device(request.user):
        # Recovery codes stand in for a lost device; with no device left they go too.
        StaticDevice.objects.filter(user=request.user).delete()
    request.session[mfa.ENROLLED_SESSION_KEY] = mfa.has_device(request.user)
    return redirect("accounts:mfa")


@verified_if_enrolled
def passkey_list(request):
    """The person's passkeys, and a button to register one on this device (script-driven)."""
    return render(
        request,
        "accounts/mfa/passkeys.html",
        {
            "passkeys": passkeys.credentials_of(request.user),
            "webauthn_config": passkeys.script_config(request),
            "recovery_codes_left": mfa.recovery_codes_left(request.user),
        },
    )
