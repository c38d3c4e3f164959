"""HTTP documents: what clients send (Create / Update, unknown fields rejected) and what they read back.

Create and Update documents hold no server-owned field (ids, revisions, timestamps), so a client cannot
set one. Public read models hold no contact, so the catalogue cannot leak personal data.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from cx_contracts.questionnaire import (
    STRICT,
    Contact,
    HostAnswers,
    HostAnswersState,
    Organisation,
    OrganisationState,
    PersonName,
    VisitorAnswers,
    VisitorAnswersState,
)
from cx_contracts.scalars import EmailAddress, UtcDatetime
from cx_contracts.vocabulary import PARTNERSHIP_ID_PATTERN

# Read models are built from stored documents, which may hold fields a read model leaves out (the
# contact, the outbox): those are dropped, never shown.
READ_MODEL = ConfigDict(extra="ignore", frozen=True)
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
MAX_PAGE = 10_000

_ORGANISATION = "The organisation answering; its partnership validates the registration."
_CONTACT = (
    "The contact person, who is the person signed in; personal data, shown only to the owner and the managers of "
    "its partnership."
)
_PARTNERSHIP = (
    "Id of the partnership that validates the organisation's registration, one of the service's configured list "
    "(by default the 13 ESCP-4x partnerships, escp-4x-01 ... escp-4x-13); its managers read the record."
)

PartnershipId = Annotated[str, Field(pattern=PARTNERSHIP_ID_PATTERN, examples=["escp-4x-01"])]


class SubmittedContact(BaseModel):
    """The contact person as a signed-in organisation sends it: the address is the one it signed in with."""

    model_config = STRICT

    name: PersonName = Field(description="Full name of the contact person (2-120 characters).")
    email: EmailAddress | None = Field(
        default=None,
        description="The address you signed in with (compared ignoring case), or absent to use it: the platform "
        "writes only to verified addresses, so another address is refused.",
    )


class _CreateDocument(BaseModel):
    """What a Create body holds besides its questionnaire: the organisation, its contact and its partnership."""

    model_config = STRICT

    organisation: Organisation = Field(description=_ORGANISATION)
    contact: SubmittedContact = Field(description=_CONTACT)
    partnership: PartnershipId = Field(description=_PARTNERSHIP)


class _UpdateDocument(BaseModel):
    """An Update body: the questionnaire, replaced whole, then the organisation, contact or partnership if they
    change."""

    model_config = STRICT

    answers: HostAnswers | VisitorAnswers  # each document narrows it to its own questionnaire
    organisation: Organisation | None = Field(default=None, description=_ORGANISATION + " Absent: unchanged.")
    contact: SubmittedContact | None = Field(default=None, description=_CONTACT + " Absent: unchanged.")
    partnership: PartnershipId | None = Field(default=None, description=_PARTNERSHIP + " Absent: unchanged.")


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


class ApplicationCreated(BaseModel):
    """Response of POST /api/applications (201)."""

    model_config = READ_MODEL

    application_id: UUID = Field(description="Id of the new application.")
    revision: int = Field(ge=1, description="Revision of the application; 1 when created, +1 on every change.")


class HostEntryPublic(BaseModel):
    """A catalogue entry as anyone may read it: organisation and answers, no contact."""

    model_config = READ_MODEL

    host_id: UUID = Field(description="Id of the catalogue entry.")
    revision: int = Field(ge=1, description="Revision of the entry; +1 on every change.")
    organisation: OrganisationState = Field(description="The host organisation.")
    answers: HostAnswersState = Field(description="The host's current answers.")
    updated_at: UtcDatetime | None = Field(default=None, description="When the entry last changed (UTC).")


class ApplicationPublic(BaseModel):
    """An application's organisation and answers, without the contact (the base of its owner's view)."""

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


class RecordFacts(BaseModel):
    """Internal: what another service needs to know of a host entry or an application (GET /internal/records/...).

    Who owns it, which partnership validates it, the organisation, the answers, and whether it is still active;
    never the contact. The exchanges service reads it to check a request against both sides' answers and to know
    whose the two sides are. Served only to callers holding the internal service token; unknown ids are a 404,
    a withdrawn record answers with `active` false.
    """

    model_config = READ_MODEL

    id: UUID = Field(description="The host_id or application_id.")
    kind: Literal["host", "visitor"] = Field(description="Whether this is a host entry or an application.")
    owner: str = Field(description="Id of the organisation that owns the record (the `organisation` of its tokens).")
    partnership: str | None = Field(description="The partnership that validates the organisation.")
    organisation: OrganisationState = Field(description="The organisation.")
    answers: HostAnswersState | VisitorAnswersState = Field(description="The current answers.")
    revision: int = Field(ge=1, description="Revision of the record.")
    active: bool = Field(description="False once the owner withdrew the record.")


class PageQuery(BaseModel):
    """Which page of a list to read: `page` from 1, `page_size` entries on each."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    page: int = Field(default=1, ge=1, le=MAX_PAGE, description="Page number, from 1.")
    page_size: int = Field(
        default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description=f"Entries per page (1-{MAX_PAGE_SIZE})."
    )

    @property
    def skip(self) -> int:
        """How many entries come before this page."""
        return (self.page - 1) * self.page_size


class Page(BaseModel):
    """What every page of a list says besides its items: where it is and how many there are in all."""

    model_config = READ_MODEL

    total: int = Field(ge=0, description="How many entries there are, on all pages.")
    page: int = Field(ge=1, description="This page's number, from 1.")
    page_size: int = Field(ge=1, description="Entries per page.")
