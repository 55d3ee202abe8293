"""The vocabulary for forms, and the record-sensitive codes for re-screening triggers."""

from __future__ import annotations

from ketaclinic.screening import rules


def test_forms_list_only_reportable_findings_with_their_text():
    entries = rules.vocabulary_entries(include_computed=False)
    assert [entry.code for entry in entries] == list(rules.reportable_codes())
    assert all(not entry.is_computed for entry in entries)
    assert entries[0].code == "pregnant"
    assert entries[0].finding == "pregnancy"


def test_the_full_vocabulary_includes_computed_findings():
    assert len(rules.vocabulary_entries()) == 36


def test_pregnancy_psychosis_and_sedatives_are_record_sensitive():
    sensitive = rules.record_sensitive_codes()
    assert {"pregnant", "breastfeeding", "psychosis_history", "cns_depressants"} <= sensitive


def test_findings_measured_at_the_visit_or_fixed_by_age_are_not_record_sensitive():
    sensitive = rules.record_sensitive_codes()
    assert not sensitive & {"minor", "bp_too_high_today", "elevated_bp_today"}
    assert "older_adult_esketamine" not in sensitive


def test_a_medication_change_re_screens_the_medication_findings():
    assert rules.record_sensitive_codes("medications") == {
        "cns_depressants",
        "stimulants_or_maoi",
        "oral_antidepressant_required",
    }
    assert rules.record_sensitive_codes("pregnancy_status") == {"pregnant", "breastfeeding"}


def test_the_vocabulary_is_loaded_once():
    assert rules.vocabulary() is rules.vocabulary()


def test_severity_for_a_route_falls_back_to_the_default():
    entry = rules.vocabulary().by_code["severe_hepatic_impairment"]
    assert entry.severity_for(rules.Route.ESKETAMINE) is rules.Severity.EXCLUDE
    assert entry.severity_for(rules.Route.IV) is rules.Severity.CAUTION
