"""The protocol catalog in the Django admin: clinic-editable, every change audited.

Each value sits on one line with the sources it rests on, so an editor sees why a number is
what it is. A save or delete writes ``protocol.create`` / ``protocol.change`` /
``protocol.delete`` to the audit trail with the old and new values, in the same transaction.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.admin import ClinicModelAdmin
from ketaclinic.audit import trail

from .models import Protocol

AUDITED = [
    field.name
    for field in Protocol._meta.get_fields()
    if field.concrete and field.name not in {"id", "updated_at"}
]


def values(protocol: Protocol) -> dict[str, Any]:
    return {name: getattr(protocol, name) for name in AUDITED}


@admin.register(Protocol)
class ProtocolAdmin(ClinicModelAdmin):
    audit_changes = False  # protocol.create/change/delete below name the protocol's values
    list_display = ["code", "name", "route", "default_for_route", "active", "updated_at"]
    list_filter = ["route", "active"]
    readonly_fields = ["updated_at"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("code", "name"),
                    ("route", "drug", "dose_basis"),
                    ("active", "default_for_route", "position"),
                    "indications",
                    "sources",
                ]
            },
        ),
        (
            "Weight-based dose (each range with its sources)",
            {
                "fields": [
                    ("default_mg_per_kg_min", "default_mg_per_kg_max", "default_mg_per_kg_sources"),
                    ("allowed_mg_per_kg_min", "allowed_mg_per_kg_max", "allowed_mg_per_kg_sources"),
                    ("allowed_fixed_mg_min", "allowed_fixed_mg_max", "allowed_fixed_mg_sources"),
                ]
            },
        ),
        (
            "Infusion (IV)",
            {
                "fields": [
                    ("infusion_default_minutes", "infusion_default_sources"),
                    ("infusion_min_minutes", "infusion_max_minutes", "infusion_minutes_sources"),
                ]
            },
        ),
        (
            "Nasal devices (esketamine)",
            {
                "fields": [
                    ("device_mg", "allowed_doses_mg", "first_session_max_mg"),
                    "minutes_between_devices",
                    "dose_sources",
                    (
                        "older_adult_from_age_years",
                        "older_adult_start_mg",
                        "older_adult_step_mg",
                        "older_adult_reserved_doses_mg",
                    ),
                    "older_adult_sources",
                ]
            },
        ),
        (
            "Preparation, monitoring, phases, course",
            {
                "fields": [
                    "fasting",
                    "monitoring",
                    "phases",
                    "course_schedules",
                    "home_use_allowed",
                    "updated_at",
                ]
            },
        ),
    ]

    def save_model(self, request, obj: Protocol, form, change: bool) -> None:
        before = values(Protocol.objects.get(pk=obj.pk)) if change and obj.pk else {}
        with transaction.atomic():
            obj.updated_at = timezone.now()
            super().save_model(request, obj, form, change)
            after = values(obj)
            changes = {
                name: [before.get(name), after[name]]
                for name in AUDITED
                if before.get(name) != after[name]
            }
            trail.record(
                action="protocol.change" if change else "protocol.create",
                request=request,
                target=obj,
                detail={"code": obj.code, "changes": changes},
            )

    def delete_model(self, request, obj: Protocol) -> None:
        with transaction.atomic():
            old = values(obj)
            code, pk = obj.code, obj.pk
            super().delete_model(request, obj)
            obj.pk = pk
            trail.record(
                action="protocol.delete",
                request=request,
                target=obj,
                detail={"code": code, "values": old},
            )

    def delete_queryset(self, request, queryset) -> None:
        for protocol in queryset:
            self.delete_model(request, protocol)
