"""Clinic-managed calendar settings. Every change is written to the audit trail."""

from django.contrib import admin

from ketaclinic.accounts.admin import ClinicModelAdmin

from .models import (
    AppointmentType,
    Chair,
    ClosedDay,
    OpeningHours,
    Room,
    StaffAbsence,
    StaffShift,
)


class AuditedAdmin(ClinicModelAdmin):
    """Calendar settings: every change written with old and new values (ClinicModelAdmin)."""


class ChairInline(admin.TabularInline):
    model = Chair
    extra = 0


@admin.register(Room)
class RoomAdmin(AuditedAdmin):
    list_display = ["name", "kind", "active"]
    inlines = [ChairInline]


@admin.register(AppointmentType)
class AppointmentTypeAdmin(AuditedAdmin):
    list_display = ["name", "code", "minutes", "staff_role", "place", "prescriber_on_site"]
    readonly_fields = ["sources"]


@admin.register(OpeningHours)
class OpeningHoursAdmin(AuditedAdmin):
    list_display = ["__str__", "weekday", "opens_at", "closes_at"]


@admin.register(ClosedDay)
class ClosedDayAdmin(AuditedAdmin):
    list_display = ["date", "reason"]


@admin.register(StaffShift)
class StaffShiftAdmin(AuditedAdmin):
    list_display = ["user", "weekday", "starts_at", "ends_at"]
    list_filter = ["weekday", "user__role"]


@admin.register(StaffAbsence)
class StaffAbsenceAdmin(AuditedAdmin):
    list_display = ["user", "starts_at", "ends_at", "reason"]
