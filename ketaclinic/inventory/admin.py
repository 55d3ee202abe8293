"""The controlled-substance log in the admin: read-only, as the database itself insists."""

from django.contrib import admin

from ketaclinic.accounts.admin import ReadOnlyAdmin

from .models import LedgerEntry, Lot


@admin.register(Lot)
class LotAdmin(ReadOnlyAdmin):
    view_permission = "inventory.view"
    list_display = ["lot_number", "product", "drug", "supplier", "expires_on", "received_at"]
    list_filter = ["drug"]
    search_fields = ["lot_number", "product", "supplier"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    view_permission = "inventory.view"
    patient_path = "session__patient"
    list_display = ["id", "at", "kind", "lot", "quantity_mg", "session", "by", "witness"]
    list_filter = ["kind"]
    list_select_related = ["lot", "session__patient", "by", "witness"]
    search_fields = ["lot__lot_number", "reason"]
