"""Instruments in FHIR: each Questionnaire, every answered QuestionnaireResponse and the
total score as an Observation with the item answers as components."""

from __future__ import annotations

from typing import Any

from . import codes
from .datatypes import clean, instant, meta, patient_ref, ref
from .observation_resources import survey_category

_INSTRUMENTS: dict[tuple, Any] = {}


def parsed_instrument(definition):
    """The parsed instrument of a definition row, once per row version per process.

    ``InstrumentDefinition.instrument`` re-serialises and hashes the JSON on every call; at
    bulk-export rates that dominated the cost of a QuestionnaireResponse.
    """
    key = (definition.pk, definition.version, definition.loaded_at)
    found = _INSTRUMENTS.get(key)
    if found is None:
        if len(_INSTRUMENTS) > 256:
            _INSTRUMENTS.clear()
        found = _INSTRUMENTS[key] = definition.instrument
    return found


def item_components(response, instrument) -> list[dict]:
    out = []
    for item, answer in zip(instrument.items, response.answers or [], strict=False):
        if answer is None:
            continue
        out.append(
            {
                "code": {"text": f"{item.number}. {item.text}"},
                "valueInteger": answer,
            }
        )
    return out


def band_label(instrument, code: str) -> str:
    return next((band.label for band in instrument.bands if band.code == code), code)


def instrument_total(obj) -> dict:
    """The instrument's total score, with each item answer as a component."""
    instrument = parsed_instrument(obj.instrument)
    known = codes.instrument(obj.instrument_id)
    if known:
        code = {"coding": [codes.loinc(known["total"])], "text": f"{instrument.name} total score"}
    else:
        code = {"text": f"{instrument.name} total score"}
    return clean(
        {
            "resourceType": "Observation",
            "id": f"score-{obj.pk}",
            "meta": meta(obj.updated_at),
            "status": "entered-in-error" if obj.status == "entered-in-error" else "final",
            "category": survey_category(),
            "code": code,
            "subject": patient_ref(obj),
            "encounter": ref("Encounter", obj.session_id) if obj.session_id else None,
            "effectiveDateTime": instant(obj.submitted_at),
            "valueInteger": obj.total,
            "interpretation": [{"text": band_label(instrument, obj.band)}] if obj.band else [],
            "derivedFrom": [ref("QuestionnaireResponse", obj.pk)],
            "component": item_components(obj, instrument),
        }
    )


def questionnaire_id(code: str) -> str:
    """FHIR ids allow letters, digits, ``-`` and ``.``: instrument codes use ``_``."""
    return code.replace("_", "-")


def questionnaire_url(code: str) -> str:
    return f"urn:ketaclinic:questionnaire:{code}"


def questionnaire(obj) -> dict:
    instrument = obj.instrument
    known = codes.instrument(obj.code)
    items = [
        {
            "linkId": str(item.number),
            "text": item.text,
            "type": "choice",
            "required": True,
            "answerOption": [
                {"valueCoding": {"code": str(option.value), "display": option.text}}
                for option in item.options
            ],
        }
        for item in instrument.items
    ]
    return clean(
        {
            "resourceType": "Questionnaire",
            "id": questionnaire_id(obj.code),
            "meta": meta(obj.loaded_at),
            "url": questionnaire_url(obj.code),
            "version": str(obj.version),
            "name": obj.code.upper(),
            "title": obj.name,
            "status": "active" if obj.status == "active" else "retired",
            "subjectType": ["Patient"],
            "copyright": instrument.licence,
            "code": [codes.loinc(known["panel"])] if known else [],
            "description": instrument.stem,
            "item": items,
        }
    )


def questionnaire_response(obj) -> dict:
    instrument = parsed_instrument(obj.instrument)
    items = []
    for item, answer in zip(instrument.items, obj.answers or [], strict=False):
        entry = {"linkId": str(item.number), "text": item.text}
        if answer is not None:
            try:
                text = item.option(answer).text
            except KeyError:
                text = ""
            coding = {"code": str(answer)}
            if text:
                coding["display"] = text
            entry["answer"] = [{"valueCoding": coding}]
        items.append(entry)
    author = (
        ref("Practitioner", obj.entered_by_id)
        if obj.entered_by_id and obj.channel != "portal"
        else patient_ref(obj)
    )
    return clean(
        {
            "resourceType": "QuestionnaireResponse",
            "id": str(obj.pk),
            "meta": meta(obj.updated_at),
            "questionnaire": f"{questionnaire_url(obj.instrument_id)}|{obj.instrument_version}",
            "status": obj.status,
            "subject": patient_ref(obj),
            "encounter": ref("Encounter", obj.session_id) if obj.session_id else None,
            "authored": instant(obj.submitted_at or obj.started_at),
            "author": author,
            "source": patient_ref(obj),
            "item": items,
        }
    )
