"""The access matrix: every route of the catalogue and the applications service, as read from their OpenAPI
documents, called by every kind of caller, on the real apps with tokens of the real development issuer.

A record of organisation A (partnership P) is created on each service. Then, for each route that takes a record
id: another organisation and a manager of another partnership get 404 (a public read: the public view), a
manager of P reads (200) and changes nothing (403), no token is a 401 (a public read: the public view), and
every kind of bad token is a 401 problem. Routes without an id: creating and listing need a token, a manager
creates nothing, a list shows only the caller's records. No public route shows a contact field or the contact's
e-mail address. The routes come from the documents, so a route added later is checked without being listed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from cx_contracts.examples import application_payload, host_entry_payload
from cx_contracts.topics import HOST_ANSWERS, MATCH_FOUND, VISITOR_ANSWERS
from cx_kit.service_testing import RunningService, TokenIssuer, bearer, created, own_service, signed_in
from cx_kit.testing import Infrastructure

from cx_applications.app import create_app as create_applications
from cx_applications.settings import Settings as ApplicationsSettings
from cx_catalogue.app import create_app as create_catalogue
from cx_catalogue.settings import Settings as CatalogueSettings

pytestmark = pytest.mark.integration

NOT_PEOPLES = ("/internal/", "/healthz", "/readyz", "/metrics")
WRITES = {"post", "put", "patch", "delete"}
CHALLENGE = 'Bearer realm="clusterxchange"'
OUTSIDE = "escp-4x-13"
# A valid body for each request document a route takes (by its schema's name), so that a refusal is about who
# calls, never about the body. A route taking a document not named here fails, asking for one.
BODIES: dict[str, Callable[[], dict[str, Any]]] = {
    "HostEntryCreate": lambda: host_entry_payload(0),
    "HostEntryUpdate": lambda: {"answers": host_entry_payload(1)["answers"]},
    "ApplicationCreate": lambda: application_payload(0),
    "ApplicationUpdate": lambda: {"answers": application_payload(1)["answers"]},
}


@dataclass(frozen=True)
class Service:
    """One service of the matrix: how it is made, and which example it holds a record of."""

    name: str
    create_app: Callable[[Any], Any]
    settings_type: type[Any]
    topics: tuple[str, ...]
    payload: Callable[..., dict[str, Any]]
    create_path: str
    id_field: str


SERVICES = {
    "catalogue": Service(
        "catalogue",
        create_catalogue,
        CatalogueSettings,
        (HOST_ANSWERS,),
        host_entry_payload,
        "/api/catalogue/hosts",
        "host_id",
    ),
    "applications": Service(
        "applications",
        create_applications,
        ApplicationsSettings,
        (VISITOR_ANSWERS, MATCH_FOUND),
        application_payload,
        "/api/applications",
        "application_id",
    ),
}


@dataclass(frozen=True)
class Route:
    """One operation of a service's OpenAPI document."""

    service: str
    method: str
    path: str
    operation: dict[str, Any]

    @property
    def record_ids(self) -> list[str]:
        """The path parameters that name a record (a UUID)."""
        return [
            parameter["name"]
            for parameter in self.operation.get("parameters", [])
            if parameter["in"] == "path" and parameter["schema"].get("format") == "uuid"
        ]

    @property
    def reads_tokens(self) -> bool:
        """Whether the route declares the sign-in scheme (and so must refuse a bad token)."""
        return any("SignIn" in requirement for requirement in self.operation.get("security", []))

    @property
    def public(self) -> bool:
        """Whether the route answers without a token: it declares no security, or an empty requirement."""
        security = self.operation.get("security")
        return not security or {} in security

    @property
    def body_schema(self) -> str | None:
        """The name of the request document, if the route takes one."""
        content = self.operation.get("requestBody", {}).get("content", {}).get("application/json")
        return None if content is None else content["schema"]["$ref"].rsplit("/", 1)[-1]

    def __str__(self) -> str:
        return f"{self.service} {self.method.upper()} {self.path}"


def documented_routes() -> list[Route]:
    """Every operation people call on the two services, from each service's OpenAPI document."""
    routes = []
    for name, service in SERVICES.items():
        document = service.create_app(service.settings_type(environment="test")).openapi()
        for path, operations in document["paths"].items():
            if path.startswith(NOT_PEOPLES):
                continue
            routes += [Route(name, method, path, operation) for method, operation in operations.items()]
    return routes


ROUTES = documented_routes()
RECORD_ROUTES = [route for route in ROUTES if route.record_ids]
OTHER_ROUTES = [route for route in ROUTES if not route.record_ids]


@dataclass(frozen=True)
class Held:
    """A running service, the record organisation A holds on it, and the callers of the matrix."""

    service: RunningService
    spec: Service
    record_id: str
    owner: dict[str, str]
    contact: dict[str, str]
    partnership: str


@pytest.fixture(scope="module")
async def held(infrastructure: Infrastructure, dev_issuer: TokenIssuer) -> AsyncIterator[dict[str, Held]]:
    """Both services, each holding one record of organisation A."""
    running: dict[str, Held] = {}
    contexts = []
    try:
        for name, spec in SERVICES.items():
            context = own_service(spec.settings_type, spec.create_app, infrastructure, spec.topics, issuer=dev_issuer)
            contexts.append(context)
            service = await context.__aenter__()
            body = spec.payload(0)
            owner = signed_in(dev_issuer, body)
            record = await created(service.client, spec.create_path, body, owner)
            running[name] = Held(service, spec, record[spec.id_field], owner, body["contact"], body["partnership"])
        yield running
    finally:
        for context in reversed(contexts):
            await context.__aexit__(None, None, None)


def bad_tokens(issuer: TokenIssuer, key_file: Any) -> dict[str, str]:
    """Every kind of token a service must refuse, each otherwise that of organisation A."""
    from cx_dev_issuer.keys import signing_key

    key = signing_key(key_file)
    name, email = host_entry_payload(0)["organisation"]["name"], host_entry_payload(0)["contact"]["email"]
    genuine = jwt.decode(issuer.token(name, email=email), options={"verify_signature": False})
    stranger_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    without_organisation = {k: v for k, v in genuine.items() if k != "organisation"}
    now = int(time.time())

    def unsigned(header: dict[str, Any], claims: dict[str, Any], secret: bytes | None) -> str:
        def part(value: Any) -> str:
            return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

        signing_input = f"{part(header)}.{part(claims)}"
        mac = b"" if secret is None else hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"

    public_pem = key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "wrong-signature": jwt.encode(genuine, stranger_key, algorithm="RS256", headers={"kid": key.kid}),
        "unknown-key": jwt.encode(genuine, stranger_key, algorithm="RS256", headers={"kid": "not-the-issuers"}),
        "wrong-issuer": issuer.token(name, email=email, issuer="http://127.0.0.1:9/realms/elsewhere"),
        "wrong-audience": issuer.token(name, email=email, audience="another-platform"),
        "expired": issuer.token(name, email=email, issued_at=now - 7200, lifetime_s=3600),
        "missing-organisation": jwt.encode(without_organisation, key.private_key, "RS256", headers={"kid": key.kid}),
        "alg-none": unsigned({"alg": "none", "kid": key.kid}, genuine, None),
        "hs256-with-the-public-key": unsigned({"alg": "HS256", "kid": key.kid}, genuine, public_pem),
        "not-a-jwt": "not-a-jwt",
    }


@pytest.fixture(scope="module")
def refused_tokens(dev_issuer: Any) -> dict[str, str]:
    """The bad tokens, made once."""
    return bad_tokens(dev_issuer, dev_issuer.key_file)


async def call(held: Held, route: Route, headers: dict[str, str]) -> httpx.Response:
    """Call `route` on the held record with `headers` (a valid body and If-Match where it takes them)."""
    path = route.path
    for parameter in route.record_ids:
        path = path.replace(f"{{{parameter}}}", held.record_id)
    schema = route.body_schema
    if schema is not None and schema not in BODIES:
        pytest.fail(f"{route} takes {schema}: add a valid example body to BODIES")
    body = None if schema is None else BODIES[schema]()
    return await held.service.client.request(
        route.method.upper(), path, json=body, headers={**headers, "If-Match": '"1"'}
    )


def contact_fields(document: Any) -> list[str]:
    """Where a JSON document holds a `contact` member."""
    if isinstance(document, dict):
        return [key for key in document if key == "contact"] + [
            found for value in document.values() for found in contact_fields(value)
        ]
    if isinstance(document, list):
        return [found for value in document for found in contact_fields(value)]
    return []


def assert_no_contact(held: Held, response: httpx.Response) -> None:
    """A public answer: no contact member anywhere, and neither the contact's address nor name."""
    assert contact_fields(response.json()) == [], response.text
    assert held.contact["email"].casefold() not in response.text.casefold()
    assert held.contact["name"].casefold() not in response.text.casefold()


def assert_problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"


def manager(issuer: TokenIssuer, partnership: str) -> dict[str, str]:
    return bearer(issuer.token("Partnership office", role="manager", partnership=partnership))


def stranger(issuer: TokenIssuer) -> dict[str, str]:
    return signed_in(issuer, host_entry_payload(1))


@pytest.mark.parametrize("route", RECORD_ROUTES, ids=str)
async def test_a_record_route_answers_each_caller_as_the_rules_say(
    route: Route, held: dict[str, Held], dev_issuer: TokenIssuer
) -> None:
    record = held[route.service]
    public_read = route.public and route.method == "get"
    for who, headers in (
        ("another organisation", stranger(dev_issuer)),
        ("a manager elsewhere", manager(dev_issuer, OUTSIDE)),
    ):
        response = await call(record, route, headers)
        if public_read:
            assert response.status_code == 200, f"{who}: {response.text}"
            assert_no_contact(record, response)
        else:
            assert_problem(response, 404)
            assert record.contact["email"] not in response.text, who

    inside = await call(record, route, manager(dev_issuer, record.partnership))
    if route.method in WRITES:
        assert_problem(inside, 403)
    else:
        assert inside.status_code == 200, inside.text

    anonymous = await call(record, route, {})
    if route.public:
        assert anonymous.status_code == 200, anonymous.text
        assert_no_contact(record, anonymous)
    else:
        assert_problem(anonymous, 401)
        assert anonymous.headers["www-authenticate"] == CHALLENGE

    if route.method not in WRITES:
        assert (await call(record, route, record.owner)).status_code == 200, "the owner reads it"
    stored = await record.service.app.state.repository.get(record.record_id)
    assert stored is not None and stored.revision == 1, "no refused write changed the record"


@pytest.mark.parametrize("route", [route for route in ROUTES if route.reads_tokens], ids=str)
async def test_every_kind_of_bad_token_is_a_401_problem(
    route: Route, held: dict[str, Held], refused_tokens: dict[str, str]
) -> None:
    record = held[route.service]
    for kind, token in refused_tokens.items():
        response = await call(record, route, bearer(token))
        assert_problem(response, 401)
        assert response.headers["www-authenticate"] == f'{CHALLENGE}, error="invalid_token"', kind
    for malformed in ("Bearer", "Basic dXNlcjpwYXNz"):
        response = await call(record, route, {"Authorization": malformed})
        assert_problem(response, 401)
        assert response.headers["www-authenticate"] == f'{CHALLENGE}, error="invalid_request"'


@pytest.mark.parametrize("route", OTHER_ROUTES, ids=str)
async def test_a_route_without_a_record_id_needs_a_token_unless_public_and_shows_each_caller_only_its_own(
    route: Route, held: dict[str, Held], dev_issuer: TokenIssuer
) -> None:
    record = held[route.service]
    anonymous = await call(record, route, {})
    if route.public:
        assert anonymous.status_code == 200, anonymous.text
        assert_no_contact(record, anonymous)
        return
    assert_problem(anonymous, 401)
    assert anonymous.headers["www-authenticate"] == CHALLENGE
    if route.method in WRITES:
        assert_problem(await call(record, route, manager(dev_issuer, record.partnership)), 403)
        return
    for headers in (stranger(dev_issuer), manager(dev_issuer, OUTSIDE)):
        response = await call(record, route, headers)
        assert response.status_code == 200, response.text
        assert record.record_id not in response.text and record.contact["email"] not in response.text
    for headers in (record.owner, manager(dev_issuer, record.partnership)):
        response = await call(record, route, headers)
        assert response.status_code == 200 and record.record_id in response.text, response.text


def test_the_matrix_covers_the_routes_the_rules_are_about() -> None:
    described = {str(route) for route in ROUTES}
    assert {
        "catalogue GET /api/catalogue/hosts/{host_id}",
        "catalogue PUT /api/catalogue/hosts/{host_id}",
        "catalogue GET /api/catalogue/hosts",
        "catalogue GET /api/catalogue/entries",
        "applications GET /api/applications/{application_id}/matches",
        "applications DELETE /api/applications/{application_id}",
        "applications GET /api/applications",
    } <= described, "the documents are read, not a list"
