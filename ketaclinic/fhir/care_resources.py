"""The course of care in FHIR: Appointment, Encounter (a treatment session), AdverseEvent,
CarePlan (a signed treatment plan), Consent and the AuditEvent trail."""

from __future__ import annotations

from . import codes
from .datatypes import clean, concept, day, instant, meta, number, patient_ref, ref

APPOINTMENT_STATUS = {
    "scheduled": "booked",
    "confirmed": "booked",
    "checked_in": "checked-in",
    "in_session": "arrived",
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "no_show": "noshow",
}


def appointment(obj) -> dict:
    participants = [{"actor": patient_ref(obj), "status": "accepted"}]
    if obj.staff_id:
        participants.append({"actor": ref("Practitioner", obj.staff_id), "status": "accepted"})
    return clean(
        {
            "resourceType": "Appointment",
            "id": str(obj.pk),
            "meta": meta(obj.created_at),
            "status": APPOINTMENT_STATUS.get(obj.status, "booked"),
            "appointmentType": {"text": obj.type.name},
            "description": obj.type.name,
            "start": instant(obj.starts_at),
            "end": instant(obj.ends_at),
            "minutesDuration": obj.type.minutes,
            "created": instant(obj.created_at),
            "comment": obj.notes,
            "participant": participants,
        }
    )


ENCOUNTER_STATUS = {
    "checklist": "arrived",
    "dosing": "in-progress",
    "observation": "in-progress",
    "discharged": "finished",
    "not_started": "cancelled",
    "entered-in-error": "entered-in-error",
}


def encounter(obj) -> dict:
    entry = codes.table()["encounter_class"]["ambulatory"]
    participants = [{"individual": ref("Practitioner", obj.nurse_id)}]
    if obj.prescriber_on_site_id:
        participants.append({"individual": ref("Practitioner", obj.prescriber_on_site_id)})
    return clean(
        {
            "resourceType": "Encounter",
            "id": str(obj.pk),
            "meta": meta(obj.opened_at),
            "status": ENCOUNTER_STATUS.get(obj.status, "unknown"),
            "class": {
                "system": codes.system("act_code"),
                "code": entry["code"],
                "display": entry["display"],
            },
            "type": [{"text": f"{obj.get_route_display_name()} treatment session"}],
            "subject": patient_ref(obj),
            "participant": participants,
            "appointment": [ref("Appointment", obj.appointment_id)] if obj.appointment_id else [],
            "period": {"start": instant(obj.opened_at), "end": instant(obj.discharged_at)},
            "basedOn": [ref("CarePlan", obj.plan_id)],
        }
    )


def adverse_event(obj) -> dict:
    table = codes.table()["adverse_event"]
    entry = table["serious"] if obj.serious else table["non_serious"]
    return clean(
        {
            "resourceType": "AdverseEvent",
            "id": str(obj.pk),
            "meta": meta(obj.recorded_at),
            "actuality": "actual",
            "event": {"text": obj.description},
            "subject": ref("Patient", obj.session.patient_id),
            "encounter": ref("Encounter", obj.session_id),
            "date": instant(obj.at),
            "recordedDate": instant(obj.recorded_at),
            "recorder": ref("Practitioner", obj.recorded_by_id) if obj.recorded_by_id else None,
            "seriousness": concept("adverse_event_seriousness", entry["code"], entry["display"]),
        }
    )


PLAN_STATUS = {
    "active": "active",
    "completed": "completed",
    "stopped": "revoked",
    "entered-in-error": "entered-in-error",
    "draft": "draft",
}


def care_plan(obj) -> dict:
    activities = [
        {
            "detail": {
                "kind": "Appointment",
                "code": {"text": f"Treatment session {planned.number} ({planned.phase})"},
                "status": "scheduled",
                "scheduledString": planned.date.isoformat(),
                "description": f"Session {planned.number}, {planned.phase}, on {planned.date}",
            }
        }
        for planned in obj.planned_sessions.all()
    ]
    dose = f"{number(obj.dose_mg)} mg"
    if obj.rate_mg_per_min:
        dose += f" at {number(obj.rate_mg_per_min)} mg/min"
    return clean(
        {
            "resourceType": "CarePlan",
            "id": str(obj.pk),
            "meta": meta(obj.signed_at or obj.created_at),
            "status": PLAN_STATUS.get(obj.status, "unknown"),
            "intent": "plan",
            "title": f"{obj.protocol.name} treatment plan",
            "description": f"{obj.protocol.name}: {dose} per session ({obj.route}).",
            "subject": patient_ref(obj),
            "period": {"start": day(obj.start_date), "end": instant(obj.ended_at)},
            "created": instant(obj.created_at),
            "author": ref("Practitioner", obj.signed_by_id) if obj.signed_by_id else None,
            "activity": activities,
            "note": [{"text": obj.psychotherapy_plan}] if obj.psychotherapy_plan else [],
        }
    )


def consent(obj) -> dict:
    entry = codes.table()["consent"]["treatment"]
    return clean(
        {
            "resourceType": "Consent",
            "id": str(obj.pk),
            "meta": meta(obj.withdrawn_at or obj.signed_at),
            "status": "inactive" if obj.withdrawn_at else "active",
            "scope": concept("consent_scope", entry["code"], entry["display"]),
            "category": [{"text": obj.document_title}],
            "patient": patient_ref(obj),
            "dateTime": instant(obj.signed_at),
            "policyRule": {
                "text": f"{obj.document_title}, version {obj.document_version} "
                f"(text SHA-256 {obj.text_sha256})"
            },
            "sourceAttachment": {"title": f"{obj.document_title} v{obj.document_version}"},
        }
    )


def audit_event(obj) -> dict:
    agent = {"requestor": True, "name": obj.actor_username or "anonymous"}
    if obj.actor_id:
        agent["who"] = {"display": obj.actor_username}
    if obj.actor_role:
        agent["role"] = [{"text": obj.actor_role}]
    entity = []
    if obj.patient_id:
        entity.append({"what": ref("Patient", obj.patient_id)})
    if obj.object_type:
        entity.append({"name": f"{obj.object_type} {obj.object_id}".strip()})
    return clean(
        {
            "resourceType": "AuditEvent",
            "id": str(obj.pk),
            "meta": meta(obj.at),
            "type": {"system": codes.system("audit_action"), "code": obj.action},
            "recorded": instant(obj.at),
            "outcome": "0" if obj.outcome == "success" else "4",
            "outcomeDesc": obj.outcome,
            "agent": [agent],
            "source": {"observer": {"display": "ketaclinic"}},
            "entity": entity,
        }
    )
