"""Matches come back over the real broker: the latest run of each application is shown to its owner alone, late
or repeated runs change nothing, and runs the service cannot place are ignored or dead-lettered."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from cx_contracts.codec import event_headers, event_key, event_value, headers_as_text
from cx_contracts.examples import application_payload, match_found
from cx_contracts.topics import MATCH_FOUND
from cx_kit.kafka import DLQ_ERROR_TYPE
from cx_kit.service_testing import topic_record_count
from cx_kit.testing import headers_of, read_topic, wait_until

pytestmark = pytest.mark.integration


async def _publish(broker, service, event, *, partition: int | None = None, key: bytes | None = None) -> None:
    await broker.publish(
        event_value(event),
        topic=service.settings.topic(MATCH_FOUND),
        key=key or event_key(event),
        headers=headers_as_text(event_headers(event)),
        partition=partition,
    )


async def _matches(service, created) -> dict:
    response = await service.client.get(
        f"/api/applications/{created['application_id']}/matches", headers=created["owner"]
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _shows_run(service, created, run_id) -> bool:
    return (await _matches(service, created)).get("match_run_id") == str(run_id)


async def test_the_owner_sees_pending_then_the_latest_run_with_ranks_scores_and_explanations(
    applications, submit, match_publisher
):
    created = await submit(0)
    assert (await _matches(applications, created)) == {
        "application_id": created["application_id"],
        "status": "pending",
        "match_run_id": None,
        "trigger": None,
        "application_revision": None,
        "model_version": None,
        "computed_at": None,
        "matches": [],
    }
    run = match_found(application_id=UUID(created["application_id"]))
    await _publish(match_publisher, applications, run)
    await wait_until(lambda: _shows_run(applications, created, run.match_run_id), message="the run shown")

    shown = await _matches(applications, created)
    assert shown["status"] == "matched" and shown["trigger"] == "new-application"
    assert shown["application_revision"] == 1 and shown["model_version"] == run.model_version
    assert shown["computed_at"].startswith(run.occurred_at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert shown["matches"] == [
        {"host_id": str(m.host_id), "rank": m.rank, "score": m.score, "explanation": m.explanation} for m in run.matches
    ]


async def test_another_organisation_cannot_read_an_applications_matches(applications, submit, match_publisher):
    mine = await submit(0)
    theirs = await submit(1)
    run = match_found(application_id=UUID(mine["application_id"]))
    await _publish(match_publisher, applications, run)
    await wait_until(lambda: _shows_run(applications, mine, run.match_run_id), message="matches to protect")

    path = f"/api/applications/{mine['application_id']}"
    intruder = theirs["owner"]
    for response in (
        await applications.client.get(path, headers=intruder),
        await applications.client.get(f"{path}/matches", headers=intruder),
    ):
        assert response.status_code == 404
        assert "contact" not in response.text and application_payload(0)["contact"]["name"] not in response.text
        assert str(run.match_run_id) not in response.text


@pytest.mark.parametrize(
    ("older_revision", "older_by"),
    [(2, timedelta(minutes=-5)), (1, timedelta(minutes=5))],
    ids=["same-revision-earlier", "older-revision-later"],
)
async def test_an_older_run_arriving_late_and_a_repeated_run_change_nothing(
    applications, submit, match_publisher, older_revision, older_by
):
    created = await submit(1)
    application_id = UUID(created["application_id"])
    newer = match_found(application_id=application_id, trigger="revised-application", revision=2)
    # Older: the same revision's run from before, or an older revision's run published after (a replica that
    # just lost the application's partition).
    older = match_found(application_id=application_id, revision=older_revision).model_copy(
        update={"occurred_at": newer.occurred_at + older_by}
    )
    await _publish(match_publisher, applications, newer)
    await wait_until(lambda: _shows_run(applications, created, newer.match_run_id), message="the newer run")
    stored = await applications.app.state.matches.latest(str(application_id))

    await _publish(match_publisher, applications, older)
    await _publish(match_publisher, applications, newer)  # a redelivery
    # A marker behind them on the same partition (same key), which the service dead-letters because its key
    # is not its application's: once it is on the dead-letter topic, the two runs before it were handled.
    marker = match_found(application_id=uuid4())
    await _publish(match_publisher, applications, marker, key=event_key(newer))
    await read_topic(
        applications.settings.kafka_bootstrap_servers,
        applications.settings.topic(MATCH_FOUND) + ".dlq",
        until=lambda r: len(r) >= 1,
    )

    assert await applications.app.state.matches.latest(str(application_id)) == stored
    assert (await _matches(applications, created))["match_run_id"] == str(newer.match_run_id)


async def test_a_run_for_an_unknown_application_is_ignored_not_dead_lettered_and_the_next_run_is_kept(
    applications, submit, match_publisher
):
    created = await submit(2)
    unknown = match_found(application_id=uuid4())
    known = match_found(application_id=UUID(created["application_id"]))
    # One partition for both, so the known run is handled after the unknown one.
    await _publish(match_publisher, applications, unknown, partition=0)
    await _publish(match_publisher, applications, known, partition=0)
    await wait_until(lambda: _shows_run(applications, created, known.match_run_id), message="the known run")

    assert await applications.app.state.matches.latest(str(unknown.application_id)) is None
    dead_letters = applications.settings.topic(MATCH_FOUND) + ".dlq"
    assert await topic_record_count(applications.settings.kafka_bootstrap_servers, dead_letters) == 0


async def test_a_record_that_breaks_the_contract_is_dead_lettered_and_the_next_run_is_kept(
    applications, submit, match_publisher
):
    created = await submit(0)
    topic = applications.settings.topic(MATCH_FOUND)
    await match_publisher.publish(
        b'{"event_type": "match-found", "matches": "many"}',
        topic=topic,
        key=created["application_id"].encode(),
        partition=1,
    )
    good = match_found(application_id=UUID(created["application_id"]))
    await _publish(match_publisher, applications, good, partition=1)
    await wait_until(lambda: _shows_run(applications, created, good.match_run_id), message="the good run")

    [dead] = await read_topic(
        applications.settings.kafka_bootstrap_servers, topic + ".dlq", until=lambda r: len(r) >= 1
    )
    assert dead.value == b'{"event_type": "match-found", "matches": "many"}'
    assert "ValidationError" in headers_of(dead)[DLQ_ERROR_TYPE]
