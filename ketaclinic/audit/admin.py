from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail is append-only in the database as well."""

    list_display = ["seq", "at", "actor_username", "action", "patient_id", "outcome", "ip_address"]
    list_filter = ["outcome", "action"]
    search_fields = ["actor_username", "action", "object_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
