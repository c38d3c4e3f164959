"""Bookings on the real broker: an accepted exchange takes up its host's capacity for its dates, so the host leaves
the lists of the applications whose window it no longer fits, and enters them again once the exchange is
withdrawn."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from cx_contracts import examples
from cx_contracts.events import ExchangeAccepted, ExchangeWithdrawn, MatchFound
from cx_contracts.topics import EXCHANGE_EVENTS
from cx_kit.testing import wait_until

pytestmark = pytest.mark.integration

CAPACITY = 3
EXCHANGE_DATES = {"start": "2027-03-01", "end": "2027-03-05"}  # Monday to Friday


def listed(run: MatchFound, host_id: UUID) -> bool:
    return host_id in {match.host_id for match in run.matches}


def visitor(window: dict[str, str]) -> Any:
    return examples.visitor_answers_submitted(0, days=5, participants=2, travel_window=window)


async def test_a_host_at_capacity_for_the_dates_is_proposed_again_once_the_exchange_is_withdrawn(
    namespace, matcher_settings, run_matcher
) -> None:
    host = examples.host_answers_submitted(0, capacity=CAPACITY, availability=[])
    await namespace.publish(host, *(examples.host_answers_submitted(i) for i in range(1, 5)))
    overlapping = visitor(EXCHANGE_DATES)
    later = visitor({"start": "2027-04-05", "end": "2027-04-30"})
    accepted = examples.exchange_step(
        ExchangeAccepted, revision=2, host_id=host.host_id, participants=CAPACITY, dates=EXCHANGE_DATES
    )
    async with run_matcher(matcher_settings(top_n=5)) as app:
        await namespace.publish(overlapping, later)
        first = await namespace.match_found(count=2)
        assert all(listed(run, host.host_id) for run in first)

        # A record that breaks the contract is dead-lettered; the next one is applied.
        await namespace.publish_raw(EXCHANGE_EVENTS, b'{"event_type": "exchange-accepted"}', key=b"broken-exchange")
        await namespace.publish(accepted)
        (full,) = await namespace.match_found(
            count=1, where=lambda run: run.application_id == overlapping.application_id and run.trigger == "new-host"
        )
        assert not listed(full, host.host_id)
        assert full.revision == overlapping.revision

        withdrawn = examples.exchange_step(
            ExchangeWithdrawn,
            exchange_id=accepted.exchange_id,
            revision=3,
            host_id=host.host_id,
            participants=CAPACITY,
            dates=EXCHANGE_DATES,
            application_id=accepted.application_id,
        )
        await namespace.publish(withdrawn)
        (again,) = await namespace.match_found(
            count=1,
            where=lambda run: (
                run.application_id == overlapping.application_id
                and run.trigger == "new-host"
                and listed(run, host.host_id)
            ),
        )
        assert again.match_run_id != full.match_run_id
        assert app.state.matcher.exchanges.decoder.dead_lettered == 1

        async def kept() -> bool:
            held = app.state.matcher.matching.applications.get(overlapping.application_id)
            return held is not None and host.host_id in {entry.host_id for entry in held.matches}

        # Stopping while the run is being stored would publish it again at start (the same run id).
        await wait_until(kept, message="the run to be stored and kept")

    runs = await namespace.all_match_found()
    # The application whose window the exchange does not touch was never told anything new.
    assert [run.trigger for run in runs if run.application_id == later.application_id] == ["new-application"]
    assert len({run.match_run_id for run in runs if run.application_id == overlapping.application_id}) == 3
    dead = await namespace.read_all(EXCHANGE_EVENTS + ".dlq")
    assert [record.key for record in dead] == [b"broken-exchange"]


async def test_a_restarted_matcher_reads_the_bookings_from_the_start_of_the_exchange_topic(
    namespace, matcher_settings, run_matcher
) -> None:
    host = examples.host_answers_submitted(0, capacity=CAPACITY, availability=[])
    await namespace.publish(host, *(examples.host_answers_submitted(i) for i in range(1, 5)))
    settings = matcher_settings(top_n=5)
    accepted = examples.exchange_step(
        ExchangeAccepted, revision=2, host_id=host.host_id, participants=CAPACITY, dates=EXCHANGE_DATES
    )
    await namespace.publish(accepted)  # before any matcher runs
    async with run_matcher(settings) as app:
        assert len(app.state.matcher.matching.bookings) == 1
        overlapping = visitor(EXCHANGE_DATES)
        later = visitor({"start": "2027-04-05", "end": "2027-04-30"})
        await namespace.publish(overlapping, later)
        runs = {run.application_id: run for run in await namespace.match_found(count=2)}
    assert not listed(runs[overlapping.application_id], host.host_id)
    assert listed(runs[later.application_id], host.host_id)
