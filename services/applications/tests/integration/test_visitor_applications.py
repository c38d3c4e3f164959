"""A visitor's application as an owned record: the kit's suite run on the applications service (an application
is read by its owner alone; its latest matches are the service's own, see test_latest_matches)."""

from __future__ import annotations

from typing import Any

import pytest

from cx_contracts.events import VisitorAnswersSubmitted, VisitorAnswersWithdrawn
from cx_contracts.examples import application_payload
from cx_contracts.questionnaire import VisitorAnswers
from cx_contracts.topics import MATCH_FOUND
from cx_kit.aggregate_suite import OwnedAggregateSuite
from cx_kit.service_testing import INJECTION, QUICK_DEAD_LETTERS, REMOVE, HostileInput

from cx_applications.adapters.applications import APPLICATIONS
from cx_applications.app import create_app
from cx_applications.settings import Settings

pytestmark = pytest.mark.integration

VISITOR_ANSWER_INPUTS = [
    HostileInput("goals-too-short", "answers.goals", "Learn things.", "answers.goals"),
    HostileInput("goals-too-long", "answers.goals", "g" * 4001, "answers.goals"),
    HostileInput("goals-nul", "answers.goals", "G" * 60 + "\x00", "answers.goals"),
    HostileInput("goals-injection", "answers.goals", INJECTION, "answers.goals"),
    HostileInput("goals-missing", "answers.goals", REMOVE, "answers.goals"),
    HostileInput("preferred-uk-code", "answers.preferred_countries", ["UK"], "answers.preferred_countries[0]"),
    HostileInput("preferred-lower-case", "answers.preferred_countries", ["de"], "answers.preferred_countries[0]"),
    HostileInput(
        "preferred-too-many",
        "answers.preferred_countries",
        ["AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE"],
        "answers.preferred_countries",
    ),
    HostileInput("preferred-repeated", "answers.preferred_countries", ["DE", "DE"], "answers.preferred_countries"),
    HostileInput("excluded-also-preferred", "answers.excluded_countries", ["DE"], "answers.excluded_countries"),
    HostileInput("excluded-injection", "answers.excluded_countries", [INJECTION], "answers.excluded_countries[0]"),
    HostileInput("days-too-few", "answers.days", 2, "answers.days"),
    HostileInput("days-too-many", "answers.days", 23, "answers.days"),
    HostileInput("days-string", "answers.days", "5", "answers.days"),
    HostileInput(
        "travel-window-reversed",
        "answers.travel_window",
        {"start": "2027-05-28", "end": "2027-03-15"},
        "answers.travel_window",
    ),
    HostileInput(
        "travel-window-shorter-than-days",
        "answers.travel_window",
        {"start": "2027-03-15", "end": "2027-03-16"},
        "answers.travel_window",
    ),
    HostileInput(
        "travel-window-unknown-field",
        "answers.travel_window",
        {"start": "2027-03-15", "end": "2027-05-28", "flexible": True},
        "answers.travel_window.flexible",
    ),
    HostileInput(
        "travel-window-not-a-date",
        "answers.travel_window",
        {"start": "next spring", "end": "2027-05-28"},
        "answers.travel_window.start",
    ),
    HostileInput("participants-zero", "answers.participants", 0, "answers.participants"),
    HostileInput("participants-eleven", "answers.participants", 11, "answers.participants"),
    HostileInput("participants-fraction", "answers.participants", 1.5, "answers.participants"),
    HostileInput("host-field-in-visitor-answers", "answers.capacity", 3, "answers.capacity"),
]


class TestVisitorApplications(OwnedAggregateSuite):
    """Visitors' applications: private records, read by their owner alone."""

    settings_type = Settings
    package = "cx_applications"
    collection = APPLICATIONS
    path = "/api/applications"
    list_path = "/api/applications"
    contacts_path = "/internal/contacts/applications"
    id_field = "application_id"
    public_read = False
    contact_kind = "visitor"
    submitted_event = VisitorAnswersSubmitted
    withdrawn_event = VisitorAnswersWithdrawn
    answers_model = VisitorAnswers
    answer_inputs = VISITOR_ANSWER_INPUTS
    free_text_field = "goals"
    owner_reads = ("/matches",)
    more_topics = (MATCH_FOUND,)
    settings_overrides = QUICK_DEAD_LETTERS

    def create_app(self, settings: Any) -> Any:
        return create_app(settings)

    def payload(self, index: int = 0, **overrides: Any) -> dict[str, Any]:
        return application_payload(index, **overrides)
