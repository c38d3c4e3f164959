"""Only the owner reads or changes an application and its matches, and only from the revision it read."""

from __future__ import annotations

from uuid import UUID

import pytest

from cx_contracts.events import event_headers, event_key, event_value, headers_as_text
from cx_contracts.examples import application_payload, match_found
from cx_contracts.topics import MATCH_FOUND, VISITOR_ANSWERS

from cx_kit.service_testing import bearer, settled_document, topic_record_count
from cx_kit.testing import read_topic, wait_until

pytestmark = pytest.mark.integration

UNKNOWN = "7d7c2a7e-3c1b-4a8e-9a55-6f2d8d0b9c11"


async def test_a_stale_if_match_gets_412_and_changes_nothing(infrastructure, settings, applications, submit):
    created = await submit(applications, 0)
    path, owner = f"/api/applications/{created['application_id']}", bearer(created["owner_token"])
    revised = application_payload(0, answers={"days": 7})["answers"]
    assert (await applications.put(path, json={"answers": revised},
                                   headers={**owner, "If-Match": '"1"'})).status_code == 200
    await read_topic(infrastructure.kafka_bootstrap, settings.topic(VISITOR_ANSWERS), until=lambda r: len(r) >= 2)
    before = await settled_document(applications.app.state.applications.collection, created["application_id"])

    stale_put = await applications.put(path, json={"answers": application_payload(0)["answers"]},
                                       headers={**owner, "If-Match": '"1"'})
    stale_delete = await applications.delete(path, headers={**owner, "If-Match": '"1"'})
    for response in (stale_put, stale_delete):
        assert response.status_code == 412 and response.json()["current_revision"] == 2
        assert response.headers["etag"] == '"2"'

    assert await applications.app.state.applications.collection.find_one({"_id": created["application_id"]}) == before
    assert (await applications.get(path, headers=owner)).json()["answers"]["days"] == 7
    assert await applications.app.state.relay.pending_count() == 0
    assert await topic_record_count(infrastructure.kafka_bootstrap, settings.topic(VISITOR_ANSWERS)) == 2


async def test_another_organisations_token_gets_404_on_every_owner_route(
    settings, applications, submit, match_publisher
):
    mine = await submit(applications, 0)
    theirs = await submit(applications, 1)
    run = match_found(application_id=UUID(mine["application_id"]))
    await match_publisher.publish(event_value(run), topic=settings.topic(MATCH_FOUND), key=event_key(run),
                                  headers=headers_as_text(event_headers(run)))
    owner = bearer(mine["owner_token"])

    async def matched() -> bool:
        response = await applications.get(f"/api/applications/{mine['application_id']}/matches", headers=owner)
        return response.json()["status"] == "matched"

    await wait_until(matched, message="matches to protect")

    intruder = bearer(theirs["owner_token"])
    for application_id in (mine["application_id"], UNKNOWN):
        path = f"/api/applications/{application_id}"
        responses = [
            await applications.get(path, headers=intruder),
            await applications.get(f"{path}/matches", headers=intruder),
            await applications.put(path, json={"answers": application_payload(1)["answers"]},
                                   headers={**intruder, "If-Match": '"1"'}),
            await applications.delete(path, headers={**intruder, "If-Match": '"1"'}),
        ]
        assert [r.status_code for r in responses] == [404, 404, 404, 404]
        assert all("contact" not in r.text and "Desislava" not in r.text for r in responses)

    own = await applications.get(f"/api/applications/{mine['application_id']}", headers=owner)
    assert own.json()["revision"] == 1 and own.json()["answers"] == application_payload(0)["answers"]


async def test_every_owner_route_without_a_token_is_401_with_a_bearer_challenge(applications, submit):
    created = await submit(applications, 2)
    path = f"/api/applications/{created['application_id']}"
    responses = [
        await applications.get(path),
        await applications.get(f"{path}/matches"),
        await applications.put(path, json={"answers": application_payload(2)["answers"]}, headers={"If-Match": '"1"'}),
        await applications.delete(path, headers={"If-Match": '"1"'}),
    ]
    for response in responses:
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Bearer realm="clusterxchange"'
