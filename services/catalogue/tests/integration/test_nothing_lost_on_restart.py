"""A catalogue that dies between the MongoDB write and the publish publishes the event after it restarts:
nothing is lost, and a consumer deduplicating on event_id applies it exactly once."""

from __future__ import annotations

import httpx
import pytest

from cx_contracts.examples import host_entry_payload
from cx_contracts.topics import HOST_ANSWERS

from cx_kit.inbox import Inbox
from cx_kit.mongo import connect_mongo
from cx_kit.service_testing import (
    SERVICE_TEST_TOKEN,
    ServiceProcess,
    ensure_namespaced_topics,
    free_port,
    serving,
    topic_namespace,
    topic_record_count,
)
from cx_kit.testing import headers_of, read_topic, unique, wait_until

from cx_catalogue.app import create_app

pytestmark = pytest.mark.integration


async def _applied_once(database, records) -> list[str]:
    """Feed the records to an inbox-guarded effect, as a consumer would; returns the effects."""
    inbox = Inbox(database["inbox"], consumer="restart-test")
    effects: list[str] = []
    for record in records:
        event_id = headers_of(record)["event_id"]

        async def effect(event_id: str = event_id) -> None:
            effects.append(event_id)

        await inbox.apply_once(event_id, effect)
    return effects


async def test_an_entry_written_while_the_relay_is_stopped_is_published_once_after_a_restart(
    infrastructure, settings, mongo_database
):
    app = create_app(settings)
    async with serving(app) as client:
        await app.state.relay.stop()  # the process is as good as dead between the write and the publish
        created = (await client.post("/api/catalogue/hosts", json=host_entry_payload(0))).json()
        [queued] = (await app.state.hosts.collection.find_one({"_id": created["host_id"]}))["outbox"]
    topic = settings.topic(HOST_ANSWERS)
    assert await topic_record_count(infrastructure.kafka_bootstrap, topic) == 0, "not published before the restart"

    restarted = create_app(settings)
    async with serving(restarted):
        await wait_until(lambda: _drained(restarted), message="the restarted relay drained the outbox")

    records = await read_topic(infrastructure.kafka_bootstrap, topic, until=lambda r: len(r) >= 1)
    assert await topic_record_count(infrastructure.kafka_bootstrap, topic) == 1
    assert records[0].key == created["host_id"].encode()
    assert headers_of(records[0])["event_id"] == queued["event_id"], "the event written with the entry"
    assert await _applied_once(mongo_database, records) == [queued["event_id"]]


async def _drained(app) -> bool:
    return await app.state.relay.pending_count() == 0


async def test_a_process_killed_after_the_write_and_before_the_publish_publishes_once_after_it_restarts(
    infrastructure, mongo_database, tmp_path
):
    namespace = topic_namespace()
    database = unique("catalogue").replace("-", "_")
    port = free_port()
    env = {
        "CX_CATALOGUE_ENVIRONMENT": "test",
        "CX_CATALOGUE_HTTP_PORT": str(port),
        "CX_CATALOGUE_KAFKA_BOOTSTRAP_SERVERS": infrastructure.kafka_bootstrap,
        "CX_CATALOGUE_MONGO_URL": infrastructure.mongo_url,
        "CX_CATALOGUE_MONGO_DATABASE": database,
        "CX_CATALOGUE_TOPIC_NAMESPACE": namespace,
        "CX_CATALOGUE_INTERNAL_TOKEN": SERVICE_TEST_TOKEN,
        "CX_CATALOGUE_OUTBOX_LEASE_S": "1",
        "CX_CATALOGUE_OUTBOX_POLL_INTERVAL_S": "0.2",
    }
    log = str(tmp_path / "catalogue.log")
    store = connect_mongo(infrastructure.mongo_url, "cx-tests")
    hosts = store[database]["hosts"]
    # The topic does not exist yet (and the broker creates none by itself), so the relay cannot publish:
    # the process is caught between the MongoDB write and the publish when it is killed.
    first = ServiceProcess("cx_catalogue", env, port, log)
    second = ServiceProcess("cx_catalogue", env, port, log)
    try:
        first.start()
        await first.wait_ready()
        async with httpx.AsyncClient(base_url=first.url, timeout=10) as client:
            response = await client.post("/api/catalogue/hosts", json=host_entry_payload(1))
        assert response.status_code == 201, response.text
        host_id = response.json()["host_id"]
        await wait_until(lambda: _claimed_by_the_relay(hosts, host_id), message="the relay trying to publish")
        first.kill()
        [queued] = (await hosts.find_one({"_id": host_id}))["outbox"]

        topic = namespace + HOST_ANSWERS
        await ensure_namespaced_topics(infrastructure.kafka_bootstrap, namespace, [HOST_ANSWERS])
        assert await topic_record_count(infrastructure.kafka_bootstrap, topic) == 0
        second.start()
        await second.wait_ready()
        await wait_until(lambda: _outbox_empty(hosts, host_id), timeout=30, message="published after the restart")

        records = await read_topic(infrastructure.kafka_bootstrap, topic, until=lambda r: len(r) >= 1)
        assert await topic_record_count(infrastructure.kafka_bootstrap, topic) == 1
        assert records[0].key == host_id.encode()
        assert headers_of(records[0])["event_id"] == queued["event_id"]
        assert await _applied_once(mongo_database, records) == [queued["event_id"]]
    finally:
        first.kill()
        second.stop()
        await store.drop_database(database)
        await store.close()


async def _claimed_by_the_relay(hosts, host_id: str) -> bool:
    document = await hosts.find_one({"_id": host_id})
    return bool(document and document.get("outbox") and document.get("outbox_lease"))


async def _outbox_empty(hosts, host_id: str) -> bool:
    document = await hosts.find_one({"_id": host_id})
    return bool(document) and document["outbox"] == []
