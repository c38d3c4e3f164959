"""The internal contact look-up the notifier calls at send time (not routed by the gateway)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path

from cx_contracts.api import ContactCard

from cx_kit.aggregate_http import not_found
from cx_kit.ownership import internal_service
from cx_kit.settings import ServiceSettings

from cx_applications.adapters.applications import ApplicationRepository
from cx_applications.domain.application import APPLICATION, visitor_contact_card

PREFIX = "/internal/contacts"


def contacts_router(applications: ApplicationRepository, settings: ServiceSettings) -> APIRouter:
    """GET /internal/contacts/applications/{application_id}: a visitor's contact card, internal token only."""
    router = APIRouter(prefix=PREFIX, tags=["internal"], dependencies=[Depends(internal_service(settings))])

    @router.get(
        "/applications/{application_id}",
        response_model=ContactCard,
        summary="A visitor's contact (internal)",
        responses={401: {"description": "No or wrong internal token."},
                   404: {"description": "Unknown, withdrawn or erased application."}},
    )
    async def visitor_contact(
        application_id: Annotated[UUID, Path(description="Id of the application.")],
    ) -> ContactCard:
        """Who to write to about an application; personal data, so only other services of the platform may ask."""
        record = await applications.get(str(application_id))
        if record is None or record.contact is None:
            raise not_found(APPLICATION)
        return visitor_contact_card(record.id, record.organisation, record.contact, record.answers)

    return router
