"""Who is calling: bearer tokens checked (signature, issuer, audience, expiry, claims), the caller they describe,
what each caller may read, the contact a caller may set, and the internal service token.

Keys are made in the test; the tokens are signed here with PyJWT, as an issuer would sign them.
"""

# No `from __future__ import annotations`: the routes below name dependencies made in `_client`.

import base64
import json
import time
from typing import Annotated, Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import Body, Depends, FastAPI
from fastapi.testclient import TestClient
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from pydantic import SecretStr

from cx_kit.aggregates import AggregateRecord
from cx_kit.http import install_problem_handlers
from cx_kit.ownership import (
    Caller,
    Ownership,
    Role,
    View,
    contact_for,
    internal_service,
    read_view,
)
from cx_kit.settings import ServiceSettings
from cx_kit.tokens import IssuerUnreachable, TokenRefused, TokenVerifier

pytestmark = pytest.mark.unit

ISSUER = "https://issuer.test/realms/clusterxchange"
AUDIENCE = "clusterxchange"
INTERNAL = "a-real-internal-secret-for-this-test"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class StaticKeys:
    """The issuer's JWKS held in memory: the RSA key as `rsa-1`, the EC key as `ec-1`."""

    def __init__(self, *, reachable: bool = True) -> None:
        self.reachable = reachable
        self.keys = {
            "rsa-1": jwt.PyJWK({**RSAAlgorithm.to_jwk(RSA_KEY.public_key(), as_dict=True), "kid": "rsa-1"}),
            "ec-1": jwt.PyJWK({**ECAlgorithm.to_jwk(EC_KEY.public_key(), as_dict=True), "kid": "ec-1"}),
        }

    def key_for(self, kid: str) -> jwt.PyJWK:
        if not self.reachable:
            raise IssuerUnreachable("connection refused")
        if kid not in self.keys:
            raise TokenRefused("No key of the issuer signed this token.")
        return self.keys[kid]


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values = {
        "iss": ISSUER,
        "aud": [AUDIENCE, "account"],
        "iat": now,
        "exp": now + 300,
        "sub": "person-1",
        "organisation": "nordwest-agrifood",
        "organisation_name": "NordWest AgriFood",
        "email": "anna@nordwest-agrifood.example",
        "email_verified": True,
    }
    values.update(overrides)
    return {name: value for name, value in values.items() if value is not None}


def token(*, key: Any = RSA_KEY, algorithm: str = "RS256", kid: str | None = "rsa-1", **overrides: Any) -> str:
    headers = {} if kid is None else {"kid": kid}
    return jwt.encode(claims(**overrides), key, algorithm=algorithm, headers=headers)


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _client(*, reachable: bool = True, internal: str = INTERNAL) -> TestClient:
    app = FastAPI()
    install_problem_handlers(app)
    ownership = Ownership(TokenVerifier(StaticKeys(reachable=reachable), issuer=ISSUER, audience=AUDIENCE))
    settings = ServiceSettings(environment="test", internal_token=SecretStr(internal))

    @app.get("/mine")
    async def mine(caller: Annotated[Caller, Depends(ownership.caller)]) -> dict[str, Any]:
        return {"organisation": caller.organisation, "role": caller.role, "email": caller.verified_email}

    @app.get("/public")
    async def public(caller: Annotated[Caller | None, Depends(ownership.optional_caller)]) -> dict[str, Any]:
        return {"organisation": caller.organisation if caller else None}

    @app.post("/records")
    async def create(
        caller: Annotated[Caller, Depends(ownership.creator)], contact: Annotated[dict[str, Any], Body()]
    ) -> dict[str, Any]:
        return {"owner": caller.organisation, "contact": contact_for(caller, contact)}

    @app.get("/internal", dependencies=[Depends(internal_service(settings))])
    async def internal() -> dict[str, str]:
        return {"ok": "yes"}

    return TestClient(app)


def _refused(response: Any, error: str | None = "invalid_token") -> dict[str, Any]:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    challenge = 'Bearer realm="clusterxchange"' + (f', error="{error}"' if error else "")
    assert response.headers["www-authenticate"] == challenge
    body: dict[str, Any] = response.json()
    assert body["status"] == 401 and body["title"] == "Unauthorized"
    return body


def test_a_genuine_token_names_the_organisation_its_role_and_the_verified_email() -> None:
    response = _client().get("/mine", headers=bearer(token()))
    assert response.json() == {
        "organisation": "nordwest-agrifood",
        "role": "member",
        "email": "anna@nordwest-agrifood.example",
    }


def test_an_es256_token_of_the_issuer_is_accepted_too() -> None:
    signed = token(key=EC_KEY, algorithm="ES256", kid="ec-1")
    assert _client().get("/mine", headers=bearer(signed)).status_code == 200


def test_a_token_signed_by_another_key_under_the_issuers_kid_is_refused() -> None:
    body = _refused(_client().get("/mine", headers=bearer(token(key=OTHER_KEY))))
    assert "signature" in body["detail"]


def test_a_token_naming_a_key_the_issuer_does_not_have_is_refused() -> None:
    _refused(_client().get("/mine", headers=bearer(token(kid="rsa-2"))))
    _refused(_client().get("/mine", headers=bearer(token(kid=None))))


def test_a_token_of_another_issuer_is_refused() -> None:
    body = _refused(_client().get("/mine", headers=bearer(token(iss="https://elsewhere.test/realms/clusterxchange"))))
    assert "issuer" in body["detail"]


@pytest.mark.parametrize("audience", ["account", ["account", "other"], "clusterxchange-staging"])
def test_a_token_for_another_audience_is_refused(audience: Any) -> None:
    body = _refused(_client().get("/mine", headers=bearer(token(aud=audience))))
    assert "aud" in body["detail"]


def test_a_token_expired_beyond_the_leeway_is_refused_and_within_it_accepted() -> None:
    now = int(time.time())
    body = _refused(_client().get("/mine", headers=bearer(token(iat=now - 600, exp=now - 61))))
    assert "expired" in body["detail"]
    assert _client().get("/mine", headers=bearer(token(iat=now - 600, exp=now - 30))).status_code == 200


@pytest.mark.parametrize("claim", ["iss", "aud", "exp", "iat", "sub"])
def test_a_token_without_a_required_claim_is_refused(claim: str) -> None:
    body = _refused(_client().get("/mine", headers=bearer(token(**{claim: None}))))
    assert claim in body["detail"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"organisation": None},
        {"organisation": ""},
        {"organisation": "o" * 121},
        {"organisation": 42},
        {"role": "admin"},
        {"role": "manager"},
        {"role": "manager", "partnership": 7},
        {"sub": ""},
    ],
    ids=[
        "no-organisation",
        "empty",
        "too-long",
        "number",
        "unknown-role",
        "manager-without-partnership",
        "partnership-number",
        "empty-sub",
    ],
)
def test_a_token_whose_claims_describe_no_caller_is_refused(overrides: dict[str, Any]) -> None:
    _refused(_client().get("/mine", headers=bearer(token(**overrides))))


def test_an_unsigned_token_and_one_signed_hs256_with_the_public_key_are_refused() -> None:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": "rsa-1"}).encode())
    unsigned = f"{header}.{_b64(json.dumps(claims()).encode())}."
    public_pem = RSA_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}).encode())
    body = _b64(json.dumps(claims()).encode())
    import hashlib
    import hmac

    mac = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    confused = f"{header}.{body}.{_b64(mac)}"
    for forged in (unsigned, confused):
        refusal = _refused(_client().get("/mine", headers=bearer(forged)))
        assert "RS256 or ES256" in refusal["detail"]


@pytest.mark.parametrize(
    ("authorization", "error"),
    [
        ("Bearer", "invalid_request"),
        ("Basic dXNlcjpwYXNz", "invalid_request"),
        ("Bearer not-a-jwt", "invalid_token"),
        ("Bearer a.b.c", "invalid_token"),
        ('Bearer {"$gt":""}', "invalid_token"),
        ("Bearer " + "x" * 9000, "invalid_token"),
    ],
)
def test_a_malformed_authorization_header_is_a_401_saying_which(authorization: str, error: str) -> None:
    _refused(_client().get("/mine", headers={"Authorization": authorization}), error)


def test_no_token_on_a_private_route_is_a_401_challenge_without_an_error_code() -> None:
    _refused(_client().get("/mine"), None)


def test_an_anonymous_request_to_a_public_route_has_no_caller_but_a_bad_token_is_still_refused() -> None:
    client = _client()
    assert client.get("/public").json() == {"organisation": None}
    assert client.get("/public", headers=bearer(token())).json() == {"organisation": "nordwest-agrifood"}
    _refused(client.get("/public", headers=bearer(token(key=OTHER_KEY))))


def test_while_the_issuer_cannot_be_reached_a_token_is_a_503_to_retry_not_a_401() -> None:
    response = _client(reachable=False).get("/mine", headers=bearer(token()))
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert response.headers["content-type"] == "application/problem+json"


def test_a_manager_and_a_sign_in_without_a_verified_email_create_nothing() -> None:
    client = _client()
    contact = {"name": "Anna"}
    manager = client.post("/records", json=contact, headers=bearer(token(role="manager", partnership="escp-4x-01")))
    unverified = client.post("/records", json=contact, headers=bearer(token(email_verified=False)))
    verified_as_text = client.post("/records", json=contact, headers=bearer(token(email_verified="true")))
    without_email = client.post("/records", json=contact, headers=bearer(token(email=None)))
    for refused in (manager, unverified, verified_as_text, without_email):
        assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    assert client.post("/records", json=contact).status_code == 401


def test_the_contact_is_the_signed_in_address_left_out_given_in_any_case_or_refused_naming_the_field() -> None:
    client = _client()
    signed_in = bearer(token())
    left_out = client.post("/records", json={"name": "Anna"}, headers=signed_in)
    any_case = client.post(
        "/records", json={"name": "Anna", "email": "ANNA@NordWest-AgriFood.example"}, headers=signed_in
    )
    for response in (left_out, any_case):
        assert response.json() == {
            "owner": "nordwest-agrifood",
            "contact": {"name": "Anna", "email": "anna@nordwest-agrifood.example"},
        }
    other = client.post("/records", json={"name": "Anna", "email": "victim@elsewhere.example"}, headers=signed_in)
    assert other.status_code == 422
    [error] = other.json()["errors"]
    assert error["field"] == "contact.email" and error["message"] == "Must be the address you signed in with"


def _record(owner: str = "nordwest-agrifood", partnership: str | None = "escp-4x-01") -> AggregateRecord:
    from cx_kit.service_testing import stored_record

    record = stored_record({"organisation": {}, "contact": {}, "answers": {}})
    return AggregateRecord(**{**record.__dict__, "owner": owner, "partnership": partnership})


MEMBER = Caller(subject="s", organisation="nordwest-agrifood")
STRANGER = Caller(subject="s", organisation="piedmont-mobility")
MANAGER = Caller(subject="m", organisation="escp-office", role=Role.MANAGER, partnership="escp-4x-01")
OUTSIDER = Caller(subject="m", organisation="escp-office", role=Role.MANAGER, partnership="escp-4x-02")


@pytest.mark.parametrize(
    ("caller", "public", "view"),
    [
        (MEMBER, False, View.OWNER),
        (MEMBER, True, View.OWNER),
        (STRANGER, False, None),
        (STRANGER, True, View.PUBLIC),
        (None, False, None),
        (None, True, View.PUBLIC),
        (MANAGER, False, View.OWNER),
        (OUTSIDER, False, None),
        (OUTSIDER, True, View.PUBLIC),
        (
            Caller(subject="m", organisation="nordwest-agrifood", role=Role.MANAGER, partnership="escp-4x-09"),
            False,
            None,
        ),
    ],
    ids=[
        "owner",
        "owner-public",
        "stranger",
        "stranger-public",
        "anonymous",
        "anonymous-public",
        "manager",
        "manager-elsewhere",
        "manager-elsewhere-public",
        "manager-of-the-owning-organisation-elsewhere",
    ],
)
def test_who_reads_a_record_in_which_view(caller: Caller | None, public: bool, view: View | None) -> None:
    assert read_view(caller, _record(), public=public) is view


def test_a_record_naming_no_partnership_is_read_by_no_manager() -> None:
    assert read_view(MANAGER, _record(partnership=None), public=False) is None


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-secret", f"Bearer {INTERNAL}x", f"Basic {INTERNAL}"])
def test_the_internal_route_refuses_anyone_without_the_internal_token(authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = _client().get("/internal", headers=headers)
    assert response.status_code == 401
    assert "Bearer" in response.headers["www-authenticate"]


@pytest.mark.parametrize("authorization", [None, "Bearer ", "Bearer x", "Basic "])
def test_without_a_configured_internal_token_the_internal_route_admits_nobody(authorization: str | None) -> None:
    # The defect this guards: an unset token compared equal to a missing credential (empty with empty).
    headers = {} if authorization is None else {"Authorization": authorization}
    response = _client(internal="").get("/internal", headers=headers)
    assert response.status_code == 401
    assert "Bearer" in response.headers["www-authenticate"]


def test_the_internal_route_admits_the_internal_token_and_not_a_persons_token() -> None:
    client = _client()
    assert client.get("/internal", headers=bearer(INTERNAL)).json() == {"ok": "yes"}
    assert client.get("/internal", headers=bearer(token())).status_code == 401
