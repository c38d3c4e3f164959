"""Re-matching: a new or revised host is published to an application only when it enters its list."""

from __future__ import annotations

from typing import Any

import pytest

from cx_contracts import examples
from cx_contracts.events import HostAnswersSubmitted
from cx_kit.testing import wait_until

pytestmark = pytest.mark.integration

FARM_DATA_EXPERTISE = (
    "We built a farm data-sharing platform for dairy farmers and vegetable growers. Visitors learn how we "
    "convinced farmers to share their data, how the platform is governed by its members, and how we pair "
    "agri-tech start-ups with farms for pilots."
)


def new_host(
    *, country: str, expertise: str, revision: int = 1, host_id: Any = None, **answers: Any
) -> HostAnswersSubmitted:
    event = examples.host_answers_submitted(0, host_id=host_id, revision=revision, expertise=expertise, **answers)
    return event.model_copy(update={"organisation": examples.host_organisation(0, country=country)})


def farm_data_host(**answers: Any) -> HostAnswersSubmitted:
    """Close to the food visitor's goals, in a country it prefers; its 5-day limit rules out the 10-day
    automotive visit and its April-June availability the medical visitor's February-March window."""
    values: dict[str, Any] = {
        "expertise": FARM_DATA_EXPERTISE,
        "languages": ["nl", "en"],
        "formats": ["physical"],
        "max_days": 5,
        "availability": [{"start": "2027-04-05", "end": "2027-06-25"}],
    }
    return new_host(country="NL", **{**values, **answers})


async def settled(app: Any, host_records: int) -> bool:
    """The host topic is read up to `host_records` records and the re-matching of the last batch is done."""
    # The reader notes its positions once the handler is done with a batch, re-matching included.
    return sum(app.state.matcher.reader.status.positions.values()) >= host_records


async def test_a_new_host_is_published_only_to_the_applications_whose_list_it_enters(
    namespace, matcher_settings, run_matcher
) -> None:
    await namespace.publish(*(examples.host_answers_submitted(i) for i in range(5)))
    food = examples.visitor_answers_submitted(0)  # BG, farm data sharing, 5 days, mid-March to May
    cars = examples.visitor_answers_submitted(1)  # SI, automotive suppliers, 10 days
    health = examples.visitor_answers_submitted(2)  # UA, medical devices, February-March
    async with run_matcher(matcher_settings(top_n=2)) as app:
        await namespace.publish(food, cars, health)
        initial = await namespace.match_found(count=3)
        assert {run.trigger for run in initial} == {"new-application"}

        farm_data = farm_data_host()
        # Fits every visitor's rules except the Ukrainian one's (same country), and interests none of them.
        wine_tourism = new_host(
            country="UA",
            languages=["uk", "en"],
            ecosystems=["tourism", "agri_food"],
            topics=["internationalisation"],
            activities=["meetings"],
            formats=["physical", "virtual"],
            availability=[],
            max_days=22,
            keywords=["wine"],
            expertise="Our wine route association markets family wineries to foreign tourists and runs tasting "
            "events in the Odesa region; visitors see how we price joint tourism packages.",
        )
        await namespace.publish(farm_data, wine_tourism)
        await wait_until(lambda: settled(app, 7), message="the new hosts to be applied")
        # A revision of a host already in the food visitor's list enters nothing.
        revised = farm_data_host(
            expertise=FARM_DATA_EXPERTISE + " We also run a data cooperative.", revision=2, host_id=farm_data.host_id
        )
        await namespace.publish(revised)
        await wait_until(lambda: settled(app, 8), message="the revised host to be applied")

    runs = await namespace.all_match_found()
    new_host_runs = [run for run in runs if run.trigger == "new-host"]
    assert [run.application_id for run in new_host_runs] == [food.application_id]
    (rematch,) = new_host_runs
    assert farm_data.host_id in {m.host_id for m in rematch.matches}
    assert rematch.revision == food.revision
    assert len(rematch.matches) == 2
    assert wine_tourism.host_id not in {m.host_id for run in runs for m in run.matches}
    assert len(runs) == 4


async def test_a_replica_taking_over_applications_publishes_hosts_that_arrived_while_nobody_watched(
    namespace, matcher_settings, run_matcher
) -> None:
    await namespace.publish(*(examples.host_answers_submitted(i) for i in range(5)))
    food = examples.visitor_answers_submitted(0)
    settings = matcher_settings(top_n=2)
    async with run_matcher(settings):
        await namespace.publish(food)
        await namespace.match_found(count=1)
    farm_data = new_host(country="NL", expertise=FARM_DATA_EXPERTISE, formats=["physical"], max_days=5)
    await namespace.publish(farm_data)  # no matcher running
    async with run_matcher(settings):
        (rematch,) = await namespace.match_found(count=1, where=lambda e: e.trigger == "new-host")
    assert rematch.application_id == food.application_id
    assert farm_data.host_id in {m.host_id for m in rematch.matches}


async def test_a_new_host_whose_match_found_publish_failed_once_is_published_again(
    namespace, matcher_settings, run_matcher, monkeypatch, fail_once
) -> None:
    await namespace.publish(*(examples.host_answers_submitted(i) for i in range(5)))
    food = examples.visitor_answers_submitted(0)
    # The checkpoint is minutes away: the failed re-match is tried again long before it.
    async with run_matcher(matcher_settings(top_n=2, snapshot_interval_s=300.0)) as app:
        await namespace.publish(food)
        await namespace.match_found(count=1)
        publisher = app.state.matcher.publisher
        publish, calls = fail_once(publisher.publish)
        monkeypatch.setattr(publisher, "publish", publish)
        farm_data = farm_data_host()
        await namespace.publish(farm_data)
        (rematch,) = await namespace.match_found(count=1, where=lambda e: e.trigger == "new-host", timeout=30)
        assert len(calls) >= 2
    assert rematch.application_id == food.application_id
    assert farm_data.host_id in {m.host_id for m in rematch.matches}
