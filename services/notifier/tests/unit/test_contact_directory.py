"""Reading contact cards over HTTP: the service token, 404 as "gone", anything else as "try again later"."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from cx_kit.internal_records import RecordsUnavailable

from cx_notifier.adapters.contacts import HttpContactDirectory

pytestmark = pytest.mark.unit


def _directory(handler) -> HttpContactDirectory:
    return HttpContactDirectory(
        catalogue_url="http://catalogue.test/",
        applications_url="http://applications.test",
        token=SecretStr("s3cret-token"),
        timeout_s=1,
        transport=httpx.MockTransport(handler),
    )


async def test_a_card_is_read_from_the_owning_service_with_the_service_token(make_card) -> None:
    card = make_card("host")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=card.model_dump_json())

    assert await _directory(handler).host(str(card.id)) == card
    assert str(seen[0].url) == f"http://catalogue.test/internal/contacts/hosts/{card.id}"
    assert seen[0].headers["authorization"] == "Bearer s3cret-token"


async def test_a_visitor_card_comes_from_the_applications_service(make_card) -> None:
    card = make_card("visitor")
    urls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        urls.append(str(request.url))
        return httpx.Response(200, content=card.model_dump_json())

    assert await _directory(handler).visitor(str(card.id)) == card
    assert urls == [f"http://applications.test/internal/contacts/applications/{card.id}"]


async def test_not_found_means_the_organisation_is_gone() -> None:
    assert await _directory(lambda request: httpx.Response(404)).host("a1b2") is None


@pytest.mark.parametrize("status", [401, 500, 503])
async def test_other_answers_are_an_outage_to_retry(status: int) -> None:
    with pytest.raises(RecordsUnavailable, match=str(status)):
        await _directory(lambda request: httpx.Response(status)).visitor("a1b2")


async def test_a_refused_connection_is_an_outage_to_retry() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(RecordsUnavailable, match="ConnectError"):
        await _directory(handler).host("a1b2")


async def test_a_card_for_someone_else_or_an_invalid_card_is_never_used(make_card) -> None:
    other = make_card("host")

    with pytest.raises(RecordsUnavailable, match="another host card"):
        await _directory(lambda request: httpx.Response(200, content=other.model_dump_json())).host("not-that-one")
    with pytest.raises(RecordsUnavailable, match="invalid") as caught:
        await _directory(
            lambda request: httpx.Response(200, json={"id": "x", "contact": {"email": "a@b.example"}})
        ).host("x")
    assert "a@b.example" not in str(caught.value), "no personal data in errors"
