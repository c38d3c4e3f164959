"""The public catalogue on a seeded set: each filter returns exactly the expected hosts, pages add up, no contact."""

from __future__ import annotations

import pytest

from cx_contracts.examples import HOST_EXAMPLES, host_entry_payload
from cx_contracts.topics import HOST_ANSWERS
from cx_kit.service_testing import personal_data_in
from cx_kit.testing import read_topic

pytestmark = pytest.mark.integration

# The seeded hosts are cx_contracts.examples.HOST_EXAMPLES 0-4: 0 DE agri-food/digital living lab, 1 IT
# automotive suppliers, 2 LT health tech, 3 PT circular textiles (virtual only), 4 NO offshore wind.
FILTERS = [
    ({}, {0, 1, 2, 3, 4}),
    ({"ecosystem": "digital"}, {0, 2}),
    ({"ecosystem": ["health", "textile"]}, {2, 3}),
    ({"country": "DE"}, {0}),
    ({"country": ["IT", "NO"]}, {1, 4}),
    ({"language": "fr"}, {1}),
    ({"language": ["es", "ru"]}, {2, 3}),
    ({"format": "virtual"}, {0, 2, 3}),
    ({"topic": "green_transition"}, {1, 3, 4}),
    ({"topic": ["access_to_finance", "sme_services"]}, {0, 2}),
    ({"ecosystem": "digital", "format": "physical"}, {0, 2}),
    ({"ecosystem": "digital", "country": "LT"}, {2}),
    ({"ecosystem": "tourism"}, set()),
    ({"q": "living lab"}, {0}),
    ({"q": "MDR"}, {2}),
    ({"q": "mdr"}, {2}),
    ({"q": "BATTERIES"}, {1}),
    ({"q": "supplier"}, {1, 4}),
    ({"q": "supply chain"}, {4}),
    ({"q": "data"}, {0, 3}),
    ({"q": "digital", "ecosystem": "textile"}, {3}),
    ({"q": "Oldenburg"}, set()),  # the city is not in the searched text
    ({"q": ".*"}, set()),  # a pattern is searched as text
    ({"q": "(["}, set()),
    ({"q": '{"$gt": ""}'}, set()),
    ({"q": "<script>"}, set()),
]


@pytest.fixture
async def seeded(catalogue, publish) -> dict[str, int]:
    """The five example hosts, and a withdrawn sixth; returns host_id -> example index."""
    ids = {}
    for index in range(len(HOST_EXAMPLES)):
        ids[(await publish(index))["host_id"]] = index
    gone = await publish(0, organisation={"name": "Withdrawn Cluster"})
    withdrawal = await catalogue.client.delete(
        f"/api/catalogue/hosts/{gone['host_id']}", headers={**gone["owner"], "If-Match": '"1"'}
    )
    assert withdrawal.status_code == 204
    return ids


def _contacts() -> list[dict[str, str]]:
    return [example["contact"] for example in HOST_EXAMPLES]


def _leaks(text: str) -> list[str]:
    folded = text.casefold()
    return [item for contact in _contacts() for item in contact.values() if item.casefold() in folded]


async def test_each_filter_returns_exactly_the_expected_hosts_and_no_contact(catalogue, seeded):
    for params, expected in FILTERS:
        response = await catalogue.client.get("/api/catalogue/hosts", params=params)
        assert response.status_code == 200, (params, response.text)
        body = response.json()
        found = {seeded[item["host_id"]] for item in body["items"]}
        assert found == expected, f"{params}: got {sorted(found)}, expected {sorted(expected)}"
        assert body["total"] == len(expected)
        assert _leaks(response.text) == [], params
        assert all(
            set(item) == {"host_id", "revision", "organisation", "answers", "updated_at"} for item in body["items"]
        )


async def test_pages_hold_page_size_entries_add_up_to_the_total_and_stay_in_order(catalogue, seeded):
    pages = []
    for page in (1, 2, 3, 4):
        response = await catalogue.client.get("/api/catalogue/hosts", params={"page": page, "page_size": 2})
        body = response.json()
        assert (body["total"], body["page"], body["page_size"]) == (5, page, 2)
        pages.append([item["host_id"] for item in body["items"]])
    assert [len(p) for p in pages] == [2, 2, 1, 0]
    listed = [host_id for page in pages for host_id in page]
    assert sorted(listed) == sorted(seeded), "every active host once, the withdrawn one never"
    whole = await catalogue.client.get("/api/catalogue/hosts", params={"page_size": 100})
    assert [item["host_id"] for item in whole.json()["items"]] == listed, "pages are slices of one order"


async def test_contact_data_appears_in_no_public_view_and_no_event(infrastructure, catalogue, seeded):
    for host_id in seeded:
        public = await catalogue.client.get(f"/api/catalogue/hosts/{host_id}")
        assert public.status_code == 200 and _leaks(public.text) == []
    records = await read_topic(
        infrastructure.kafka_bootstrap, catalogue.settings.topic(HOST_ANSWERS), until=lambda r: len(r) >= 7
    )
    assert len(records) == 7, "six entries published, one withdrawn"
    for contact in [*_contacts(), host_entry_payload(0)["contact"]]:
        assert personal_data_in(records, contact) == []
