"""The web pages on the real services: the catalogue and applications apps (real Kafka and FerretDB), the
real development issuer, and sign-in through its authorisation-code flow with PKCE, without a browser."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from asgi_lifespan import LifespanManager

from cx_contracts import examples
from cx_contracts.topics import HOST_ANSWERS, MATCH_FOUND, VISITOR_ANSWERS
from cx_contracts.vocabulary import PARTNERSHIPS
from cx_kit.service_testing import RunningService, TokenIssuer, own_service, signed_in
from cx_kit.testing import Infrastructure

from cx_applications.app import create_app as create_applications
from cx_applications.settings import Settings as ApplicationsSettings
from cx_catalogue.app import create_app as create_catalogue
from cx_catalogue.settings import Settings as CatalogueSettings
from cx_web.adapters.platform_api import HttpPlatformApi
from cx_web.app import create_app, record_pages
from cx_web.handlers import APPLICATIONS, HOST_ENTRIES, NotFound, Refused, Saved, Stale, owned_record, save, submit
from cx_web.settings import Settings

pytestmark = pytest.mark.integration
PARTNERSHIP = next(iter(PARTNERSHIPS))
ENTRIES, APPLYING = record_pages(PARTNERSHIPS)


@pytest.fixture
async def services(infrastructure: Infrastructure, dev_issuer: TokenIssuer) -> AsyncIterator[HttpPlatformApi]:
    """The real catalogue and applications apps, and the pages' API client on them."""
    async with (
        own_service(
            CatalogueSettings, create_catalogue, infrastructure, [HOST_ANSWERS], issuer=dev_issuer
        ) as catalogue,
        own_service(
            ApplicationsSettings, create_applications, infrastructure, [VISITOR_ANSWERS, MATCH_FOUND], issuer=dev_issuer
        ) as applications,
    ):
        api = HttpPlatformApi(
            catalogue_url="http://catalogue.test",
            applications_url="http://applications.test",
            exchanges_url="http://exchanges.test",
            timeout_s=10,
            transports={"catalogue": _transport(catalogue), "applications": _transport(applications)},
        )
        yield api
        await api.close()


def _transport(service: RunningService) -> httpx.AsyncBaseTransport:
    return httpx.ASGITransport(app=service.app)


def _token(dev_issuer: TokenIssuer, payload: dict[str, Any], **claims: Any) -> str:
    return signed_in(dev_issuer, payload, **claims)["Authorization"].removeprefix("Bearer ")


def _host_form(payload: dict[str, Any]) -> dict[str, list[str]]:
    document = {**payload, "partnership": PARTNERSHIP}
    return ENTRIES.questionnaire.from_document(document)


async def test_a_host_entry_published_from_the_form_is_the_organisations_own_with_its_signed_in_address(
    services, dev_issuer
) -> None:
    payload = examples.host_entry_payload(0)
    token = _token(dev_issuer, payload)
    questionnaire = ENTRIES.questionnaire

    outcome = await submit(services, HOST_ENTRIES, questionnaire, token, _host_form(payload), None)

    assert isinstance(outcome, Saved)
    stored = await owned_record(services, HOST_ENTRIES, token, outcome.record_id)
    assert stored.document["contact"] == payload["contact"], "the token's address, as no address was sent"
    assert stored.document["partnership"] == PARTNERSHIP
    stranger = _token(dev_issuer, examples.host_entry_payload(1))
    with pytest.raises(NotFound):
        await owned_record(services, HOST_ENTRIES, stranger, outcome.record_id)


async def test_the_apis_field_errors_land_beside_the_forms_fields(services, dev_issuer) -> None:
    payload = examples.host_entry_payload(0)
    form = _host_form(payload) | {
        "answers.languages": ["de, EN"],
        "answers.capacity": ["99"],
        "partnership": ["No Such Partnership"],
    }

    outcome = await submit(services, HOST_ENTRIES, ENTRIES.questionnaire, _token(dev_issuer, payload), form, None)

    assert isinstance(outcome, Refused)
    assert set(outcome.problems.by_field) == {"answers.languages", "answers.capacity", "partnership"}
    assert outcome.problems.by_field["answers.languages"][0].startswith("\u201cEN\u201d")


async def test_a_stale_edit_comes_back_with_the_current_version_and_where_it_differs(services, dev_issuer) -> None:
    payload = examples.application_payload(0)
    token = _token(dev_issuer, payload)
    questionnaire = APPLYING.questionnaire
    form = questionnaire.from_document({**payload, "partnership": PARTNERSHIP})
    created = await submit(services, APPLICATIONS, questionnaire, token, form, None)
    assert isinstance(created, Saved)
    meanwhile = await save(
        services, APPLICATIONS, questionnaire, token, created.record_id, 1, form | {"answers.days": ["4"]}, None
    )
    assert isinstance(meanwhile, Saved) and meanwhile.revision == 2

    stale = await save(
        services, APPLICATIONS, questionnaire, token, created.record_id, 1, form | {"answers.participants": ["3"]}, None
    )

    assert isinstance(stale, Stale)
    assert stale.current.revision == 2
    assert stale.differences == {
        "answers.days": ["4"],
        "answers.participants": [str(payload["answers"]["participants"])],
    }


async def test_sign_in_runs_the_issuers_code_flow_with_pkce_and_the_session_calls_the_apis_as_that_person(
    services, dev_issuer
) -> None:
    settings = Settings(environment="test", oidc_issuer=dev_issuer.url, session_secret="s" * 40, log_json=False)
    app = create_app(settings, api=services)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8080") as pages,
        httpx.AsyncClient(base_url=dev_issuer.url) as issuer,
    ):
        to_issuer = await pages.get("/sign-in", params={"next": "/entries"})
        assert to_issuer.status_code == 302
        authorize = urlsplit(to_issuer.headers["location"])
        asked = {name: values[0] for name, values in parse_qs(authorize.query).items()}
        assert asked["code_challenge_method"] == "S256" and asked["code_challenge"] and asked["nonce"]
        assert asked["redirect_uri"] == "http://127.0.0.1:8080/auth/callback"

        form = await issuer.get("/authorize", params=asked)
        assert form.status_code == 200 and "Development sign-in" in form.text
        hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.text))
        answer = await issuer.post(
            "/authorize", data={**hidden, "organisation": "Web Test Cluster", "email": "desk@web-test.example"}
        )
        back = urlsplit(answer.headers["location"])
        assert back.path == "/auth/callback"

        signed_in_page = await pages.get("/auth/callback", params=parse_qs(back.query))
        assert (signed_in_page.status_code, signed_in_page.headers["location"]) == (303, "/entries")
        entries = await pages.get("/entries")
        assert entries.status_code == 200 and "Signed in as Web Test Cluster" in entries.text
        cookie = signed_in_page.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie

        replayed = await pages.get("/auth/callback", params=parse_qs(back.query))
        assert replayed.status_code == 400, "a code and its state are used once"
