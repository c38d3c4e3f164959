"""The internal contact look-up the notifier calls at send time (not routed by the gateway)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path

from cx_contracts.api import ContactCard

from cx_kit.aggregate_http import not_found
from cx_kit.ownership import internal_service
from cx_kit.settings import ServiceSettings

from cx_catalogue.adapters.hosts import HostRepository
from cx_catalogue.domain.host_entry import HOST, host_contact_card

PREFIX = "/internal/contacts"


def contacts_router(hosts: HostRepository, settings: ServiceSettings) -> APIRouter:
    """GET /internal/contacts/hosts/{host_id}: a host's contact card, for holders of the internal token only."""
    router = APIRouter(prefix=PREFIX, tags=["internal"], dependencies=[Depends(internal_service(settings))])

    @router.get(
        "/hosts/{host_id}",
        response_model=ContactCard,
        summary="A host's contact (internal)",
        responses={401: {"description": "No or wrong internal token."},
                   404: {"description": "Unknown, withdrawn or erased host."}},
    )
    async def host_contact(host_id: Annotated[UUID, Path(description="Id of the catalogue entry.")]) -> ContactCard:
        """Who to write to about a host; personal data, so only other services of the platform may ask."""
        record = await hosts.get(str(host_id))
        if record is None or record.contact is None:
            raise not_found(HOST)
        return host_contact_card(record.id, record.organisation, record.contact, record.answers)

    return router
