"""HTTP documents the catalogue answers with beyond the shared contracts: the owner's view, a catalogue page."""

from __future__ import annotations

from pydantic import BaseModel, Field

from cx_contracts.api import READ_MODEL, HostEntryPublic
from cx_contracts.questionnaire import Contact
from cx_contracts.scalars import UtcDatetime


class HostEntryOwned(HostEntryPublic):
    """A catalogue entry as its owner reads it: the public entry plus the contact person."""

    contact: Contact = Field(description="The contact person (personal data; only the owner sees it here).")
    created_at: UtcDatetime = Field(description="When the entry was published (UTC).")


class HostCatalogue(BaseModel):
    """One page of the public catalogue (no contact data)."""

    model_config = READ_MODEL

    items: list[HostEntryPublic] = Field(description="The entries on this page, oldest first.")
    total: int = Field(ge=0, description="How many entries match the filters, on all pages.")
    page: int = Field(ge=1, description="This page's number, from 1.")
    page_size: int = Field(ge=1, description="Entries per page.")
