"""HTTP documents the catalogue answers with beyond the shared contracts: the owner's view and the pages."""

from __future__ import annotations

from pydantic import Field

from cx_contracts.api import HostEntryPublic, Page
from cx_contracts.questionnaire import Contact
from cx_contracts.scalars import UtcDatetime


class HostEntryOwned(HostEntryPublic):
    """A catalogue entry as its owner and its partnership's managers read it: the public entry, the contact
    person and the partnership."""

    contact: Contact = Field(description="The contact person (personal data; never in the public catalogue).")
    partnership: str | None = Field(description="Id of the partnership that validates the host's registration.")
    created_at: UtcDatetime = Field(description="When the entry was published (UTC).")


class HostCatalogue(Page):
    """One page of the public catalogue (no contact data); `total` counts the entries matching the filters."""

    items: list[HostEntryPublic] = Field(description="The entries on this page, oldest first.")


class HostEntriesPage(Page):
    """One page of the caller's own catalogue entries (a manager's: its partnership's), in the owner's view."""

    items: list[HostEntryOwned] = Field(description="The entries on this page, oldest first.")
