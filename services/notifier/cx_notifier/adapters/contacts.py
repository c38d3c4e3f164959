"""Who to write to: contact cards read from the owning services at send time (events carry no contacts).

The catalogue serves host cards, the applications service visitor cards, both at `/internal/contacts/...`
behind the shared service token. A 404 means the organisation is unknown, withdrawn or erased: it gets no
mail. Anything else that is not a valid card is an outage of the owning service, to be retried.
"""

from __future__ import annotations

import httpx
from pydantic import SecretStr, ValidationError

from cx_contracts.api import ContactCard


class ContactsUnavailable(Exception):
    """The owning service could not answer now (down, 5xx, a bad card); retrying later may succeed."""


class HttpContactDirectory:
    """The notifier's `ContactDirectory`: cards over HTTP from the catalogue and applications services."""

    def __init__(
        self,
        *,
        catalogue_url: str,
        applications_url: str,
        token: SecretStr,
        timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._catalogue = catalogue_url.rstrip("/")
        self._applications = applications_url.rstrip("/")
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s),
            headers={"Authorization": f"Bearer {token.get_secret_value()}", "Accept": "application/json"},
            transport=transport,
            follow_redirects=False,
        )

    async def host(self, host_id: str) -> ContactCard | None:
        """The host's card from the catalogue, or None when the host is unknown, withdrawn or erased."""
        return await self._card(f"{self._catalogue}/internal/contacts/hosts/{host_id}", host_id, "host")

    async def visitor(self, application_id: str) -> ContactCard | None:
        """The visitor's card from the applications service, or None when the application is gone."""
        return await self._card(
            f"{self._applications}/internal/contacts/applications/{application_id}", application_id, "visitor"
        )

    async def _card(self, url: str, wanted_id: str, kind: str) -> ContactCard | None:
        try:
            response = await self._client.get(url)
        except httpx.HTTPError as error:
            raise ContactsUnavailable(f"{kind} contact look-up failed: {type(error).__name__}: {error}") from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ContactsUnavailable(f"{kind} contact look-up answered {response.status_code}")
        try:
            card = ContactCard.model_validate_json(response.content)
        except ValidationError as error:
            # Never the body in the message: it holds personal data.
            raise ContactsUnavailable(f"{kind} contact card is invalid ({error.error_count()} errors)") from None
        if str(card.id) != wanted_id or card.kind != kind:
            raise ContactsUnavailable(f"{kind} contact look-up answered with another {card.kind} card")
        return card

    async def start(self) -> None:
        """Nothing to open: connections are made on first use."""

    async def stop(self) -> None:
        """Close pooled connections."""
        await self._client.aclose()
