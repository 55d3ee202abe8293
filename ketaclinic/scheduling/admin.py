"""Clinic-managed calendar settings. Every change is written to the audit trail."""

from django.contrib import admin
from django.forms.models import model_to_dict

from ketaclinic.audit import trail

from .models import (
    AppointmentType,
    Chair,
    ClosedDay,
    OpeningHours,
    Room,
    StaffAbsence,
    StaffShift,
)


class AuditedAdmin(admin.ModelAdmin):
    """Records old and new values of every admin change, and deletions."""

    def save_model(self, request, obj, form, change):
        before = model_to_dict(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else {}
        super().save_model(request, obj, form, change)
        after = model_to_dict(obj)
        changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
        trail.record(
            action=f"admin.{obj._meta.model_name}.{'change' if change else 'create'}",
            request=request,
            target=obj,
            detail={"changes": changes},
        )

    def delete_model(self, request, obj):
        trail.record(
            action=f"admin.{obj._meta.model_name}.delete",
            request=request,
            target=obj,
            detail={"was": model_to_dict(obj)},
        )
        super().delete_model(request, obj)


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
