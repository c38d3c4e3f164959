"""Create the platform's Kafka topics (cx_contracts.topics.ALL_TOPICS) on the local broker.

Waits, up to a deadline, until the broker answers a metadata request; then creates every missing topic
with its partitions and config (replication factor 1 and min.insync.replicas 1 on this single node; a
production cluster gets 3 and 2 from deploy/k8s/topics-job.yaml), leaves existing ones alone, and reports an existing
topic whose cleanup.policy differs from the contract. Prints one line per topic.

    uv run --no-sync python deploy/local/create_topics.py [--bootstrap 127.0.0.1:9092] [--timeout 120]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError
from probe import process_alive  # this folder's probe: run as a script, its folder is on sys.path

from cx_contracts.topics import ALL_TOPICS, TopicSpec

TOPIC_ALREADY_EXISTS = 36  # Kafka protocol error code


def default_bootstrap() -> str:
    """127.0.0.1 and the port infra.sh uses (CX_KAFKA_PORT, default 9092)."""
    return f"127.0.0.1:{os.environ.get('CX_KAFKA_PORT', '9092')}"


async def connect(bootstrap: str, deadline: float, watch_pid: int | None) -> AIOKafkaAdminClient:
    """An admin client whose broker has answered a metadata request, polling until the deadline."""
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if not process_alive(watch_pid):
            raise SystemExit(f"create_topics: the Kafka process (pid {watch_pid}) exited before answering")
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000, client_id="cx-create-topics")
        try:
            await admin.start()
            await admin.list_topics()
            return admin
        except (KafkaError, OSError, TimeoutError) as error:
            last_error = error
            await admin.close()
            await asyncio.sleep(0.25)
    raise SystemExit(f"create_topics: Kafka at {bootstrap} did not answer in time (last error: {last_error!r})")


async def topic_configs(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, dict[str, str]]:
    """The effective config of each named topic."""
    if not names:
        return {}
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    configs: dict[str, dict[str, str]] = {}
    for response in await admin.describe_configs(resources):
        for resource in response.to_object()["resources"]:
            if resource["error_code"]:
                raise SystemExit(f"create_topics: describing {resource['resource_name']} failed: {resource}")
            configs[resource["resource_name"]] = {
                entry["config_names"]: entry["config_value"] for entry in resource["config_entries"]
            }
    return configs


async def partition_counts(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    """The number of partitions of each named topic."""
    return {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(names)}


async def create_missing(admin: AIOKafkaAdminClient, specs: list[TopicSpec]) -> list[str]:
    """Create the topics that do not exist yet; return the names created here."""
    existing = set(await admin.list_topics())
    missing = [spec for spec in specs if spec.name not in existing]
    if not missing:
        return []
    response = await admin.create_topics(
        [
            NewTopic(s.name, num_partitions=s.partitions, replication_factor=1, topic_configs=dict(s.config))
            for s in missing
        ]
    )
    created: list[str] = []
    for name, code, *rest in response.topic_errors:
        if code == 0:
            created.append(name)
        elif code != TOPIC_ALREADY_EXISTS:  # someone else created it meanwhile: fine
            message = rest[0] if rest else ""
            raise SystemExit(f"create_topics: creating {name} failed with error {code}: {message}")
    return created


async def wait_until_described(admin: AIOKafkaAdminClient, names: list[str], deadline: float) -> None:
    """Poll until every topic has leaders for all partitions, so the first producer does not race creation."""
    while True:
        described = await admin.describe_topics(names)
        ready = {
            t["topic"]
            for t in described
            if t["error_code"] == 0 and t["partitions"] and all(p["leader"] >= 0 for p in t["partitions"])
        }
        if ready >= set(names):
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"create_topics: topics without leaders: {sorted(set(names) - ready)}")
        await asyncio.sleep(0.1)


async def main(bootstrap: str, timeout: float, watch_pid: int | None, quiet: bool) -> int:
    """Wait for the broker, create the missing topics, print each topic and the summary."""
    deadline = time.monotonic() + timeout
    specs = list(ALL_TOPICS)
    names = [s.name for s in specs]
    admin = await connect(bootstrap, deadline, watch_pid)
    try:
        created = await create_missing(admin, specs)
        await wait_until_described(admin, names, deadline)
        configs = await topic_configs(admin, names)
        partitions = await partition_counts(admin, names)
    finally:
        await admin.close()

    mismatches = 0
    for spec in specs:
        actual = configs.get(spec.name, {})
        wanted_policy = spec.config.get("cleanup.policy", "delete")
        policy = actual.get("cleanup.policy", "?")
        state = "created" if spec.name in created else "exists"
        shown = ", ".join(f"{key}={actual.get(key, '?')}" for key in sorted(spec.config))
        if not quiet:
            print(f"  {state:7} {spec.name:42} partitions={partitions.get(spec.name, '?')} {shown}")
        if policy != wanted_policy:
            mismatches += 1
            print(
                f"  WARNING {spec.name}: cleanup.policy is {policy!r} on the broker but the contract says "
                f"{wanted_policy!r}; delete the topic (or run `infra.sh reset`) to recreate it",
                file=sys.stderr,
            )
        if partitions.get(spec.name) != spec.partitions and not quiet:
            print(f"  note    {spec.name}: {partitions.get(spec.name)} partitions, contract says {spec.partitions}")
    print(
        f"topics: {len(created)} created, {len(specs) - len(created)} already there, "
        f"{mismatches} cleanup.policy mismatches"
    )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default=os.environ.get("CX_KAFKA_BOOTSTRAP", default_bootstrap()))
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the broker (default 120)")
    parser.add_argument("--watch-pid", type=int, default=None, help="give up early if this process exits")
    parser.add_argument("--quiet", action="store_true", help="print only the summary line and warnings")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.bootstrap, args.timeout, args.watch_pid, args.quiet)))
