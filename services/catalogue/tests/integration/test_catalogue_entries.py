"""A host's catalogue entry as an owned record: the kit's suite run on the catalogue, and what only the
catalogue does (a public view anyone reads, the catalogue query)."""

from __future__ import annotations

from typing import Any

import pytest

from cx_contracts.events import HostAnswersSubmitted, HostAnswersWithdrawn
from cx_contracts.examples import host_entry_payload
from cx_contracts.questionnaire import HostAnswers
from cx_kit.aggregate_suite import OwnedAggregateSuite, SharedRecord, problem_of
from cx_kit.service_testing import INJECTION, SCRIPT, HostileInput, RunningService

from cx_catalogue.adapters.hosts import HOSTS
from cx_catalogue.app import create_app
from cx_catalogue.settings import Settings

pytestmark = pytest.mark.integration

HOST_ANSWER_INPUTS = [
    HostileInput("expertise-too-short", "answers.expertise", "We are nice.", "answers.expertise"),
    HostileInput("expertise-too-long", "answers.expertise", "x" * 4001, "answers.expertise"),
    HostileInput("expertise-nul", "answers.expertise", "A" * 60 + "\x00", "answers.expertise"),
    HostileInput("expertise-number", "answers.expertise", 42, "answers.expertise"),
    HostileInput("expertise-injection", "answers.expertise", INJECTION, "answers.expertise"),
    HostileInput(
        "availability-reversed",
        "answers.availability",
        [{"start": "2027-06-30", "end": "2027-03-01"}],
        "answers.availability[0]",
    ),
    HostileInput(
        "availability-impossible-date",
        "answers.availability",
        [{"start": "2027-02-30", "end": "2027-03-30"}],
        "answers.availability[0].start",
    ),
    HostileInput(
        "availability-too-short",
        "answers.availability",
        [{"start": "2027-03-06", "end": "2027-03-08"}],
        "answers.availability",
    ),
    HostileInput(
        "availability-last-century",
        "answers.availability",
        [{"start": "1999-03-01", "end": "1999-04-01"}],
        "answers.availability[0].start",
    ),
    HostileInput(
        "availability-unknown-field",
        "answers.availability",
        [{"start": "2027-03-01", "end": "2027-04-01", "note": "x"}],
        "answers.availability[0].note",
    ),
    HostileInput("max-days-too-few", "answers.max_days", 2, "answers.max_days"),
    HostileInput("max-days-too-many", "answers.max_days", 23, "answers.max_days"),
    HostileInput("max-days-string", "answers.max_days", "10", "answers.max_days"),
    HostileInput("max-days-fraction", "answers.max_days", 10.5, "answers.max_days"),
    HostileInput("capacity-zero", "answers.capacity", 0, "answers.capacity"),
    HostileInput("capacity-boolean", "answers.capacity", True, "answers.capacity"),
    HostileInput("capacity-huge", "answers.capacity", 10**30, "answers.capacity"),
    HostileInput("visitor-field-in-host-answers", "answers.goals", "x" * 50, "answers.goals"),
]

QUERY_INPUTS: list[tuple[str, dict[str, Any] | str, str]] = [
    ("ecosystem-unknown", {"ecosystem": "space"}, "ecosystem[0]"),
    ("ecosystem-injection", {"ecosystem": '{"$gt": ""}'}, "ecosystem[0]"),
    ("country-lower-case", {"country": "de"}, "country[0]"),
    ("country-not-eligible", {"country": "US"}, "country[0]"),
    ("country-operator-key", "country[$ne]=DE", "country[$ne]"),
    ("language-upper-case", {"language": "EN"}, "language[0]"),
    ("format-unknown", {"format": "hybrid"}, "format[0]"),
    ("topic-script", {"topic": SCRIPT}, "topic[0]"),
    ("page-zero", {"page": 0}, "page"),
    ("page-negative", {"page": -1}, "page"),
    ("page-text", {"page": "abc"}, "page"),
    ("page-beyond-limit", {"page": 10001}, "page"),
    ("page-size-over-100", {"page_size": 101}, "page_size"),
    ("page-size-zero", {"page_size": 0}, "page_size"),
    ("q-too-long", {"q": "word " * 41}, "q"),
    ("q-nul-byte", {"q": "lab\x00"}, "q"),
    ("q-line-break", {"q": "living\nlab"}, "q"),
    ("q-too-many-words", {"q": " ".join(f"w{i}" for i in range(11))}, "q"),
    ("unknown-sort-parameter", {"sort": "name"}, "sort"),
    ("unknown-where-parameter", {"$where": "sleep(1000)"}, "$where"),
]


class TestCatalogueEntries(OwnedAggregateSuite):
    """The catalogue's entries: public records, read by anyone without their contact."""

    settings_type = Settings
    package = "cx_catalogue"
    collection = HOSTS
    path = "/api/catalogue/hosts"
    list_path = "/api/catalogue/entries"
    contacts_path = "/internal/contacts/hosts"
    id_field = "host_id"
    public_read = True
    contact_kind = "host"
    submitted_event = HostAnswersSubmitted
    withdrawn_event = HostAnswersWithdrawn
    answers_model = HostAnswers
    answer_inputs = HOST_ANSWER_INPUTS
    free_text_field = "expertise"
    public_reads = ("/api/catalogue/hosts",)

    def create_app(self, settings: Any) -> Any:
        return create_app(settings)

    def payload(self, index: int = 0, **overrides: Any) -> dict[str, Any]:
        return host_entry_payload(index, **overrides)

    async def test_a_withdrawn_record_is_gone_for_everyone(self, service: RunningService) -> None:
        await super().test_a_withdrawn_record_is_gone_for_everyone(service)
        assert (await service.client.get("/api/catalogue/hosts")).json()["total"] == 0, "and from the catalogue"

    async def test_anyone_reads_the_public_entry_and_the_owner_its_own_view_with_the_contact(
        self, service: RunningService
    ) -> None:
        created = await self.create(service.client, 1)
        path = self.record_path(created["host_id"])
        public = await service.client.get(path)
        owned = await service.client.get(path, headers=self.owner(1))
        assert public.status_code == owned.status_code == 200
        assert public.headers["etag"] == owned.headers["etag"] == '"1"'
        assert "contact" not in public.json()
        assert owned.json()["contact"] == host_entry_payload(1)["contact"]
        assert public.json()["answers"] == owned.json()["answers"] == host_entry_payload(1)["answers"]

    async def test_the_public_entry_may_be_cached_but_varies_by_caller(self, service: RunningService) -> None:
        created = await self.create(service.client, 0)
        public = await service.client.get(self.record_path(created["host_id"]))
        assert "cache-control" not in public.headers and public.headers["vary"] == "Authorization"

    @pytest.mark.parametrize(("label", "params", "field"), QUERY_INPUTS, ids=[c[0] for c in QUERY_INPUTS])
    async def test_a_broken_catalogue_query_is_refused_naming_the_parameter(
        self, shared: SharedRecord, label: str, params: dict[str, Any] | str, field: str
    ) -> None:
        client = shared.service.client
        if isinstance(params, str):
            response = await client.get(f"/api/catalogue/hosts?{params}")
        else:
            response = await client.get("/api/catalogue/hosts", params=params)
        problem_of(response, 422, field)
