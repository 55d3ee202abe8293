"""The education library: every shipped page renders, names published sources and a
reviewer, and a clinic's own folder adds or replaces pages without code."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from ketaclinic.intake import learn

SHIPPED = learn.pages()
# A source as a reader would cite it: a year and a title/journal, or a named label/document.
CITATION = re.compile(r"(\b(19|20)\d{2}\b)|prescribing information|guideline|REMS|article")


def test_the_library_ships_pages_on_what_the_issue_asks_for():
    slugs = {page.slug for page in SHIPPED}
    assert {
        "conditions-we-treat",
        "iv-ketamine",
        "esketamine-nasal-spray",
        "what-a-session-is-like",
        "preparing-for-a-session",
        "side-effects",
        "faq",
    } <= slugs


@pytest.mark.parametrize("page", SHIPPED, ids=lambda page: page.slug)
def test_every_shipped_page_names_its_sources_as_a_reader_would(page):
    assert page.sources, page.slug
    for source in page.sources:
        assert CITATION.search(source), source
        assert not re.search(r"seed|\.txt|\.md|REFERENCE", source, re.IGNORECASE), source
    assert page.reviewed_by
    assert page.reviewed_on
    assert page.audience


@pytest.mark.parametrize("page", SHIPPED, ids=lambda page: page.slug)
def test_every_citation_mark_points_at_a_listed_source(page):
    for group in re.findall(r"\[([\d, ]+)\]", page.html):
        for number in group.split(","):
            assert 1 <= int(number) <= len(page.sources), (page.slug, number)


@pytest.mark.django_db
@pytest.mark.parametrize("page", SHIPPED, ids=lambda page: page.slug)
def test_every_shipped_page_renders_publicly_with_its_sources(page):
    response = Client().get(f"/learn/{page.slug}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert page.title in html
    assert "Sources" in html
    for source in page.sources:
        assert source.split(",")[0].replace("&", "&amp;") in html


@pytest.mark.django_db
def test_the_index_lists_every_page():
    html = Client().get("/learn/").content.decode()
    for page in SHIPPED:
        assert f"/learn/{page.slug}/" in html


@pytest.mark.django_db
def test_an_unknown_page_is_404():
    assert Client().get("/learn/no-such-page/").status_code == 404


PAGE = """---
title: {title}
audience: patients
sources: ["Example A, 2020. A journal."]
reviewed_by: Dr Example
reviewed_on: 2026-01-01
topics: [iv]
---
Hello <script>alert(1)</script> [link](javascript:alert(1)) <b onclick="x()">bold</b>

**Safe** text.
"""


@pytest.mark.django_db
def test_a_clinic_folder_adds_and_replaces_pages_by_slug(settings, tmp_path):
    (tmp_path / "faq.md").write_text(PAGE.format(title="Our own questions"))
    (tmp_path / "parking.md").write_text(PAGE.format(title="Where to park"))
    settings.LEARN_PAGES_DIR = str(tmp_path)
    by_slug = learn.pages_by_slug()
    assert by_slug["faq"].title == "Our own questions"
    assert by_slug["parking"].title == "Where to park"
    assert Client().get("/learn/parking/").status_code == 200


def test_page_html_is_sanitised(tmp_path):
    path = tmp_path / "evil.md"
    path.write_text(PAGE.format(title="Evil"))
    html = learn.load(path, path.stat().st_mtime_ns).html
    assert "<script" not in html
    assert 'href="javascript' not in html
    assert "<b " not in html  # raw HTML is shown as text, never as an element
    assert "<strong>Safe</strong>" in html


def test_a_page_without_sources_is_refused(tmp_path):
    path = tmp_path / "bare.md"
    path.write_text("---\ntitle: Bare\naudience: patients\n---\nText")
    with pytest.raises(learn.PageError, match="sources"):
        learn.load(path, path.stat().st_mtime_ns)


def test_pages_for_a_plan_finds_the_pages_about_its_route_and_indication():
    slugs = [page.slug for page in learn.pages_for(["esketamine"])]
    assert "esketamine-nasal-spray" in slugs
    assert "iv-ketamine" not in slugs
    assert learn.pages_for([]) == []
    assert "conditions-we-treat" in [page.slug for page in learn.pages_for(["ptsd"])]
