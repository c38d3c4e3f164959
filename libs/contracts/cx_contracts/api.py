"""HTTP documents: what clients send (Create / Update, unknown fields rejected) and what they read back.

Create and Update documents hold no server-owned field (ids, revisions, timestamps), so a client cannot
set one. Public read models hold no contact, so the catalogue cannot leak personal data.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from cx_contracts.questionnaire import (
    STRICT,
    Contact,
    HostAnswers,
    HostAnswersState,
    Organisation,
    OrganisationState,
    VisitorAnswers,
    VisitorAnswersState,
)
from cx_contracts.scalars import UtcDatetime

# Read models are built from stored documents, which may hold fields a read model leaves out (the
# contact, the outbox): those are dropped, never shown.
READ_MODEL = ConfigDict(extra="ignore", frozen=True)

_ORGANISATION = "The organisation answering; its partnership validates the registration."
_CONTACT = "The contact person; personal data, shown only to the owner and the partnerships."
_OWNER_TOKEN = (
    "The owner's credential for this record, shown once and never again (the service keeps only its hash): "
    "send it as `Authorization: Bearer <owner_token>` to read, change or withdraw the record. Interim, until "
    "organisations sign in through the platform's access control; absent then."
)


class _CreateDocument(BaseModel):
    """What a Create body holds besides its questionnaire: the organisation and its contact."""

    model_config = STRICT

    organisation: Organisation = Field(description=_ORGANISATION)
    contact: Contact = Field(description=_CONTACT)


class _UpdateDocument(BaseModel):
    """An Update body: the questionnaire, replaced whole, then the organisation or contact if they change."""

    model_config = STRICT

    answers: HostAnswers | VisitorAnswers  # each document narrows it to its own questionnaire
    organisation: Organisation | None = Field(default=None, description=_ORGANISATION + " Absent: unchanged.")
    contact: Contact | None = Field(default=None, description=_CONTACT + " Absent: unchanged.")


class HostEntryCreate(_CreateDocument):
    """Body of POST /api/catalogue/hosts: a host publishes its catalogue entry."""

    answers: HostAnswers = Field(description="The host questionnaire.")


class HostEntryUpdate(_UpdateDocument):
    """Body of PUT /api/catalogue/hosts/{host_id}: replaces the answers, and the organisation or contact if given."""

    answers: HostAnswers = Field(description="The host questionnaire, replacing the current answers.")


class ApplicationCreate(_CreateDocument):
    """Body of POST /api/applications: a visitor applies for an exchange."""

    answers: VisitorAnswers = Field(description="The visitor questionnaire.")


class ApplicationUpdate(_UpdateDocument):
    """Body of PUT /api/applications/{application_id}: replaces the answers, and organisation or contact if given."""

    answers: VisitorAnswers = Field(description="The visitor questionnaire, replacing the current answers.")


class HostEntryCreated(BaseModel):
    """Response of POST /api/catalogue/hosts (201)."""

    model_config = READ_MODEL

    host_id: UUID = Field(description="Id of the new catalogue entry.")
    revision: int = Field(ge=1, description="Revision of the entry; 1 when created, +1 on every change.")
    owner_token: str | None = Field(default=None, description=_OWNER_TOKEN)


class ApplicationCreated(BaseModel):
    """Response of POST /api/applications (201)."""

    model_config = READ_MODEL

    application_id: UUID = Field(description="Id of the new application.")
    revision: int = Field(ge=1, description="Revision of the application; 1 when created, +1 on every change.")
    owner_token: str | None = Field(default=None, description=_OWNER_TOKEN)


class HostEntryPublic(BaseModel):
    """A catalogue entry as anyone may read it: organisation and answers, no contact."""

    model_config = READ_MODEL

    host_id: UUID = Field(description="Id of the catalogue entry.")
    revision: int = Field(ge=1, description="Revision of the entry; +1 on every change.")
    organisation: OrganisationState = Field(description="The host organisation.")
    answers: HostAnswersState = Field(description="The host's current answers.")
    updated_at: UtcDatetime | None = Field(default=None, description="When the entry last changed (UTC).")


class ApplicationPublic(BaseModel):
    """An application as its owner and the partnerships read it: organisation and answers, no contact."""

    model_config = READ_MODEL

    application_id: UUID = Field(description="Id of the application.")
    revision: int = Field(ge=1, description="Revision of the application; +1 on every change.")
    organisation: OrganisationState = Field(description="The visiting organisation.")
    answers: VisitorAnswersState = Field(description="The visitor's current answers.")
    updated_at: UtcDatetime | None = Field(default=None, description="When the application last changed (UTC).")


class ContactCard(BaseModel):
    """Internal: who to write to about a host or an application (GET /internal/contacts/...; never public).

    The notifier reads it at send time, so no event and no other service keeps a copy of personal data.
    Served only to callers holding the internal service token; a withdrawn or erased organisation is a 404.
    """

    model_config = READ_MODEL

    id: UUID = Field(description="The host_id or application_id.")
    kind: Literal["host", "visitor"] = Field(description="Whether this is a host's or a visitor's contact.")
    organisation: OrganisationState = Field(description="The organisation, for the greeting and the subject.")
    contact: Contact = Field(description="The contact person (personal data).")
    languages: list[str] = Field(default_factory=list, description="Languages the organisation works in, ISO 639-1.")
