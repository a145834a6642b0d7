"""The shared vocabulary and what texts mean: known answers, no database."""

from __future__ import annotations

import datetime as dt

from bot.insights import meaning, vocabulary
from bot.insights.similar import ideas_needed
from storage.models import Case


def _case(**fields: object) -> Case:
    return Case(tenant_id=1, number=1, **fields)  # type: ignore[arg-type]


def test_abbreviations_regions_and_stems() -> None:
    written_out = "azure active directory authentication via google kubernetes engine load balancer"
    assert vocabulary.tokens("AAD auth via GKE LB") == written_out.split(" ")
    # asia-northeast1, ap-northeast-1, Japan East and Tokyo are one place.
    for text in ("pods pending in asia-northeast1", "EC2 in ap-northeast-1", "VMs in Japan East", "tokyo"):
        assert [c.key for c in vocabulary.concepts(text, "region")] == ["region:Tokyo"], text
    assert vocabulary.stem("failing") == vocabulary.stem("failures") == "fail"


def test_symptoms_grouped_by_meaning() -> None:
    def keys(text: str) -> list[str]:
        return [c.key for c in vocabulary.concepts(text, "symptom")]

    assert keys("HTTP 500-level response codes") == ["5xx"]
    assert keys("502s from checkout") == ["5xx"]
    assert keys("increased latency") == keys("elevated latency") == keys("slow responses") == ["latency"]
    assert keys("network drop") == ["packet-loss"]
    assert vocabulary.free_key("Pool wait time alerts") == "pool wait time alert"
    assert vocabulary.free_key(" ".join(["word"] * 9)) is None  # a sentence is not a group of its own


def test_query_ideas_and_the_floor() -> None:
    ideas = vocabulary.idea_groups("aad auth failing in asia")
    assert [i.word for i in ideas] == ["aad", "auth", "failing", "asia"]
    assert [i.generic for i in ideas] == [False, False, True, False]
    assert "tokyo" in ideas[3].phrases and "singapore" in ideas[3].phrases
    text = vocabulary.Text.of(vocabulary.content_stems("Azure Active Directory sign-in errors in Japan East"))
    assert [vocabulary.mentions(i, text) for i in ideas] == [True, True, True, False]
    assert (ideas_needed(1), ideas_needed(4), ideas_needed(6), ideas_needed(20)) == (1, 2, 2, 4)


def test_non_causes_detection_and_costs() -> None:
    assert meaning.is_non_cause("At this stage engineers do not have a definitive root cause.")
    assert meaning.is_non_cause("Engineers are investigating the full root cause.")
    assert meaning.is_non_cause("unknown")
    assert not meaning.is_non_cause("Expired TLS certificate on the edge load balancer")
    assert meaning.is_detection_text("Detected by automated means (monitoring)")
    assert not meaning.is_detection_text("502s from checkout")
    assert meaning.cost_minutes("20 min purging caches") == 20
    assert meaning.cost_minutes("1.5 hours") == 90
    assert meaning.cost_minutes("2 d") == 2880
    assert meaning.cost_minutes("a while") is None
    assert meaning.cost_minutes(None) is None


def test_detection_method_of_a_case() -> None:
    imported = _case(extra={"detection": {"method": "automate", "tool": ["monitoring"]}})
    assert meaning.detection_method(imported) == "alert"
    told = _case(symptoms=["Customers reported failed payments", "Pool wait time alerts"])
    assert meaning.detection_method(told) == "customer"  # a customer report outranks the alert
    assert meaning.detection_method(_case(symptoms=["Stale reads"])) == "not recorded"


def test_change_triggered_and_causes() -> None:
    started = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    assert meaning.change_triggered(_case(area="deploy", started_at=started))
    assert meaning.change_triggered(
        _case(area="network", contributing_factors=["Triggering operation: rollout"])
    )
    assert meaning.change_triggered(_case(area="network", root_cause="DNS zone misconfigured"))
    assert not meaning.change_triggered(
        _case(
            area="network", contributing_factors=["Triggering operation: maintenance"], root_cause="Fiber cut"
        )
    )
    labelled = _case(extra={"root_cause_labels": ["internal causes / software bugs / config"]})
    assert meaning.cause_keys(labelled) == [("cause:config-change", "configuration change")]
    assert meaning.cause_keys(_case(root_cause="Engineers are investigating the full root cause.")) == []
