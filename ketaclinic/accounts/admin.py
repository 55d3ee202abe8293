"""The Django admin inside the clinic's rules, and the admin pages for accounts and the trail.

Every admin registration uses ``ClinicModelAdmin`` (directly or through ``ReadOnlyAdmin``):

- **Who may open it.** ``view_permission`` names the permission of the app's own pages
  (``accounts.permissions``) that a role needs to see the model here too: a clinic admin who
  gets 403 on a patient's PHQ-9 answers in the app gets 403 on them in the admin. Django's
  model permissions (``is_staff``, groups, ``is_superuser``) are still required on top. A
  superuser is held to their role as well: ``is_superuser`` grants the admin's model
  permissions, never clinical reading the role lacks (minimum necessary, 45 CFR 164.502(b)).
  A patient account never opens the admin, whatever its flags.
- **What is written down.** Each list, object page, history page and delete confirmation
  shown writes an audit event (``admin.list``, ``admin.view``, ``admin.history``), with the
  patient when the model belongs to one (``patient_path``); a refused page writes a refused
  event. Each add, change and delete writes ``admin.create`` / ``admin.change`` /
  ``admin.delete`` with the old and new values, in the admin's own transaction.
- **Roles.** A role set or changed here also writes ``user.role_change`` with old and new.

The trail's own admin lives here rather than in ``audit/admin.py``: ``audit`` comes before
``accounts`` in the dependency order, and the permission matrix lives in ``accounts``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db import models

from ketaclinic.audit import trail
from ketaclinic.audit.models import AuditEvent, Outcome

from .models import ApiToken, User
from .permissions import can
from .roles import Role

# Never copied into the trail, even as "old and new": a password hash stays where it is.
SECRET_FIELDS = frozenset({"password", "key_hash"})


def model_label(model: type[models.Model]) -> str:
    return model._meta.label_lower


def stored_values(obj: models.Model) -> dict[str, Any]:
    """The object's own columns (foreign keys as ids), secrets left out."""
    return {
        field.attname: field.value_from_object(obj)
        for field in obj._meta.concrete_fields
        if field.name not in SECRET_FIELDS
    }


class ClinicModelAdmin(admin.ModelAdmin):
    """A ModelAdmin that asks the permission matrix and writes every view and change down."""

    #: The app's permission a role needs to see this model (None: Django's permissions only).
    view_permission: str | None = None
    #: ORM path from this model to its patient's id ("patient", "plan__patient", "pk").
    patient_path: str | None = None
    #: False where a subclass writes its own, more specific, change events.
    audit_changes: bool = True

    # -- who may open it ------------------------------------------------------------------

    def role_allows(self, request) -> bool:
        user = request.user
        if not user.is_authenticated or not user.is_active or user.role == Role.PATIENT:
            return False
        return self.view_permission is None or can(user, self.view_permission)

    def has_module_permission(self, request) -> bool:
        return self.role_allows(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.role_allows(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args) -> bool:
        return self.role_allows(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None) -> bool:
        return self.role_allows(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.role_allows(request) and super().has_delete_permission(request, obj)

    def refuse_unless_allowed(self, request, page: str, object_id=None) -> None:
        if self.role_allows(request):
            return
        trail.record(
            action=f"admin.{page}",
            request=request,
            patient_id=self.patient_of(object_id) if object_id is not None else None,
            outcome=Outcome.REFUSED,
            detail={"model": model_label(self.model), "object_id": str(object_id or "")},
        )
        raise PermissionDenied

    # -- reads ----------------------------------------------------------------------------

    def changelist_view(self, request, extra_context=None):
        self.refuse_unless_allowed(request, "list")
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if response.status_code == 200 and changelist is not None:
            shown = [obj.pk for obj in changelist.result_list]
            patients = self.patients_of(shown)
            trail.record(
                action="admin.list",
                request=request,
                patient_id=patients[0] if len(patients) == 1 else None,
                detail={
                    "model": model_label(self.model),
                    "query": {key: request.GET.getlist(key) for key in request.GET},
                    "shown": [str(pk) for pk in shown],
                    "patients": patients,
                },
            )
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self.refuse_unless_allowed(request, "view", object_id)
        response = super().change_view(request, object_id, form_url, extra_context)
        # 200: the object's page was shown (a GET, or a POST sent back with errors).
        self.record_object_read(request, response, "view", object_id)
        return response

    def history_view(self, request, object_id, extra_context=None):
        self.refuse_unless_allowed(request, "history", object_id)
        response = super().history_view(request, object_id, extra_context)
        self.record_object_read(request, response, "history", object_id)
        return response

    def delete_view(self, request, object_id, extra_context=None):
        self.refuse_unless_allowed(request, "view", object_id)
        response = super().delete_view(request, object_id, extra_context)
        if request.method != "POST":
            self.record_object_read(request, response, "view", object_id, page="delete")
        return response

    def record_object_read(self, request, response, action, object_id, page="") -> None:
        if response.status_code != 200:
            return
        context = getattr(response, "context_data", None) or {}
        obj = context.get("original") or context.get("object")
        detail = {"model": model_label(self.model), "object_id": str(object_id)}
        if page:
            detail["page"] = page
        trail.record(
            action=f"admin.{action}",
            request=request,
            patient_id=self.patient_of(object_id),
            target=obj if isinstance(obj, models.Model) else None,
            detail=detail,
        )

    def patients_of(self, pks: list) -> list[int]:
        if self.patient_path is None or not pks:
            return []
        ids = (
            self.model._default_manager.filter(pk__in=pks)
            .values_list(self.patient_path, flat=True)
            .distinct()
        )
        return sorted(pid for pid in ids if pid is not None)

    def patient_of(self, object_id) -> int | None:
        if self.patient_path is None:
            return None
        try:
            return (
                self.model._default_manager.filter(pk=object_id)
                .values_list(self.patient_path, flat=True)
                .first()
            )
        except (ValueError, TypeError):  # not a valid key for this model
            return None

    # -- writes ---------------------------------------------------------------------------

    def save_model(self, request, obj, form, change) -> None:
        before = {}
        if change and obj.pk is not None:
            stored = type(obj)._default_manager.filter(pk=obj.pk).first()
            before = stored_values(stored) if stored is not None else {}
        super().save_model(request, obj, form, change)
        if not self.audit_changes:
            return
        after = stored_values(obj)
        changes = {
            name: [before.get(name), value]
            for name, value in after.items()
            if before.get(name) != value
        }
        trail.record(
            action="admin.change" if change else "admin.create",
            request=request,
            patient_id=self.patient_of(obj.pk),
            target=obj,
            detail={"model": model_label(self.model), "changes": changes},
        )

    def delete_model(self, request, obj) -> None:
        if self.audit_changes:
            self.record_deletion(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        if self.audit_changes:
            for obj in queryset:
                self.record_deletion(request, obj)
        super().delete_queryset(request, queryset)

    def record_deletion(self, request, obj) -> None:
        trail.record(
            action="admin.delete",
            request=request,
            patient_id=self.patient_of(obj.pk),
            target=obj,
            detail={"model": model_label(self.model), "was": stored_values(obj)},
        )


class ReadOnlyAdmin(ClinicModelAdmin):
    """Browse and search only: these records change through the audited application."""

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(ClinicModelAdmin, DjangoUserAdmin):
    """Staff and patient accounts. A patient's account row is that patient's data."""

    patient_path = "patient_record"
    list_display = ["username", "first_name", "last_name", "role", "is_active"]
    list_filter = ["role", "is_active"]
    fieldsets = (*DjangoUserAdmin.fieldsets, ("Clinic", {"fields": ("role", "credentials")}))
    add_fieldsets = (*DjangoUserAdmin.add_fieldsets, ("Clinic", {"fields": ("role",)}))

    def save_model(self, request, obj, form, change) -> None:
        old_role = ""
        if change and obj.pk is not None:
            old_role = User.objects.filter(pk=obj.pk).values_list("role", flat=True).first()
        super().save_model(request, obj, form, change)
        if old_role != obj.role:
            record_role_change(request, obj, old_role or "", obj.role)

    def user_change_password(self, request, id, form_url=""):
        self.refuse_unless_allowed(request, "password", id)
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            trail.record(
                action="admin.password_set",
                request=request,
                patient_id=self.patient_of(id),
                target=User.objects.filter(pk=id).first(),
                detail={"model": model_label(User)},
            )
        return response


def record_role_change(request, user: User, old_role: str, new_role: str) -> None:
    """Who gave whom which role: the one change that widens what an account may read."""
    trail.record(
        action="user.role_change",
        request=request,
        target=user,
        detail={"username": user.username, "old_role": old_role, "new_role": new_role},
    )


@admin.register(ApiToken)
class ApiTokenAdmin(ClinicModelAdmin):
    list_display = ["prefix", "name", "user", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["key_hash", "prefix", "created_at", "last_used_at"]
    list_filter = ["revoked_at"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the trail is append-only in the database as well."""

    view_permission = "audit.view"
    patient_path = "patient_id"
    list_display = ["seq", "at", "actor_username", "action", "patient_id", "outcome", "ip_address"]
    list_filter = ["outcome", "action"]
    search_fields = ["actor_username", "action", "object_id"]


def bring_inside_the_rules(site: admin.AdminSite) -> None:
    """Re-register what installed apps registered on their own (Django's groups, axes'
    sign-in attempts, which name accounts and addresses) with the clinic's rules mixed in.
    Apps listed before ``accounts`` have registered by now; ours register through the mixin."""
    for model, model_admin in list(site._registry.items()):
        if isinstance(model_admin, ClinicModelAdmin):
            continue
        original = type(model_admin)
        site.unregister(model)
        site.register(model, type(f"Clinic{original.__name__}", (ClinicModelAdmin, original), {}))


bring_inside_the_rules(admin.site)
