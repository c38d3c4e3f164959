"""HTTP documents the applications service answers with beyond the shared contracts."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from cx_contracts.api import READ_MODEL, ApplicationPublic, Page
from cx_contracts.events import CriterionName, MatchTrigger
from cx_contracts.questionnaire import Contact
from cx_contracts.scalars import UtcDatetime


class ApplicationOwned(ApplicationPublic):
    """An application as its owner and its partnership's managers read it: organisation, answers, the contact
    person and the partnership."""

    contact: Contact = Field(description="The contact person (personal data).")
    partnership: str | None = Field(description="Id of the partnership that validates the visitor's registration.")
    created_at: UtcDatetime = Field(description="When the application was submitted (UTC).")


class ApplicationsPage(Page):
    """One page of the caller's own applications (a manager's: its partnership's), in the owner's view."""

    items: list[ApplicationOwned] = Field(description="The applications on this page, oldest first.")


class RankedHost(BaseModel):
    """One host proposed to the visitor."""

    model_config = READ_MODEL

    host_id: UUID = Field(description="Id of the host's catalogue entry (GET /api/catalogue/hosts/{host_id}).")
    rank: int = Field(ge=1, description="Position in the list, 1 = best fit.")
    score: float = Field(description="Blended score; higher fits better.")
    explanation: dict[CriterionName, float] = Field(
        default_factory=dict, description="Each criterion's contribution to the score."
    )


class ApplicationMatches(BaseModel):
    """The latest ranked hosts of an application, from the matcher's most recent run."""

    model_config = READ_MODEL

    application_id: UUID = Field(description="Id of the application.")
    status: Literal["pending", "matched"] = Field(
        description="pending: no matching run has reported yet; matched: `matches` is the latest run's list "
        "(which may be empty when no host fits)."
    )
    match_run_id: UUID | None = Field(default=None, description="Id of the run these matches come from.")
    trigger: MatchTrigger | None = Field(default=None, description="What started the run.")
    application_revision: int | None = Field(
        default=None, ge=1, description="Revision of the application the run matched."
    )
    model_version: str | None = Field(default=None, description="Model and scoring configuration of the run.")
    computed_at: UtcDatetime | None = Field(default=None, description="When the run found these matches (UTC).")
    matches: list[RankedHost] = Field(default_factory=list, description="Ranked hosts, best first.")
