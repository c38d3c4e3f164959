"""End to end through the real broker at 10k hosts: latency one application at a time, then throughput.

    uv run --no-sync python bench/bench_pipeline.py [--latency 300] [--throughput 1000]

1. Own namespaced topics (6 partitions) and database; the 10k generated hosts are published on the host
   topic, and a snapshot of them is written with the service's code from their cached embeddings (so the
   service restores instead of embedding 10k texts; the restore is part of what is measured at start-up).
2. The matcher runs as its own process (`python -m cx_matcher`), as in production.
3. Latency: one visitor answer published, its MatchFound awaited, an idle pause (0 to --gap-ms, random), then
   the next: publish -> MatchFound received, measured in this process.
4. Model reference: this process encodes the throughput set's goal texts alone, in the same run, before and
   after the throughput run, handed over at the call size (1, 8 or 32 texts) that is fastest on a sample.
5. Throughput: the next applications are published at once; applications per second = count / (time from
   the first publish to the last MatchFound received), compared with the model's own texts per second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import common
import numpy as np
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from cx_contracts.codec import event_headers, event_key, event_value, parse_event
from cx_contracts.events import HostAnswersSubmitted, MatchFound, VisitorAnswersSubmitted
from cx_contracts.topics import EVENT_TOPICS, EXCHANGE_EVENTS, HOST_ANSWERS, MATCH_FOUND, VISITOR_ANSWERS, TopicSpec
from cx_kit.kafka import ensure_topics

from cx_matcher import bootstrap
from cx_matcher.adapters.snapshots import SnapshotStore
from cx_matcher.domain.profiles import HostChange, HostProfile, visitor_text

BOOTSTRAP = os.environ.get("CX_BENCH_KAFKA", "127.0.0.1:9092")
MONGO = os.environ.get("CX_BENCH_MONGO", "mongodb://127.0.0.1:27017")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status(port: int) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/matcher/status", timeout=2) as response:
            return json.loads(response.read())
    except Exception:
        return None


def stage_totals(port: int) -> dict[str, tuple[float, float]]:
    """Seconds and count per stage from the service's /metrics (cx_matcher_stage_seconds)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    sums, counts = {}, {}
    for line in text.splitlines():
        if line.startswith("cx_matcher_stage_seconds_sum"):
            stage = line.split('stage="', 1)[1].split('"', 1)[0]
            sums[stage] = float(line.rsplit(" ", 1)[1])
        elif line.startswith("cx_matcher_stage_seconds_count"):
            stage = line.split('stage="', 1)[1].split('"', 1)[0]
            counts[stage] = float(line.rsplit(" ", 1)[1])
    return {stage: (sums[stage], counts.get(stage, 0.0)) for stage in sums}


def stage_means(
    after: dict[str, tuple[float, float]],
    before: dict[str, tuple[float, float]] | None = None,
) -> dict[str, dict[str, float]]:
    """Per stage between two readings: how often, mean milliseconds, total seconds."""
    before = before or {}
    means = {}
    for stage, (seconds, count) in after.items():
        seconds -= before.get(stage, (0.0, 0.0))[0]
        count -= before.get(stage, (0.0, 0.0))[1]
        if count:
            means[stage] = {
                "count": int(count),
                "mean_ms": round(1000 * seconds / count, 2),
                "total_s": round(seconds, 2),
            }
    return means


async def publish_hosts(producer: AIOKafkaProducer, topic: str, hosts: list[dict]) -> list[tuple[int, int]]:
    """Publish every host; returns where each landed (partition, offset)."""
    futures = []
    for line in hosts:
        event = HostAnswersSubmitted.model_validate({**line, "revision": 1})
        futures.append(
            await producer.send(topic, event_value(event), key=event_key(event), headers=event_headers(event))
        )
    metadata = await asyncio.gather(*futures)
    return [(m.partition, m.offset) for m in metadata]


def write_snapshot(
    directory: Path, topic: str, hosts: list[dict[str, Any]], vectors: np.ndarray, positions: list[tuple[int, int]]
) -> float:
    """The snapshot the service would have written after reading the host topic."""
    index = bootstrap.host_index(common.settings(), vectors.shape[1])
    changes = []
    for line, vector, position in zip(hosts, vectors, positions, strict=True):
        event = HostAnswersSubmitted.model_validate({**line, "revision": 1})
        profile = HostProfile.from_answers(event.host_id, 1, event.organisation, event.answers)
        changes.append(HostChange(event.host_id, profile, vector, position))
    index.apply(changes)
    ends: dict[int, int] = {}
    for partition, offset in positions:
        ends[partition] = max(ends.get(partition, 0), offset + 1)
    index.cover(ends)
    header, data = index.snapshot_state()
    header.update(model=common.settings().model_name, topic=topic)
    started = time.perf_counter()
    SnapshotStore(directory).write(header, data)
    return time.perf_counter() - started


def start_matcher(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """The matcher as its own process (`python -m cx_matcher`), its log in bench/cache/pipeline-service.log."""
    with open(common.CACHE / "pipeline-service.log", "w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "cx_matcher"], env=env, cwd=common.ROOT, stdout=subprocess.DEVNULL, stderr=log
        )


def visitor_event(line: dict) -> VisitorAnswersSubmitted:
    return VisitorAnswersSubmitted.model_validate({**line, "application_id": str(uuid.uuid4()), "revision": 1})


async def match_found_consumer(topic: str) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, group_id=None, enable_auto_commit=False)
    await consumer.start()
    partitions = [TopicPartition(topic, p) for p in range(6)]
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    return consumer


received: list = []


def check_received() -> int:
    """Parse every MatchFound received (contract check), outside the timed part; returns how many."""
    for record in received:
        event = parse_event(MATCH_FOUND, record.value, record.headers, key=record.key)
        assert isinstance(event, MatchFound) and str(event.application_id) == record.key.decode()
    return len(received)


async def receive(consumer: AIOKafkaConsumer, wanted: set[str], arrivals: dict[str, float], deadline: float) -> None:
    """Read MatchFound until every application in `wanted` has one (arrival times into `arrivals`)."""
    while wanted - arrivals.keys():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(wanted - arrivals.keys())} MatchFound missing")
        batch = await consumer.getmany(timeout_ms=200)
        now = time.perf_counter()
        for records in batch.values():
            for record in records:
                # The key is the application id; the payload is checked once, after the clock stops.
                arrivals.setdefault(record.key.decode(), now)
                received.append(record)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    hosts, host_vectors, visitors, _ = common.load_generated()
    namespace = f"bench{uuid.uuid4().hex[:8]}."
    specs = []
    for spec in EVENT_TOPICS:
        if spec.name in (HOST_ANSWERS, VISITOR_ANSWERS, MATCH_FOUND, EXCHANGE_EVENTS):
            mine = TopicSpec(namespace + spec.name, spec.key, dict(spec.config), spec.partitions)
            specs += [mine, mine.dead_letter]
    await ensure_topics(BOOTSTRAP, specs)
    database = f"bench_{uuid.uuid4().hex[:8]}"
    snapshots = common.CACHE / f"pipeline-snapshots-{namespace.rstrip('.')}"
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", enable_idempotence=True)
    await producer.start()
    service = None
    result: dict[str, Any] = {"machine_before": common.machine(), "busiest_processes": common.busiest_processes()}
    try:
        positions = await publish_hosts(producer, namespace + HOST_ANSWERS, hosts)
        result["snapshot_write_seconds"] = round(
            write_snapshot(snapshots, namespace + HOST_ANSWERS, hosts, host_vectors, positions), 2
        )
        port = free_port()
        env = {
            **os.environ,
            "CX_MATCHER_ENVIRONMENT": "test",
            "CX_MATCHER_TOPIC_NAMESPACE": namespace,
            "CX_MATCHER_MONGO_DATABASE": database,
            "CX_MATCHER_SNAPSHOT_DIR": str(snapshots),
            "CX_MATCHER_HTTP_PORT": str(port),
            "CX_MATCHER_LOG_LEVEL": "WARNING",
            "CX_MATCHER_AS_OF": "2027-01-04",
            "CX_MATCHER_KAFKA_BOOTSTRAP_SERVERS": BOOTSTRAP,
            "CX_MATCHER_MONGO_URL": MONGO,
        }
        started = time.perf_counter()
        service = start_matcher(env)
        while True:
            state = status(port)
            if state and state["ready"] and len(state["visitor_topic"]["partitions"]) == 6:
                break
            if service.poll() is not None or time.perf_counter() - started > 600:
                raise RuntimeError("the matcher did not start; see bench/cache/pipeline-service.log")
            await asyncio.sleep(0.2)
        result["service_start_seconds"] = round(time.perf_counter() - started, 1)
        result["service_after_start"] = {
            "hosts": state["index"]["hosts"],
            "texts_encoded": state["model"]["texts_encoded"],
            "restore_seconds": state["snapshots"]["restore_seconds"],
            "catch_up_seconds": state["catch_up_seconds"],
        }
        consumer = await match_found_consumer(namespace + MATCH_FOUND)
        try:
            # Latency: one application at a time.
            for line in visitors[:10]:  # warm-up: first calls pay for lazy initialisation
                event = visitor_event(line)
                await producer.send_and_wait(
                    namespace + VISITOR_ANSWERS, event_value(event), key=event_key(event), headers=event_headers(event)
                )
                await receive(consumer, {str(event.application_id)}, {}, time.monotonic() + 60)
            latencies = []
            gaps = random.Random(common.SEED)
            for line in visitors[10 : 10 + args.latency]:
                # Applications arrive now and then, not back to back: the service is idle between them.
                await asyncio.sleep(gaps.uniform(0, args.gap_ms / 1000))
                event = visitor_event(line)
                arrivals: dict[str, float] = {}
                sent = time.perf_counter()
                await producer.send_and_wait(
                    namespace + VISITOR_ANSWERS, event_value(event), key=event_key(event), headers=event_headers(event)
                )
                await receive(consumer, {str(event.application_id)}, arrivals, time.monotonic() + 60)
                latencies.append(arrivals[str(event.application_id)] - sent)
            result["latency_one_at_a_time"] = common.percentiles(latencies)
            print(json.dumps({"latency": result["latency_one_at_a_time"]}), flush=True)

            # The model alone on the throughput set's texts, in this process, while the service idles: before
            # and after the pipeline run, since other work on the machine comes and goes.
            batch_lines = visitors[10 + args.latency : 10 + args.latency + args.throughput]
            from cx_matcher.entrypoints.command_line import ApplicationLine

            embedder = bootstrap.load_embedder(common.settings())
            texts = [visitor_text(ApplicationLine.model_validate(line).answers) for line in batch_lines]
            embedder.encode(texts[:32])

            def model_rate(size: int, sample: list[str], embedder: Any = embedder) -> float:
                started = time.perf_counter()
                for start in range(0, len(sample), size):
                    embedder.encode(sample[start : start + size])
                return len(sample) / (time.perf_counter() - started)

            # The reference is the model at its best: texts handed over 1, 8 or 32 at a time (the encoder's own
            # batching inside a call is the service's), the fastest on a sample, then measured on all texts.
            by_size = {size: round(model_rate(size, texts[:320]), 1) for size in (1, 8, 32)}
            best_size = max(by_size, key=lambda size: by_size[size])
            model_before, load_before = model_rate(best_size, texts), os.getloadavg()[0]

            stages_before = stage_totals(port)
            # Throughput: everything published at once, batches form in the service.
            events = [visitor_event(line) for line in batch_lines]
            arrivals = {}
            first_sent = time.perf_counter()
            sends = [
                await producer.send(
                    namespace + VISITOR_ANSWERS, event_value(e), key=event_key(e), headers=event_headers(e)
                )
                for e in events
            ]
            receiving = asyncio.create_task(
                receive(consumer, {str(e.application_id) for e in events}, arrivals, time.monotonic() + 1200)
            )
            await asyncio.gather(*sends)
            await receiving
            elapsed = max(arrivals.values()) - first_sent
            pipeline_rate = len(events) / elapsed
            throughput_stages = stage_means(stage_totals(port), stages_before)
            load_pipeline = os.getloadavg()[0]
            model_after, load_after = model_rate(best_size, texts), os.getloadavg()[0]
            del embedder
            reference = (model_before + model_after) / 2
            result["throughput"] = {
                "applications": len(events),
                "seconds": round(elapsed, 2),
                "applications_per_second": round(pipeline_rate, 1),
                "model_alone_texts_per_second_by_call_size_sample": by_size,
                "model_alone_call_size": best_size,
                "model_alone_texts_per_second_before": round(model_before, 1),
                "model_alone_texts_per_second_after": round(model_after, 1),
                "load_1min_before_during_after": [round(load_before, 2), round(load_pipeline, 2), round(load_after, 2)],
                "ratio_to_mean_of_model_runs": round(pipeline_rate / reference, 3),
                "service_stages": throughput_stages,
            }
            print(json.dumps({"throughput": result["throughput"]}), flush=True)
            result["match_found_parsed_and_valid"] = check_received()
        finally:
            await consumer.stop()
        final = status(port) or {}
        result["service_at_end"] = {
            "runs": final.get("runs"),
            "open_applications": final.get("open_applications"),
            "stages_whole_run": stage_means(stage_totals(port)),
        }
    finally:
        result["machine_after"] = common.machine()
        if service is not None and service.poll() is None:
            service.send_signal(signal.SIGTERM)
            try:
                service.wait(timeout=60)
            except subprocess.TimeoutExpired:
                service.kill()
        await producer.stop()
        admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
        await admin.start()
        try:
            await admin.delete_topics([s.name for s in specs])
        except Exception:
            pass
        await admin.close()
        from pymongo import AsyncMongoClient

        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO)
        await client.drop_database(database)
        await client.close()
        shutil.rmtree(snapshots, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=int, default=300)
    parser.add_argument("--throughput", type=int, default=1000)
    parser.add_argument("--gap-ms", type=float, default=300.0, help="idle time before each latency sample, up to")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    common.write_result("pipeline", result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
