"""Who is calling: owner tokens, the calling-organisation dependency, and the internal service token."""

from __future__ import annotations

import hashlib
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from cx_kit.http import install_problem_handlers
from cx_kit.ownership import (
    CallingOrganisation,
    NewRecordOwner,
    calling_organisation,
    creating_organisation,
    internal_service,
    issue_owner_credential,
    optional_calling_organisation,
)
from cx_kit.settings import ServiceSettings

pytestmark = pytest.mark.unit

INTERNAL = "a-real-internal-secret-for-this-test"


def _client() -> TestClient:
    app = FastAPI()
    install_problem_handlers(app)
    settings = ServiceSettings(environment="test", internal_token=SecretStr(INTERNAL))

    @app.get("/mine")
    async def mine(caller: Annotated[CallingOrganisation, Depends(calling_organisation)]) -> dict[str, str]:
        return {"id": caller.id}

    @app.get("/public")
    async def public(caller: Annotated[CallingOrganisation | None, Depends(optional_calling_organisation)]) -> dict:
        return {"id": caller.id if caller else None}

    @app.post("/records")
    async def create(owner: Annotated[NewRecordOwner, Depends(creating_organisation)]) -> dict:
        return {"id": owner.organisation.id, "token": owner.owner_token}

    @app.get("/internal", dependencies=[Depends(internal_service(settings))])
    async def internal() -> dict[str, str]:
        return {"ok": "yes"}

    return TestClient(app)


def test_an_owner_token_is_long_random_url_safe_text_and_only_its_hash_names_the_owner():
    first, second = issue_owner_credential(), issue_owner_credential()
    assert first.token != second.token
    assert len(first.token) >= 43 and all(c.isalnum() or c in "-_" for c in first.token)
    assert first.organisation.id == hashlib.sha256(first.token.encode()).hexdigest()
    assert first.token not in first.organisation.id


def test_the_token_issued_at_creation_identifies_its_holder_on_later_requests():
    client = _client()
    created = client.post("/records").json()
    mine = client.get("/mine", headers={"Authorization": f"Bearer {created['token']}"})
    assert mine.status_code == 200 and mine.json()["id"] == created["id"]


@pytest.mark.parametrize(
    ("authorization", "error"),
    [
        (None, None),
        ("Bearer", "invalid_request"),
        ("Basic dXNlcjpwYXNz", "invalid_request"),
        ("Bearer short", "invalid_token"),
        ('Bearer {"$gt":""}' + "x" * 40, "invalid_token"),
        ("Bearer " + "a" * 42, "invalid_token"),
    ],
)
def test_a_missing_or_malformed_credential_is_a_401_with_a_bearer_challenge(authorization, error):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = _client().get("/mine", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="clusterxchange"')
    assert (f'error="{error}"' in challenge) if error else ("error=" not in challenge)


def test_an_anonymous_request_to_a_public_route_has_no_caller_but_a_bad_credential_is_still_refused():
    client = _client()
    assert client.get("/public").json() == {"id": None}
    assert client.get("/public", headers={"Authorization": "Bearer nope"}).status_code == 401


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-secret", f"Bearer {INTERNAL}x", f"Basic {INTERNAL}"])
def test_the_internal_route_refuses_anyone_without_the_internal_token(authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = _client().get("/internal", headers=headers)
    assert response.status_code == 401
    assert "Bearer" in response.headers["www-authenticate"]


def test_the_internal_route_admits_the_internal_token_and_not_an_owner_token():
    client = _client()
    assert client.get("/internal", headers={"Authorization": f"Bearer {INTERNAL}"}).json() == {"ok": "yes"}
    owner_token = client.post("/records").json()["token"]
    assert client.get("/internal", headers={"Authorization": f"Bearer {owner_token}"}).status_code == 401
