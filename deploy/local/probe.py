"""Wait, up to a deadline, until a local component answers its own protocol (used by infra.sh).

    python deploy/local/probe.py mongo mongodb://127.0.0.1:27017 [--timeout 60] [--watch-pid PID]
    python deploy/local/probe.py http http://127.0.0.1:8025/readyz [--timeout 60] [--watch-pid PID]

Exits 0 once it answers, 1 when the deadline passes or the watched process exits first.
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable


def process_alive(pid: int | None) -> bool:
    """Whether the watched process still runs (None: not watched); a zombie counts as exited."""
    if pid is None:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def mongo_ping(url: str) -> Callable[[], None]:
    """One `ping` through pymongo, with short timeouts so the poll loop keeps control."""
    from pymongo import MongoClient

    def check() -> None:
        with MongoClient(url, serverSelectionTimeoutMS=1000, connectTimeoutMS=1000, directConnection=True) as client:
            client.admin.command("ping")

    return check


def http_ok(url: str) -> Callable[[], None]:
    """One GET that must answer 2xx."""

    def check() -> None:
        with urllib.request.urlopen(url, timeout=2) as response:
            if not 200 <= response.status < 300:
                raise OSError(f"HTTP {response.status}")

    return check


def wait(check: Callable[[], None], what: str, timeout: float, watch_pid: int | None) -> int:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if not process_alive(watch_pid):
            print(f"probe: {what}: the process (pid {watch_pid}) exited before answering", file=sys.stderr)
            return 1
        try:
            check()
            return 0
        except Exception as error:  # any failure means "not yet"
            last_error = error
            time.sleep(0.2)
    print(f"probe: {what} did not answer within {timeout:g}s (last error: {last_error!r})", file=sys.stderr)
    return 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["mongo", "http"])
    parser.add_argument("url")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--watch-pid", type=int, default=None)
    args = parser.parse_args()
    probe = mongo_ping(args.url) if args.kind == "mongo" else http_ok(args.url)
    sys.exit(wait(probe, f"{args.kind} {args.url}", args.timeout, args.watch_pid))
