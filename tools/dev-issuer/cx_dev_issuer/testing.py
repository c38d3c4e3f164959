"""A pytest plugin (`pytest_plugins`): the real development issuer, started once per test session.

`dev_issuer` runs `python -m cx_dev_issuer` on a free loopback port with a key file of the session's own,
and signs tokens with that key, so a service under test verifies them against the running issuer's JWKS.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from cx_dev_issuer.identities import DevIdentity, access_token
from cx_dev_issuer.keys import SigningKey, signing_key
from cx_dev_issuer.settings import DEFAULT_AUDIENCE

START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class RunningIssuer:
    """A development issuer process: its URL (the `iss`), and the key it signs with."""

    url: str
    key_file: Path

    @property
    def key(self) -> SigningKey:
        """The issuer's signing key."""
        return signing_key(self.key_file)

    def token(
        self,
        organisation_name: str,
        *,
        email: str | None = None,
        role: str = "member",
        partnership: str | None = None,
        email_verified: bool = True,
        audience: str = DEFAULT_AUDIENCE,
        issuer: str | None = None,
        lifetime_s: int = 3600,
        issued_at: int | None = None,
    ) -> str:
        """An access token of the issuer for this person (as `cx-dev-token` makes it)."""
        identity = DevIdentity.of(
            organisation_name, email=email, role=role, partnership=partnership, email_verified=email_verified
        )
        return access_token(
            self.key,
            identity,
            issuer=issuer or self.url,
            audience=audience,
            lifetime_s=lifetime_s,
            issued_at=issued_at,
        )

    def bearer(self, organisation_name: str, **claims: Any) -> dict[str, str]:
        """The Authorization header of `token(organisation_name, **claims)`."""
        return {"Authorization": f"Bearer {self.token(organisation_name, **claims)}"}


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_issuer(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = START_TIMEOUT_S) -> None:
    """Wait until the issuer serves its discovery document; fail with its log if it exits or never answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the development issuer exited with {process.returncode}: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/.well-known/openid-configuration", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the development issuer did not answer within {timeout}s: {log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def dev_issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningIssuer]:
    """The development issuer, run as its own process for the session, on a free port and a key of its own."""
    folder = tmp_path_factory.mktemp("dev-issuer")
    port = free_port()
    issuer = RunningIssuer(url=f"http://127.0.0.1:{port}", key_file=folder / "signing-key.pem")
    env = {**os.environ, "CX_DEV_ISSUER_PORT": str(port), "CX_DEV_ISSUER_KEY_FILE": str(issuer.key_file)}
    env.pop("CX_DEV_ISSUER_URL", None)
    log = folder / "dev-issuer.log"
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "cx_dev_issuer"], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        wait_for_issuer(issuer.url, process, log)
        yield issuer
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
