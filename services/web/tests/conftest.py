"""What the web service's tests share: an in-memory stand-in of the services' public API (unit tests only),
and a signed session cookie as sign-in leaves it."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from pydantic import BaseModel, ValidationError

from cx_contracts.api import ApplicationCreate, ApplicationUpdate, HostEntryCreate, HostEntryUpdate
from cx_kit.http import field_path

from cx_web.handlers import ApiAnswer, Service
from cx_web.settings import Settings

SESSION_SECRET = "a-session-secret-for-the-web-tests-only"
ROUTES: dict[str, tuple[str, str, type[BaseModel], type[BaseModel]]] = {
    "/api/catalogue/hosts": ("host_id", "/api/catalogue/entries", HostEntryCreate, HostEntryUpdate),
    "/api/applications": ("application_id", "/api/applications", ApplicationCreate, ApplicationUpdate),
}


@dataclass
class StoredRecord:
    """A record the stand-in holds."""

    owner: str
    document: dict[str, Any]
    revision: int = 1


@dataclass
class FakePlatformApi:
    """The catalogue and applications APIs in memory: validation by the contracts' own models, owners by token.

    A token here is the organisation's id itself; the real services verify signed tokens (integration tests).
    """

    records: dict[str, dict[str, StoredRecord]] = field(default_factory=lambda: {path: {} for path in ROUTES})
    matches: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str, str | None]] = field(default_factory=list)
    idempotency_keys: list[str | None] = field(default_factory=list)  # of every POST, in order

    async def call(
        self,
        service: Service,
        method: str,
        path: str,
        *,
        token: str | None = None,
        query: Sequence[tuple[str, str]] = (),
        document: Mapping[str, Any] | None = None,
        revision: int | None = None,
        idempotency_key: str | None = None,
    ) -> ApiAnswer:
        self.calls.append((method, path, token))
        if method == "POST":
            self.idempotency_keys.append(idempotency_key)
        if path == "/api/catalogue/hosts" and method == "GET":
            return self._catalogue(dict(query))
        for base, (id_field, list_path, create, update) in ROUTES.items():
            if method == "GET" and path == list_path and token:
                items = [self._view(base, i, r, token) for i, r in self.records[base].items() if r.owner == token]
                return ApiAnswer(200, {"items": items, "total": len(items), "page": 1, "page_size": 50})
            if path == base and method == "POST":
                if not token:
                    return ApiAnswer(401, {"detail": "sign in"})
                problem = _invalid(create, document)
                if problem:
                    return problem
                record_id = str(uuid.uuid4())
                self.records[base][record_id] = StoredRecord(token, dict(document or {}))
                return ApiAnswer(201, {id_field: record_id, "revision": 1}, 1)
            if path.startswith(base + "/"):
                record_id, _, rest = path.removeprefix(base + "/").partition("/")
                record = self.records[base].get(record_id)
                if rest == "matches":
                    found = self.matches.get(record_id, {"application_id": record_id, "status": "pending"})
                    return ApiAnswer(200, found) if record and record.owner == token else ApiAnswer(404)
                if record is None or (record.owner != token and (method != "GET" or base != "/api/catalogue/hosts")):
                    return ApiAnswer(404, {"detail": "No such record."})
                if method == "GET":
                    return ApiAnswer(200, self._view(base, record_id, record, token), record.revision)
                if revision != record.revision:
                    return ApiAnswer(412, {"detail": "stale", "current_revision": record.revision}, record.revision)
                if method == "DELETE":
                    del self.records[base][record_id]
                    return ApiAnswer(204, None, record.revision + 1)
                problem = _invalid(update, document)
                if problem:
                    return problem
                record.document = {**record.document, **(document or {})}
                record.revision += 1
                return ApiAnswer(200, self._view(base, record_id, record, token), record.revision)
        return ApiAnswer(404, {"detail": "no route"})

    def _view(self, base: str, record_id: str, record: StoredRecord, token: str | None) -> dict[str, Any]:
        view = {ROUTES[base][0]: record_id, "revision": record.revision, **record.document}
        if record.owner != token:
            view.pop("contact", None)
            view.pop("partnership", None)
        return view

    def _catalogue(self, query: dict[str, str]) -> ApiAnswer:
        if query.get("country", "DE") == "de":
            return ApiAnswer(422, {"errors": [{"field": "country[0]", "message": "Use upper case"}]})
        items = [
            self._view("/api/catalogue/hosts", i, r, None) for i, r in self.records["/api/catalogue/hosts"].items()
        ]
        page, size = int(query.get("page", 1)), int(query.get("page_size", 10))
        shown = items[(page - 1) * size : page * size]
        return ApiAnswer(200, {"items": shown, "total": len(items), "page": page, "page_size": size})

    def publish(self, owner: str, document: dict[str, Any]) -> str:
        """A host entry stored directly, as if `owner` had published it."""
        record_id = str(uuid.uuid4())
        self.records["/api/catalogue/hosts"][record_id] = StoredRecord(owner, document)
        return record_id

    def apply(self, owner: str, document: dict[str, Any]) -> str:
        """An application stored directly, as if `owner` had submitted it."""
        record_id = str(uuid.uuid4())
        self.records["/api/applications"][record_id] = StoredRecord(owner, document)
        return record_id

    async def close(self) -> None:
        pass

    async def reachable(self, service: Service) -> bool:
        return True


def _invalid(model: type[BaseModel], document: Mapping[str, Any] | None) -> ApiAnswer | None:
    try:
        model.model_validate(document)
    except ValidationError as error:
        errors = [{"field": field_path(e["loc"]), "message": e["msg"], "type": e["type"]} for e in error.errors()]
        return ApiAnswer(422, {"detail": "Invalid input", "errors": errors})
    return None


def session_cookie(data: dict[str, Any], secret: str = SESSION_SECRET) -> str:
    """The session cookie Starlette's SessionMiddleware would set for `data`."""
    return TimestampSigner(secret).sign(base64.b64encode(json.dumps(data).encode())).decode()


def signed_in_as(organisation: str, *, role: str = "member", partnership: str | None = None) -> dict[str, Any]:
    """A session as a completed sign-in leaves it; the stand-in API takes the organisation id as the token."""
    person = {
        "subject": f"dev:{organisation}",
        "organisation": organisation,
        "organisation_name": organisation.replace("-", " ").title(),
        "email": f"contact@{organisation}.example",
        "role": role,
        "partnership": partnership,
    }
    return {"person": person, "access_token": organisation, "expires_at": time.time() + 3600, "csrf": "csrf-of-test"}


@pytest.fixture
def web_settings() -> Settings:
    """Settings of a web service under test."""
    return Settings(environment="test", session_secret=SESSION_SECRET, log_json=False)


@pytest.fixture
def api() -> FakePlatformApi:
    """The services' public API in memory."""
    return FakePlatformApi()


@pytest.fixture
def browser(web_settings: Settings, api: FakePlatformApi) -> Iterator[TestClient]:
    """The pages on the in-memory API, asked as a browser at the gateway's address would."""
    from cx_web.app import create_app

    app = create_app(web_settings, api=api)  # type: ignore[arg-type]
    with TestClient(app, base_url="http://127.0.0.1:8080", follow_redirects=False) as client:
        yield client


@pytest.fixture
def sign_in() -> Callable[..., None]:
    """Sign a test client in as an organisation (as a completed sign-in leaves the session cookie)."""
    from cx_web.entrypoints.session import SESSION_COOKIE

    def as_organisation(client: TestClient, organisation: str, **kwargs: Any) -> None:
        client.cookies.set(SESSION_COOKIE, session_cookie(signed_in_as(organisation, **kwargs)))

    return as_organisation
