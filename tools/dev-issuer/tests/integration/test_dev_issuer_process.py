"""The development issuer as the services and the pages meet it: a real process on loopback, its discovery
document and keys, the sign-in form and the authorisation-code flow with PKCE, and `cx-dev-token`."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from cx_dev_issuer.authorisation import challenge_of
from cx_dev_issuer.testing import RunningIssuer

pytestmark = pytest.mark.integration

REDIRECT = "http://127.0.0.1:8080/signed-in"


class _Fields(HTMLParser):
    # The form's fields as a browser would submit them untouched: hidden inputs, text inputs, selected options.
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.labels: set[str] = set()
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "input":
            self.fields[values["name"]] = values.get("value", "")
        elif tag == "select":
            self._select = values["name"]
            self.fields.setdefault(values["name"], "")
        elif tag == "option" and self._select and "selected" in values:
            self.fields[self._select] = values.get("value", "")
        elif tag == "label":
            self.labels.add(values["for"])


def _form(page: str) -> _Fields:
    parsed = _Fields()
    parsed.feed(page)
    return parsed


def _sign_in_request(verifier: str, **overrides: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": "cx-web",
        "redirect_uri": REDIRECT,
        "scope": "openid email profile",
        "state": "state-1",
        "nonce": "nonce-1",
        "code_challenge": challenge_of(verifier),
        "code_challenge_method": "S256",
        **overrides,
    }


def _verified(issuer: RunningIssuer, token: str, audience: str) -> dict:
    keys = jwt.PyJWKClient(f"{issuer.url}/jwks.json")
    return jwt.decode(
        token, keys.get_signing_key_from_jwt(token), algorithms=["RS256"], audience=audience, issuer=issuer.url
    )


async def test_the_discovery_document_names_the_issuer_and_its_endpoints_and_the_keys_verify_its_tokens(
    dev_issuer: RunningIssuer,
) -> None:
    async with httpx.AsyncClient(base_url=dev_issuer.url) as client:
        document = (await client.get("/.well-known/openid-configuration")).json()
        keys = (await client.get(document["jwks_uri"])).json()["keys"]
    assert document["issuer"] == dev_issuer.url
    assert document["token_endpoint"] == f"{dev_issuer.url}/token"
    assert document["authorization_endpoint"] == f"{dev_issuer.url}/authorize"
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert [key["kid"] for key in keys] == [dev_issuer.key.kid] and "d" not in keys[0], "only the public key"
    claims = _verified(dev_issuer, dev_issuer.token("Test Cluster"), "clusterxchange")
    assert claims["organisation"] == "test-cluster"


async def test_a_person_signs_in_on_the_form_and_the_client_redeems_the_code_once_for_its_tokens(
    dev_issuer: RunningIssuer,
) -> None:
    verifier = secrets.token_urlsafe(48)
    async with httpx.AsyncClient(base_url=dev_issuer.url) as client:
        page = await client.get("/authorize", params=_sign_in_request(verifier))
        assert page.status_code == 200 and "Development sign-in" in page.text
        form = _form(page.text)
        assert {"organisation", "email", "role", "partnership"} <= form.labels, "every field has its label"
        submitted = {**form.fields, "organisation": "Test Cluster", "email": "anna@test-cluster.example"}
        answer = await client.post("/authorize", data=submitted)
        assert answer.status_code == 303
        location = urlsplit(answer.headers["location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
        query = parse_qs(location.query)
        assert query["state"] == ["state-1"]
        exchange = {
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": REDIRECT,
            "client_id": "cx-web",
            "code_verifier": verifier,
        }
        tokens = await client.post("/token", data=exchange)
        again = await client.post("/token", data=exchange)
    assert tokens.status_code == 200 and tokens.headers["cache-control"] == "no-store"
    body = tokens.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    access = _verified(dev_issuer, body["access_token"], "clusterxchange")
    assert access["organisation"] == "test-cluster" and access["email"] == "anna@test-cluster.example"
    assert access["email_verified"] is True and access["role"] == "member"
    identity = _verified(dev_issuer, body["id_token"], "cx-web")
    assert identity["nonce"] == "nonce-1" and identity["sub"] == access["sub"]
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant", "a code is used once"


async def test_a_manager_signs_in_for_its_partnership(dev_issuer: RunningIssuer) -> None:
    verifier = secrets.token_urlsafe(48)
    async with httpx.AsyncClient(base_url=dev_issuer.url) as client:
        form = _form((await client.get("/authorize", params=_sign_in_request(verifier))).text)
        fields = {**form.fields, "organisation": "ESCP office", "role": "manager", "partnership": "escp-4x-05"}
        code = parse_qs(urlsplit((await client.post("/authorize", data=fields)).headers["location"]).query)["code"]
        tokens = await client.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": code[0],
                "redirect_uri": REDIRECT,
                "client_id": "cx-web",
                "code_verifier": verifier,
            },
        )
    access = _verified(dev_issuer, tokens.json()["access_token"], "clusterxchange")
    assert access["role"] == "manager" and access["partnership"] == "escp-4x-05"


async def test_a_wrong_form_is_shown_again_with_the_error_beside_its_field(dev_issuer: RunningIssuer) -> None:
    async with httpx.AsyncClient(base_url=dev_issuer.url) as client:
        form = _form((await client.get("/authorize", params=_sign_in_request(secrets.token_urlsafe(48)))).text)
        answer = await client.post("/authorize", data={**form.fields, "organisation": "X", "role": "manager"})
    assert answer.status_code == 400
    assert 'aria-describedby="partnership-error"' in answer.text and 'id="partnership-error"' in answer.text


async def test_a_request_that_cannot_be_answered_safely_gets_the_issuers_page_or_an_error_redirect(
    dev_issuer: RunningIssuer,
) -> None:
    verifier = secrets.token_urlsafe(48)
    async with httpx.AsyncClient(base_url=dev_issuer.url) as client:
        elsewhere = await client.get("/authorize", params=_sign_in_request(verifier, redirect_uri="https://x.example/"))
        no_pkce = await client.get("/authorize", params=_sign_in_request(verifier, code_challenge_method="plain"))
        wrong_verifier = await client.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": "unknown",
                "redirect_uri": REDIRECT,
                "client_id": "cx-web",
                "code_verifier": verifier,
            },
        )
        password = await client.post("/token", data={"grant_type": "password", "username": "a", "password": "b"})
    assert elsewhere.status_code == 400 and "location" not in elsewhere.headers
    assert no_pkce.status_code == 303
    assert parse_qs(urlsplit(no_pkce.headers["location"]).query)["error"] == ["invalid_request"]
    assert wrong_verifier.json()["error"] == "invalid_grant"
    assert password.json()["error"] == "unsupported_grant_type"


def test_cx_dev_token_prints_a_token_the_running_issuer_verifies(dev_issuer: RunningIssuer) -> None:
    env = {**os.environ, "CX_DEV_ISSUER_KEY_FILE": str(dev_issuer.key_file), "CX_DEV_ISSUER_URL": dev_issuer.url}
    command = [sys.executable, "-m", "cx_dev_issuer.command_line"]
    printed = subprocess.run(
        [*command, "--organisation", "Test Cluster", "--role", "manager", "--partnership", "escp-4x-01"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    token = printed.stdout.strip()
    assert re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+", token)
    claims = _verified(dev_issuer, token, "clusterxchange")
    assert claims["organisation"] == "test-cluster" and claims["email"] == "contact@test-cluster.example"
    assert claims["role"] == "manager" and claims["partnership"] == "escp-4x-01"
    refused = subprocess.run([*command, "--organisation", "A", "--role", "manager"], env=env, capture_output=True)
    assert refused.returncode == 2 and b"--partnership" in refused.stderr
