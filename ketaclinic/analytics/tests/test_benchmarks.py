"""The shipped benchmarks restate REFERENCE.md §7, every figure with its source."""

from __future__ import annotations

import pytest
import yaml

from ketaclinic.analytics.benchmarks import (
    BENCHMARKS_PATH,
    benchmarks_for,
    load_benchmarks,
    shipped_benchmarks,
)


def by_code(code):
    (benchmark,) = [b for b in shipped_benchmarks() if b.code == code]
    return benchmark


def published(code, source):
    (claim,) = [c for c in by_code(code).published if c.source.startswith(source)]
    return claim


def test_every_row_of_the_reference_table_ships():
    assert [b.code for b in shipped_benchmarks()] == [
        "trd_iv_single",
        "trd_iv_series",
        "esketamine_trd",
        "suicidal_ideation",
        "ptsd",
        "anxiety",
        "ocd",
        "bipolar_depression",
        "chronic_pain",
        "durability",
    ]


def test_every_claim_names_its_source_and_keeps_the_reference_text():
    for benchmark in shipped_benchmarks():
        for claim in benchmark.seed_claims + benchmark.published:
            assert claim.source
            assert claim.text


def test_the_real_world_series_figures_are_numbers():
    mcinnes = published("trd_iv_series", "McInnes et al., 2022")
    assert mcinnes.n == 537
    figures = {(f.measure, f.instrument): f.pct for f in mcinnes.figures}
    assert figures == {
        ("response", "phq9"): 53.6,
        ("remission", "phq9"): 28.9,
        ("worse", "phq9"): 8.4,
    }


def test_the_cochrane_single_infusion_figures_keep_their_comparator():
    figures = published("trd_iv_single", "Dean et al., 2021, Cochrane").figures
    assert [(f.measure, f.pct, f.comparator, f.comparator_pct) for f in figures] == [
        ("response", 46.5, "midazolam", 25.9),
        ("remission", 32.7, "midazolam", 18.0),
    ]


def test_seed_ranges_are_kept_as_ranges():
    (seed_000, seed_004) = by_code("trd_iv_single").seed_claims
    assert (seed_000.figures[0].low_pct, seed_000.figures[0].high_pct) == (60, 70)
    assert seed_000.figures[1].approximate is True
    assert (seed_004.source, seed_004.figures[0].low_pct) == (
        "'Ketamine Therapy for Depression' (LifeMD)",
        50,
    )
    assert by_code("suicidal_ideation").seed_claims[0].figures[0].high_pct is None  # "75%+"


def test_chronic_pain_ships_no_published_figure_because_none_was_verified():
    assert by_code("chronic_pain").published == ()


def test_durability_figures_are_there_for_the_survival_curve():
    figures = published("durability", "McInnes et al., 2022").figures
    assert [(f.timepoint, f.pct) for f in figures] == [("4 weeks", 80), ("8 weeks", 60)]


def test_benchmarks_are_found_by_indication_and_route():
    assert [b.code for b in benchmarks_for("trd", "esketamine")] == ["esketamine_trd"]
    assert [b.code for b in benchmarks_for("trd", "iv")] == ["trd_iv_single", "trd_iv_series"]
    assert [b.code for b in benchmarks_for("ptsd", "iv")] == ["ptsd"]


def _write(tmp_path, mutate):
    document = yaml.safe_load(BENCHMARKS_PATH.read_text(encoding="utf-8"))
    mutate(document["benchmarks"][0])
    path = tmp_path / "benchmarks.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b["published"][0]["figures"][0].update(pct=146.5), "not a percentage"),
        (lambda b: b["published"][0].update(source=" "), "source"),
        (lambda b: b["published"][0]["figures"][0].update(measure="cure"), "unknown measure"),
        (lambda b: b["published"][0]["figures"][0].update(low_pct=40), "not both"),
        (lambda b: b["published"][0].update(sorce="x"), "malformed"),
    ],
)
def test_a_malformed_benchmark_file_is_refused(tmp_path, mutate, message):
    with pytest.raises(ValueError, match=message):
        load_benchmarks(_write(tmp_path, mutate))
