"""The notifier as a real process, killed (SIGKILL) at random points while it works through 200 match runs.

After the last restart every expected mail must be in Mailpit, and a mail may arrive twice only if the
ledger shows an attempt that could have been cut off between the relay's 250 and the ledger's update (the
documented window, docs/notifier.md). Every sent mail must also have its NotificationSent on the topic.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from cx_contracts import examples
from cx_contracts.codec import parse_event
from cx_kit.testing import read_topic, wait_until

pytestmark = pytest.mark.integration

RUNS = 200
HOST_POOL = 40
KILLS = 3
REPO_ROOT = Path(__file__).resolve().parents[4]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment(world, http_port: int) -> dict[str, str]:
    settings = world.settings()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CX_NOTIFIER_")}
    env.update(
        {
            f"CX_NOTIFIER_{name}": str(value)
            for name, value in {
                "ENVIRONMENT": "test",
                "LOG_LEVEL": "WARNING",
                "HTTP_PORT": http_port,
                "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
                "MONGO_URL": settings.mongo_url.get_secret_value(),
                "MONGO_DATABASE": settings.mongo_database,
                "TOPIC_NAMESPACE": settings.topic_namespace,
                "INTERNAL_TOKEN": settings.internal_token.get_secret_value(),
                "CATALOGUE_URL": settings.catalogue_url,
                "APPLICATIONS_URL": settings.applications_url,
                "SMTP_HOST": settings.smtp_host,
                "SMTP_PORT": settings.smtp_port,
                "PUBLIC_BASE_URL": settings.public_base_url,
                "MAILS_PER_RECIPIENT": 100000,
                # Short leases and a quick sweep, so a killed process's claims are taken over within seconds.
                "SMTP_TIMEOUT_S": 3,
                "SEND_LEASE_S": 8,
                "CONTACT_TIMEOUT_S": 3,
                "RESUME_AFTER_S": 2,
                "RESUME_INTERVAL_S": 2,
                "OUTBOX_LEASE_S": 5,
                "OUTBOX_SCAN_INTERVAL_S": 2,
            }.items()
        }
    )
    return env


class NotifierProcess:
    """`python -m cx_notifier` in its own process, started and SIGKILLed by the test."""

    def __init__(self, env: dict[str, str], http_port: int, logs: Path) -> None:
        self._env = env
        self.http_port = http_port
        self._logs = logs
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def _spawn(self) -> None:
        self.starts += 1
        with (self._logs / f"notifier-{self.starts}.log").open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cx_notifier"],
                env=self._env,
                cwd=REPO_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def start(self) -> None:
        self._spawn()

        async def healthy() -> bool:
            assert self.process is not None and self.process.poll() is None, "the notifier exited"
            try:
                async with httpx.AsyncClient(timeout=1) as client:
                    return (await client.get(f"http://127.0.0.1:{self.http_port}/healthz")).status_code == 200
            except httpx.HTTPError:
                return False

        await wait_until(healthy, timeout=30, interval=0.2, message="the notifier process answering")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    async def metrics(self) -> str:
        async with httpx.AsyncClient(timeout=5) as client:
            return (await client.get(f"http://127.0.0.1:{self.http_port}/metrics/")).text

    async def sent_by_this_process(self) -> int:
        """Mails this process life has sent, from its own metrics (no load on the store)."""
        try:
            text = await self.metrics()
        except httpx.HTTPError:
            return 0
        return int(
            sum(
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith("cx_notifier_mails_total{") and 'outcome="sent"' in line
            )
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _window_figures(metrics: str) -> str:
    """The last process's histogram of the time from the relay's 250 to the ledger's update."""
    values = {}
    for line in metrics.splitlines():
        if line.startswith("cx_notifier_unconfirmed_send_seconds_"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    count = values.get("cx_notifier_unconfirmed_send_seconds_count", 0)
    if not count:
        return "no mail sent by the last process"
    mean_ms = 1000 * values["cx_notifier_unconfirmed_send_seconds_sum"] / count
    buckets = sorted(
        (float(k.split('le="')[1].split('"')[0]), v)
        for k, v in values.items()
        if "_bucket" in k and 'le="+Inf"' not in k
    )
    shares = ", ".join(f"<= {1000 * le:g} ms: {100 * seen / count:.0f}%" for le, seen in buckets if 0.002 <= le <= 1.0)
    return f"{count:.0f} mails, mean {mean_ms:.1f} ms ({shares})"


async def test_the_notifier_killed_at_random_points_while_200_runs_are_processed_loses_no_mail_and_repeats_none_outside_the_window(  # noqa: E501
    world, tmp_path
):
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    hosts = [world.organisation("host", index=i) for i in range(HOST_POOL)]
    expected: dict[str, str] = {}  # Message-ID -> address
    runs = []
    for i in range(RUNS):
        visitor = world.organisation("visitor", index=i)
        chosen = rng.sample(hosts, rng.randint(1, 3))
        run = examples.match_found(application_id=visitor.id, host_ids=[h.id for h in chosen])
        runs.append(run)
        for card in (visitor, *chosen):
            expected[f"{run.match_run_id}.{card.id}@clusterxchange.example"] = card.contact.email
    http_port = _free_port()
    process = NotifierProcess(_environment(world, http_port), http_port, tmp_path)
    started = time.monotonic()
    kills: list[int] = []

    await world.publish(*runs)
    try:
        await process.start()
        share = len(expected) // (KILLS + 1)
        for k in range(KILLS):
            threshold = rng.randint(share // 3, share)  # a random point in this process life's share

            async def reached(threshold: int = threshold) -> int:
                sent = await process.sent_by_this_process()
                return sent if sent >= threshold else 0

            kills.append(
                await wait_until(
                    reached, timeout=90, interval=0.05, message=f"{threshold} mails sent before kill {k + 1}"
                )
            )
            process.kill()
            await process.start()

        async def all_arrived() -> bool:
            return await world.mailpit.count(f"to:{world.token}") >= len(expected)

        await wait_until(all_arrived, timeout=120, interval=1.0, message="every expected mail in Mailpit")

        async def every_event_published():
            entries = await world.entries()
            return (
                len(entries) == len(expected)
                and all(e["status"] == "sent" and not e.get("outbox") for e in entries)
                and entries
            )

        entries = await wait_until(
            every_event_published, timeout=60, interval=1.0, message="every entry sent and its event published"
        )
        window = _window_figures(await process.metrics())
        events = await read_topic(
            world.infrastructure.kafka_bootstrap,
            world.notification_sent_topic,
            until=lambda records: len({r.value for r in records}) >= len(expected),
            timeout=60,
        )
    finally:
        process.stop()
    elapsed = time.monotonic() - started

    copies = Counter(m["MessageID"] for m in await world.mails())
    missing = set(expected) - set(copies)
    unexpected = set(copies) - set(expected)
    repeated = {message_id: n for message_id, n in copies.items() if n > 1}
    by_message_id = {e["message_id"].strip("<>"): e for e in entries}
    window_candidates = {
        mid: e["attempts"] - e["failed_attempts"] - 1
        for mid, e in by_message_id.items()
        if e["attempts"] - e["failed_attempts"] - 1 > 0
    }
    notification_ids = Counter(parse_event(r.topic, r.value, r.headers, key=r.key).notification_id for r in events)
    print(
        f"\nkilled notifier (seed {seed}): {RUNS} runs, {len(expected)} mails expected, {KILLS} SIGKILLs at "
        f"{kills} sent; {len(copies)} distinct mails arrived, {sum(copies.values()) - len(copies)} repeated "
        f"({len(repeated)} Message-IDs), {len(window_candidates)} ledger entries with an attempt cut off in the "
        f"window; NotificationSent: {len(notification_ids)} distinct, "
        f"{sum(notification_ids.values()) - len(notification_ids)} republished; unconfirmed window: {window}; "
        f"{elapsed:.0f} s in all"
    )

    assert len(kills) == KILLS
    assert not missing, f"{len(missing)} mails never arrived"
    assert not unexpected
    for message_id, n in repeated.items():
        assert window_candidates.get(message_id, 0) >= n - 1, (
            f"{message_id} arrived {n} times without an attempt cut off in the documented window"
        )
    assert len(notification_ids) == len(expected), "a NotificationSent for every mail sent"
    assert all(e["attempts"] >= 1 for e in entries)
