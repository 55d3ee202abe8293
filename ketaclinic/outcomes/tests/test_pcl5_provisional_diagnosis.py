"""PCL-5 cluster subscores and the provisional DSM-5 diagnosis (REFERENCE.md §5)."""

from __future__ import annotations

import pytest

from ketaclinic.outcomes.scoring import score

CLUSTERS = {"B": range(1, 6), "C": range(6, 8), "D": range(8, 15), "E": range(15, 21)}


def endorse(counts: dict[str, int], value: int = 2, background: int = 1) -> list[int]:
    """Answers with ``counts[cluster]`` items at ``value`` and the rest at ``background``."""
    answers = [background] * 20
    for cluster, count in counts.items():
        for number in list(CLUSTERS[cluster])[:count]:
            answers[number - 1] = value
    return answers


def test_cluster_subscores_sum_items_1_5_6_7_8_14_15_20():
    answers = list(range(5)) * 4  # 0,1,2,3,4 repeating
    result = score("pcl5", answers)
    assert result.subscores == {
        "B": 0 + 1 + 2 + 3 + 4,
        "C": 0 + 1,
        "D": 2 + 3 + 4 + 0 + 1 + 2 + 3,
        "E": 4 + 0 + 1 + 2 + 3 + 4,
    }
    assert result.total == sum(answers) == 40


def test_the_minimum_symptom_pattern_gives_a_provisional_diagnosis():
    result = score("pcl5", endorse({"B": 1, "C": 1, "D": 2, "E": 2}, background=0))
    assert result.provisional_ptsd is True
    # Twelve points: the pattern can be met below the probable-PTSD total.
    assert (result.total, result.band) == (12, "below_threshold")


@pytest.mark.parametrize(
    "short",
    [
        {"B": 0, "C": 1, "D": 2, "E": 2},
        {"B": 1, "C": 0, "D": 2, "E": 2},
        {"B": 1, "C": 1, "D": 1, "E": 2},
        {"B": 1, "C": 1, "D": 2, "E": 1},
    ],
)
def test_one_cluster_short_means_no_provisional_diagnosis(short):
    result = score("pcl5", endorse(short, background=1))
    assert result.provisional_ptsd is False


def test_answers_of_1_do_not_count_as_endorsed_even_with_a_high_total():
    result = score("pcl5", [1] * 20)
    assert result.provisional_ptsd is False
    assert result.total == 20


def test_a_high_total_without_any_avoidance_is_not_a_provisional_diagnosis():
    answers = [4] * 20
    answers[5] = answers[6] = 1  # items 6 and 7, cluster C
    result = score("pcl5", answers)
    assert (result.total, result.band) == (74, "probable_ptsd")
    assert result.provisional_ptsd is False


def test_the_api_body_carries_the_provisional_diagnosis_for_pcl5_only():
    assert score("pcl5", [2] * 20).as_dict()["provisional_ptsd"] is True
    assert "provisional_ptsd" not in score("phq9", [2] * 9).as_dict()
