"""The shared printout layout: what a superbill, a packet or a form PDF is drawn with."""

from __future__ import annotations

import sys

import pytest

from ketaclinic.web.pdf import PdfUnavailable, Printout, latin1


def test_typographic_characters_print_as_their_plain_equivalents():
    assert (
        latin1("Dose – “as planned” … ≥ 0.5 and ≤ 1") == 'Dose - "as planned" ... >= 0.5 and <= 1'
    )


def test_characters_outside_latin1_become_a_question_mark_not_an_error():
    assert latin1("Ketamine 氯胺酮") == "Ketamine ???"


def test_a_printout_holds_every_line_section_table_row_and_field_as_searchable_text():
    pytest.importorskip("fpdf")
    doc = Printout(instead="Print the page.")
    doc.line("Superbill", size=16, style="B", leading=8)
    doc.gap(2)
    doc.section("Eligibility")
    doc.table([("Date", 22), ("Code", 16)], "Description", [(("2025-01-02", "90837"), "Therapy")])
    doc.field("Blood pressure before dosing", "128/82 mmHg", "From the session record")
    content = doc.output()

    assert content.startswith(b"%PDF")
    for text in (b"Superbill", b"Eligibility", b"90837", b"Therapy", b"128/82 mmHg"):
        assert text in content
    assert b"From the session record" in content


def test_a_long_printout_runs_onto_further_pages():
    pytest.importorskip("fpdf")
    doc = Printout(instead="Print the page.")
    for number in range(40):
        doc.section(f"Section {number}")
        doc.field("Observation", "Alert, oriented " * 8, "Nurse's note")

    assert doc.pdf.page_no() > 1


def test_without_fpdf2_the_printout_says_which_package_is_missing_and_what_to_do(monkeypatch):
    monkeypatch.setitem(sys.modules, "fpdf", None)  # import fpdf now raises ImportError

    with pytest.raises(PdfUnavailable) as raised:
        Printout(instead="Use Print on the superbill page instead.")

    assert "fpdf2" in str(raised.value)
    assert str(raised.value).endswith("Use Print on the superbill page instead.")
