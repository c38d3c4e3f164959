"""Only the owner changes an entry, and only from the revision it read: stale writes and other organisations'
tokens change nothing."""

from __future__ import annotations

import pytest

from cx_contracts.examples import host_entry_payload
from cx_contracts.topics import HOST_ANSWERS

from cx_kit.service_testing import bearer, settled_document, topic_record_count
from cx_kit.testing import read_topic

pytestmark = pytest.mark.integration


async def test_a_stale_if_match_gets_412_and_changes_nothing(infrastructure, settings, catalogue, publish):
    created = await publish(catalogue, 0)
    path, owner = f"/api/catalogue/hosts/{created['host_id']}", bearer(created["owner_token"])
    first = await catalogue.put(path, json={"answers": host_entry_payload(1)["answers"]},
                                headers={**owner, "If-Match": '"1"'})
    assert first.status_code == 200
    await read_topic(infrastructure.kafka_bootstrap, settings.topic(HOST_ANSWERS), until=lambda r: len(r) >= 2)
    stored_before = await settled_document(catalogue.app.state.hosts.collection, created["host_id"])

    # A second writer still holding revision 1 (a lost update, were it let through).
    stale_put = await catalogue.put(path, json={"answers": host_entry_payload(2)["answers"]},
                                    headers={**owner, "If-Match": '"1"'})
    stale_delete = await catalogue.delete(path, headers={**owner, "If-Match": '"1"'})
    future = await catalogue.put(path, json={"answers": host_entry_payload(2)["answers"]},
                                 headers={**owner, "If-Match": '"7"'})
    for response in (stale_put, stale_delete, future):
        assert response.status_code == 412
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["current_revision"] == 2 and response.headers["etag"] == '"2"'

    assert await catalogue.app.state.hosts.collection.find_one({"_id": created["host_id"]}) == stored_before
    read = await catalogue.get(path)
    assert read.headers["etag"] == '"2"' and read.json()["answers"] == host_entry_payload(1)["answers"]
    assert await catalogue.app.state.relay.pending_count() == 0
    assert await topic_record_count(infrastructure.kafka_bootstrap, settings.topic(HOST_ANSWERS)) == 2


async def test_another_organisations_token_gets_404_on_every_owner_route_and_sees_only_the_public_entry(
    catalogue, publish
):
    mine = await publish(catalogue, 0)
    theirs = await publish(catalogue, 1)
    path, intruder = f"/api/catalogue/hosts/{mine['host_id']}", bearer(theirs["owner_token"])

    put = await catalogue.put(path, json={"answers": host_entry_payload(1)["answers"]},
                              headers={**intruder, "If-Match": '"1"'})
    delete = await catalogue.delete(path, headers={**intruder, "If-Match": '"1"'})
    assert put.status_code == delete.status_code == 404
    assert put.json()["detail"] == (await catalogue.delete(
        "/api/catalogue/hosts/7d7c2a7e-3c1b-4a8e-9a55-6f2d8d0b9c11", headers={**intruder, "If-Match": '"1"'}
    )).json()["detail"], "someone else's entry reads exactly like a missing one"

    read = await catalogue.get(path, headers=intruder)
    assert read.status_code == 200 and "contact" not in read.json()
    own = await catalogue.get(path, headers=bearer(mine["owner_token"]))
    assert own.json()["revision"] == 1 and own.json()["answers"] == host_entry_payload(0)["answers"]


async def test_a_write_without_a_token_is_401_with_a_bearer_challenge(catalogue, publish):
    created = await publish(catalogue, 0)
    path = f"/api/catalogue/hosts/{created['host_id']}"
    put = await catalogue.put(path, json={"answers": host_entry_payload(1)["answers"]}, headers={"If-Match": '"1"'})
    delete = await catalogue.delete(path, headers={"If-Match": '"1"'})
    for response in (put, delete):
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Bearer realm="clusterxchange"'
    assert (await catalogue.get(path)).json()["revision"] == 1


async def test_a_replacement_may_change_organisation_and_contact_and_the_owner_sees_them(catalogue, publish):
    created = await publish(catalogue, 4)
    path, owner = f"/api/catalogue/hosts/{created['host_id']}", bearer(created["owner_token"])
    organisation = {**host_entry_payload(4)["organisation"], "city": "Stavanger"}
    contact = {"name": "Kari Nordmann", "email": "kari@vestland-offshorewind.example"}
    response = await catalogue.put(
        path, json={"answers": host_entry_payload(4)["answers"], "organisation": organisation, "contact": contact},
        headers={**owner, "If-Match": '"1"'},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["revision"] == 2 and body["organisation"]["city"] == "Stavanger" and body["contact"] == contact
    assert "contact" not in (await catalogue.get(path)).json()
