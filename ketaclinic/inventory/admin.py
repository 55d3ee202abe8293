"""The controlled-substance log in the admin: read-only, as the database itself insists."""

from django.contrib import admin

from .models import LedgerEntry, Lot


class ReadOnlyAdmin(admin.ModelAdmin):
    """Browse and search only: entries are written by the services and never changed."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Lot)
class LotAdmin(ReadOnlyAdmin):
    list_display = ["lot_number", "product", "drug", "supplier", "expires_on", "received_at"]
    list_filter = ["drug"]
    search_fields = ["lot_number", "product", "supplier"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "at", "kind", "lot", "quantity_mg", "session", "by", "witness"]
    list_filter = ["kind"]
    list_select_related = ["lot", "session__patient", "by", "witness"]
    search_fields = ["lot__lot_number", "reason"]
