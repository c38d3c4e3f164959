"""Who to write to: contact cards read from the owning services at send time (events carry no contacts).

The catalogue serves host cards, the applications service visitor cards, both at `/internal/contacts/...`
behind the shared service token, read with the kit's client of those routes (cx_kit.internal_records). A 404
means the organisation is unknown, withdrawn or erased: it gets no mail. Anything else that is not a valid card
is an outage of the owning service (the kit's `RecordsUnavailable`), to be retried.
"""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from cx_contracts.api import ContactCard
from cx_kit.internal_records import InternalRecords


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
        self._records = InternalRecords(
            catalogue_url=catalogue_url,
            applications_url=applications_url,
            token=token,
            timeout_s=timeout_s,
            transport=transport,
        )

    async def host(self, host_id: str) -> ContactCard | None:
        """The host's card from the catalogue, or None when the host is unknown, withdrawn or erased."""
        return await self._records.contact("host", host_id)

    async def visitor(self, application_id: str) -> ContactCard | None:
        """The visitor's card from the applications service, or None when the application is gone."""
        return await self._records.contact("visitor", application_id)

    async def start(self) -> None:
        """Nothing to open: connections are made on first use."""

    async def stop(self) -> None:
        """Close pooled connections."""
        await self._records.close()
