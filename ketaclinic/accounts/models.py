from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from .roles import Role

TOKEN_PREFIX = "kc_"
# Clinic policy: a bearer token lives this long unless `token_create --days N` says otherwise,
# so a token copied into a forgotten script stops working on its own.
TOKEN_LIFETIME_DAYS = 90


class User(AbstractUser):
    """A person who signs in: staff in one of the clinic roles, or a patient."""

    role = models.CharField(max_length=20, choices=Role.choices)
    credentials = models.CharField(
        max_length=60, blank=True, help_text="Shown after the name on signatures, e.g. MD, RN."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="user_role_known")
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        name = self.get_full_name() or self.username
        return f"{name}, {self.credentials}" if self.credentials else name

    @property
    def is_patient(self) -> bool:
        return self.role == Role.PATIENT


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self) -> ApiTokenQuerySet:
        """Tokens that still authenticate: not revoked, not expired, of an active user."""
        return self.filter(
            revoked_at__isnull=True, expires_at__gt=timezone.now(), user__is_active=True
        )


class ApiToken(models.Model):
    """A per-user bearer token. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text="First characters, to tell tokens apart.")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(help_text="After this the token is refused.")

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="api_token_expires_after_creation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def status(self) -> str:
        if self.revoked_at:
            return "revoked"
        return "expired" if self.is_expired else "active"

    @classmethod
    def issue(
        cls, user: User, name: str, *, days: int = TOKEN_LIFETIME_DAYS
    ) -> tuple[ApiToken, str]:
        if days < 1:
            raise ValueError("a token must live at least one day")
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = timezone.now()
        token = cls.objects.create(
            user=user,
            name=name,
            key_hash=hash_token(raw),
            prefix=raw[:10],
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
        return token, raw


class SecondFactorThrottle(models.Model):
    """Consecutive failed second-factor attempts of one user, and the lock they earned.

    One row per user who has ever failed; the count resets on success or when a lock ends.
    """

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="second_factor_throttle"
    )
    failures = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user}: {self.failures} failure(s)"
