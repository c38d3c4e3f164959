"""What the pages say about ranked hosts and the signed-in person: names, countries, the e-mails' reasons."""

from __future__ import annotations

import uuid

import pytest

from cx_contracts import examples
from cx_contracts.explanation import reasons

from cx_web.domain.catalogue_filters import CatalogueSearch, paging
from cx_web.domain.people import NotASchemeAccount, SignedInPerson
from cx_web.domain.records import ranked_hosts

pytestmark = pytest.mark.unit


def _matches(host_ids: list[str]) -> dict:
    run = examples.match_found(host_ids=[uuid.UUID(h) for h in host_ids]).model_dump(mode="json")
    return {"status": "matched", "match_run_id": run["match_run_id"], "matches": run["matches"]}


def test_ranked_hosts_carry_the_hosts_names_and_countries_and_the_e_mails_reasons_in_order() -> None:
    host_ids = [str(uuid.uuid4()) for _ in range(2)]
    matches = _matches(host_ids)
    entries = {h: examples.host_entry_payload(i) for i, h in enumerate(host_ids)}

    shown = ranked_hosts(matches, entries)

    assert [h.organisation.name for h in shown.hosts] == [entries[h]["organisation"]["name"] for h in host_ids]
    assert shown.hosts[0].organisation.country == "Germany"
    expected = [r.sentence("visitor") for r in reasons(matches["matches"][0]["explanation"])]
    assert [r.sentence for r in shown.hosts[0].reasons] == expected
    assert shown.hosts[0].page == f"/catalogue/hosts/{host_ids[0]}"


def test_a_host_that_left_the_catalogue_is_left_out_as_in_the_e_mails() -> None:
    host_ids = [str(uuid.uuid4()) for _ in range(2)]

    shown = ranked_hosts(_matches(host_ids), {host_ids[0]: None, host_ids[1]: examples.host_entry_payload(1)})

    assert [h.host_id for h in shown.hosts] == [host_ids[1]]


def test_a_new_run_is_a_new_version_of_the_proposals_and_pending_is_its_own() -> None:
    pending = ranked_hosts({"status": "pending"}, {})
    host_id = str(uuid.uuid4())
    matched = ranked_hosts(_matches([host_id]), {host_id: examples.host_entry_payload(0)})

    assert pending.pending and not matched.pending
    assert pending.version != matched.version


def test_the_catalogue_search_keeps_only_its_filters_and_pages_with_them() -> None:
    search = CatalogueSearch.from_query({"country": ["SI"], "q": [" lab "], "owner": ["x"], "page": ["2"]})

    assert search.api_query() == [("q", "lab"), ("country", "SI"), ("page", "2"), ("page_size", "10")]
    shown = paging(search, total=25, page=2, page_size=10, shown=10)
    assert (shown.first, shown.last, shown.pages) == (11, 20, 3)
    assert shown.previous_url == "/catalogue?q=lab&country=SI&page=1"
    assert shown.next_url == "/catalogue?q=lab&country=SI&page=3"


def test_a_person_is_its_organisation_and_a_manager_needs_its_partnership() -> None:
    person = SignedInPerson.from_claims(
        {"sub": "s", "organisation": "acme", "email": "a@acme.example", "email_verified": False}
    )

    assert person.email is None, "an address the issuer did not verify is never used"
    assert person.display_name == "acme" and not person.is_manager
    with pytest.raises(NotASchemeAccount):
        SignedInPerson.from_claims({"sub": "s", "organisation": "office", "role": "manager"})
    with pytest.raises(NotASchemeAccount):
        SignedInPerson.from_claims({"sub": "s"})
    assert SignedInPerson.from_session(person.as_session()) == person
