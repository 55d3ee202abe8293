"""Inviting a patient to the portal: a portal login without the Django admin.

Staff (front desk, prescriber, nurse: ``portal.invite``) press "Invite to the portal" on the
chart's Portal access tab, or on a consultation request they have just converted. The
patient's portal user is created (or the one already linked is reused), with the patient
role, linked to the record through ``Patient.user`` (as the demo clinic's portal users are)
and with an unusable password; a one-time set-password link goes to the email on the record.

The link is Django's password-reset token with its own salt: it hashes the user's password
and last login, so setting a password (the link's use) or a new invitation (a fresh unusable
password) makes every earlier link stop working. It expires after ``INVITATION_HOURS`` (the
clinic's policy). The email names the clinic and the link, never a treatment or a visit.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.encoding import force_bytes, force_str
from django.utils.http import (
    base36_to_int,
    url_has_allowed_host_and_scheme,
    urlsafe_base64_decode,
    urlsafe_base64_encode,
)
from django.views.decorators.http import require_http_methods, require_POST

from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.audit import trail
from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.patients.access import access_patient
from ketaclinic.patients.chart import chart_context
from ketaclinic.patients.models import Patient

# Clinic policy: an invitation link works for three days, long enough for a weekend.
INVITATION_HOURS = 72
TAB = "portal"


class InvitationConflict(Exception):
    """The record's linked account cannot be a portal login (409)."""


class InvitationTokens(PasswordResetTokenGenerator):
    key_salt = "ketaclinic.intake.invitations.InvitationTokens"

    def check_token(self, user, token) -> bool:
        if not super().check_token(user, token):
            return False
        try:
            issued = base36_to_int(token.split("-")[0])
        except ValueError:
            return False
        return self._num_seconds(self._now()) - issued <= INVITATION_HOURS * 3600


tokens = InvitationTokens()


# --- the service ---------------------------------------------------------------------------


def _username_for(patient: Patient) -> str:
    wanted = patient.email.strip().lower()
    if wanted and not User.objects.filter(username__iexact=wanted).exists():
        return wanted
    return f"patient-{patient.mrn.lower()}"


def _portal_user(patient: Patient) -> User:
    """The record's portal user, created when there is none; never a staff account."""
    user = patient.user
    if user is None:
        user = User(
            username=_username_for(patient),
            role=Role.PATIENT,
            first_name=patient.given_name,
            last_name=patient.family_name,
        )
    elif user.role != Role.PATIENT:
        raise InvitationConflict(f"The record is linked to the staff account {user.username}.")
    elif not user.is_active:
        raise InvitationConflict(f"The portal account {user.username} is deactivated.")
    user.email = patient.email
    # A fresh unusable password changes the token's hash: earlier links stop working.
    user.set_unusable_password()
    user.save()
    if patient.user_id != user.pk:
        patient.user = user
        patient.save(update_fields=["user"])
    return user


def invitation_url(user: User) -> str:
    path = reverse(
        "portal_intake:welcome",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": tokens.make_token(user),
        },
    )
    return settings.SITE_URL.rstrip("/") + path


def invitation_body(patient: Patient, user: User, url: str) -> str:
    name = patient.preferred_name or patient.given_name
    return (
        f"Hello {name},\n\n{settings.CLINIC_NAME} has opened a patient portal account for you.\n"
        f"Choose your password here (the link works once, for {INVITATION_HOURS} hours):\n"
        f"{url}\n\nYour sign-in name is: {user.username}\n\n"
        "If you did not expect this message, you can ignore it.\n\n"
        f"{settings.CLINIC_NAME}"
    )


def portal_invite(*, request, patient: Patient) -> User:
    """Create or reuse the portal user and email a set-password link; audited."""
    if not patient.email.strip():
        raise ValidationError(
            {"email": "The record has no email address to send the invitation to."}
        )
    with transaction.atomic():
        created = patient.user_id is None
        user = _portal_user(patient)
        send_mail(
            f"Your {settings.CLINIC_NAME} patient portal",
            invitation_body(patient, user, invitation_url(user)),
            settings.DEFAULT_FROM_EMAIL,
            [patient.email],
        )
        trail.record(
            action="portal_invite.sent",
            request=request,
            patient=patient,
            target=user,
            detail={"account": "created" if created else "reused", "hours": INVITATION_HOURS},
        )
    return user


# --- staff pages ---------------------------------------------------------------------------


def portal_tab(request, patient: Patient) -> dict:
    """The chart's Portal access tab: the account, its last sign-in and the invitations."""
    invites = (
        AuditEvent.objects.for_patient(patient.pk)
        .filter(action__startswith="portal_invite.")
        .order_by("-seq")[:10]
    )
    return {"portal_user": patient.user, "portal_invites": list(invites)}


def _back(request, patient: Patient) -> str:
    wanted = request.POST.get("next", "")
    if wanted and url_has_allowed_host_and_scheme(wanted, {request.get_host()}):
        return wanted
    return reverse("patients:chart_tab", kwargs={"patient_id": patient.pk, "tab": TAB})


@login_required
@require_POST
def invite(request, patient_id: int):
    patient = access_patient(request, patient_id, "portal.invite")
    try:
        portal_invite(request=request, patient=patient)
    except (ValidationError, InvitationConflict) as error:
        status = 422 if isinstance(error, ValidationError) else 409
        trail.record(
            action="portal_invite.sent",
            request=request,
            patient=patient,
            outcome=Outcome.INVALID if status == 422 else Outcome.REFUSED,
            detail={"error": "; ".join(getattr(error, "messages", [str(error)]))},
        )
        context = chart_context(request, patient, TAB)
        context["invite_errors"] = getattr(error, "messages", [str(error)])
        return render(request, "patients/chart.html", context, status=status)
    messages.success(request, f"Portal invitation sent to {patient.email}.")
    return redirect(_back(request, patient))


# --- the patient's side --------------------------------------------------------------------


def _user_from(uidb64: str) -> User | None:
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    return User.objects.filter(pk=pk, role=Role.PATIENT, is_active=True).first()


@require_http_methods(["GET", "POST"])
def welcome(request, uidb64: str, token: str):
    """The link in the invitation: choose a password, then the portal."""
    user = _user_from(uidb64)
    record = getattr(user, "patient_record", None) if user is not None else None
    if user is None or record is None or not tokens.check_token(user, token):
        trail.record(
            action="portal_invite.refused",
            request=request if request.user.is_authenticated else None,
            patient_id=record.pk if record is not None else None,
            outcome=Outcome.REFUSED,
            detail={"why": "unknown, used, replaced or expired link"},
        )
        return render(request, "intake/portal/welcome_refused.html", status=410)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()  # the new password changes the token's hash: the link is used up
            trail.record(action="portal_invite.used", actor=user, patient=record, target=user)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Your password is set. Welcome to your portal.")
        return redirect("portal")
    return render(
        request,
        "intake/portal/welcome.html",
        {"form": form, "username": user.username, "hours": INVITATION_HOURS},
        status=422 if form.errors else 200,
    )
