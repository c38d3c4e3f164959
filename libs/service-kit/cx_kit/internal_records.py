"""The client side of the internal routes of the record-owning services: a record's facts and its contact card.

The catalogue serves host entries, the applications service applications, each under `/internal/records/...`
(`records_router`) and `/internal/contacts/...` (`contacts_router`), behind the deployment's internal token.
A 404 means the record is unknown (a contact card: also withdrawn or erased); anything else that is not a
valid document is an outage of the owning service, to be retried later.
"""

from __future__ import annotations

from typing import Literal, TypeVar

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from cx_contracts.api import ContactCard, RecordFacts
from cx_kit.aggregate_routes import CONTACTS_PREFIX, RECORDS_PREFIX

Kind = Literal["host", "visitor"]
Document = TypeVar("Document", ContactCard, RecordFacts)
# Where each kind of record lives on its owning service (the collection path of its OwnedAggregateRoutes).
COLLECTIONS: dict[Kind, str] = {"host": "/hosts", "visitor": "/applications"}
_NOUNS: dict[type[BaseModel], str] = {ContactCard: "card", RecordFacts: "record"}


class RecordsUnavailable(Exception):
    """The owning service could not answer now (down, 5xx, a bad document); retrying later may succeed."""


class InternalRecords:
    """Facts and contact cards of host entries and applications, over HTTP with the internal token."""

    def __init__(
        self,
        *,
        catalogue_url: str,
        applications_url: str,
        token: SecretStr,
        timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._services: dict[Kind, str] = {"host": catalogue_url.rstrip("/"), "visitor": applications_url.rstrip("/")}
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s),
            headers={"Authorization": f"Bearer {token.get_secret_value()}", "Accept": "application/json"},
            transport=transport,
            follow_redirects=False,
        )

    async def facts(self, kind: Kind, record_id: str) -> RecordFacts | None:
        """The record's facts (withdrawn ones too, as inactive), or None when the record is unknown."""
        return await self._read(RECORDS_PREFIX, kind, record_id, RecordFacts)

    async def contact(self, kind: Kind, record_id: str) -> ContactCard | None:
        """The record's contact card, or None when the record is unknown, withdrawn or erased."""
        return await self._read(CONTACTS_PREFIX, kind, record_id, ContactCard)

    async def _read(self, prefix: str, kind: Kind, record_id: str, model: type[Document]) -> Document | None:
        url = f"{self._services[kind]}{prefix}{COLLECTIONS[kind]}/{record_id}"
        noun = _NOUNS[model]
        what = f"{kind} {noun}"
        try:
            response = await self._client.get(url)
        except httpx.HTTPError as error:
            raise RecordsUnavailable(f"{what} look-up failed: {type(error).__name__}: {error}") from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise RecordsUnavailable(f"{what} look-up answered {response.status_code}")
        try:
            document = model.model_validate_json(response.content)
        except ValidationError as error:
            # Never the body in the message: a contact card holds personal data.
            raise RecordsUnavailable(f"{what} is invalid ({error.error_count()} errors)") from None
        if not _about(document, record_id, kind):
            raise RecordsUnavailable(f"{what} look-up answered with another {kind} {noun}")
        return document

    async def close(self) -> None:
        """Close pooled connections."""
        await self._client.aclose()


def _about(document: BaseModel, record_id: str, kind: Kind) -> bool:
    return str(getattr(document, "id", "")) == record_id and getattr(document, "kind", None) == kind
