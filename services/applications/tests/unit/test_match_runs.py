"""The use case of a match run: keep the latest run of a known application, and nothing else."""

from __future__ import annotations

from uuid import UUID

import pytest

from cx_contracts.events import MatchFound
from cx_contracts.examples import application_payload, match_found
from cx_kit.aggregates import AggregateRecord
from cx_kit.service_testing import stored_record

from cx_applications.handlers import keep_latest_run

pytestmark = pytest.mark.unit


class Applications:
    def __init__(self, *records: AggregateRecord) -> None:
        self.records = {record.id: record for record in records}

    async def get(self, aggregate_id: str) -> AggregateRecord | None:
        return self.records.get(aggregate_id)


class LatestRuns:
    def __init__(self, keeps: bool = True) -> None:
        self.offered: list[MatchFound] = []
        self.keeps = keeps

    async def keep(self, event: MatchFound) -> bool:
        self.offered.append(event)
        return self.keeps


async def test_a_run_of_a_known_application_is_offered_to_the_latest_runs():
    application = stored_record(application_payload(0))
    run, latest = match_found(application_id=UUID(application.id)), LatestRuns()
    assert await keep_latest_run(run, Applications(application), latest) is True
    assert latest.offered == [run]


async def test_a_run_the_latest_runs_refuse_as_older_is_not_kept():
    application = stored_record(application_payload(0))
    run = match_found(application_id=UUID(application.id))
    assert await keep_latest_run(run, Applications(application), LatestRuns(keeps=False)) is False


async def test_a_run_of_an_unknown_or_withdrawn_application_is_ignored():
    latest = LatestRuns()
    assert await keep_latest_run(match_found(), Applications(), latest) is False
    assert latest.offered == []
