"""Valid example answers, written the way cluster organisations fill in the questionnaire; fixtures for every test.

The organisations are invented (websites and mail domains use the reserved `.example` top-level domain).
Payload functions return fresh JSON-ready dicts (what a web client posts); model functions return validated
models; event functions take ids or make random ones, so each test gets its own.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID, uuid4

from cx_contracts.api import ApplicationCreate, HostEntryCreate
from cx_contracts.events import (
    ExchangeAgreed,
    ExchangeCompleted,
    ExchangeRequested,
    ExchangeStep,
    ExchangeWithdrawn,
    HostAnswersSubmitted,
    HostAnswersWithdrawn,
    HostMatch,
    MatchFound,
    MatchTrigger,
    NotificationKind,
    NotificationSent,
    VisitorAnswersSubmitted,
    VisitorAnswersWithdrawn,
    WithdrawalReason,
)
from cx_contracts.exchange import Grant
from cx_contracts.questionnaire import Contact, HostAnswers, Organisation, VisitorAnswers
from cx_contracts.scalars import utc_now

HOST_EXAMPLES: tuple[dict[str, Any], ...] = (
    {
        "organisation": {
            "name": "NordWest AgriFood Innovation Cluster e.V.",
            "kind": "cluster_organisation",
            "country": "DE",
            "city": "Oldenburg",
            "website": "https://www.nordwest-agrifood.example/",
        },
        "contact": {"name": "Hanna Brüggemann", "email": "h.brueggemann@nordwest-agrifood.example"},
        "partnership": "escp-4x-01",
        "answers": {
            "ecosystems": ["agri_food", "digital"],
            "topics": ["digital_transformation", "innovation_uptake", "sme_services"],
            "activities": ["meetings", "workshops", "site_visits", "member_matchmaking"],
            "languages": ["de", "en"],
            "formats": ["physical", "virtual"],
            "expertise": (
                "We run a living lab for precision livestock farming with 140 member companies, from family "
                "farms to feed producers and sensor start-ups. Visitors can see how we set up our data-sharing "
                "platform for farm sensors, how we broker pilots between start-ups and farmers, and how our "
                "innovation vouchers for SMEs are scored and followed up."
            ),
            "keywords": ["precision farming", "living lab", "data sharing", "innovation vouchers"],
            "availability": [
                {"start": "2027-03-01", "end": "2027-06-30"},
                {"start": "2027-09-06", "end": "2027-11-26"},
            ],
            "max_days": 10,
            "capacity": 3,
        },
    },
    {
        "organisation": {
            "name": "Piedmont Smart Mobility Cluster",
            "kind": "cluster_organisation",
            "country": "IT",
            "city": "Torino",
            "website": "https://www.piedmont-mobility.example/",
        },
        "contact": {"name": "Giulia Ferraris", "email": "giulia.ferraris@piedmont-mobility.example"},
        "partnership": "escp-4x-02",
        "answers": {
            "ecosystems": ["mobility_transport_automotive", "electronics"],
            "topics": ["green_transition", "resilience_supply_chains", "skills_training"],
            "activities": ["trainings", "coaching", "site_visits", "job_shadowing"],
            "languages": ["it", "en", "fr"],
            "formats": ["physical"],
            "expertise": (
                "Our members are tier-2 and tier-3 automotive suppliers moving from combustion engine parts to "
                "electric powertrains. We can show how we map supplier skills against new value chains, run a "
                "reskilling academy with the regional training centres, and coordinate joint bids of SMEs for "
                "battery and charging projects."
            ),
            "keywords": ["electric vehicles", "supplier diversification", "reskilling", "batteries"],
            "availability": [{"start": "2027-04-05", "end": "2027-07-16"}],
            "max_days": 15,
            "capacity": 2,
        },
    },
    {
        "organisation": {
            "name": "Baltic HealthTech Cluster",
            "kind": "cluster_organisation",
            "country": "LT",
            "city": "Kaunas",
            "website": "https://healthtech-baltic.example/",
        },
        "contact": {"name": "Rūta Petrauskienė", "email": "ruta@healthtech-baltic.example"},
        "partnership": "escp-4x-03",
        "answers": {
            "ecosystems": ["health", "digital"],
            "topics": ["research_collaboration", "access_to_finance", "internationalisation"],
            "activities": ["meetings", "coaching", "workshops"],
            "languages": ["lt", "en", "ru"],
            "formats": ["physical", "virtual"],
            "expertise": (
                "We help medical device and digital health start-ups through clinical validation with the "
                "university hospital and through CE marking under the MDR. Visitors learn how our regulatory "
                "clinic works, how we prepare members for investor days, and how we share test beds with two "
                "hospitals."
            ),
            "keywords": ["medical devices", "MDR", "clinical validation", "digital health"],
            "availability": [],
            "max_days": 22,
            "capacity": 4,
        },
    },
    {
        "organisation": {
            "name": "Associação Têxtil Norte Inovação",
            "kind": "business_network",
            "country": "PT",
            "city": "Guimarães",
            "website": "https://www.textil-norte.example/",
        },
        "contact": {"name": "João Carvalho", "email": "joao.carvalho@textil-norte.example"},
        "partnership": "escp-4x-04",
        "answers": {
            "ecosystems": ["textile", "cultural_creative"],
            "topics": ["green_transition", "emerging_industries"],
            "activities": ["workshops", "meetings"],
            "languages": ["pt", "en", "es"],
            "formats": ["virtual"],
            "expertise": (
                "Circular textiles: our network of spinning and finishing SMEs runs a shared sorting line for "
                "post-consumer textiles and a digital product passport pilot. We present the business model "
                "of the sorting line, the traceability data we collect, and what we learned about recycled "
                "fibre quality."
            ),
            "keywords": ["circular textiles", "digital product passport", "recycled fibres"],
            "availability": [{"start": "2027-02-01", "end": "2027-12-17"}],
            "max_days": 5,
            "capacity": 6,
        },
    },
    {
        "organisation": {
            "name": "Vestland Offshore Wind Cluster",
            "kind": "cluster_organisation",
            "country": "NO",
            "city": "Bergen",
            "website": "https://www.vestland-offshorewind.example/",
        },
        "contact": {"name": "Ingrid Solheim", "email": "ingrid.solheim@vestland-offshorewind.example"},
        "partnership": "escp-4x-05",
        "answers": {
            "ecosystems": ["energy_renewables", "energy_intensive"],
            "topics": ["green_transition", "interregional_cooperation", "cluster_management_excellence"],
            "activities": ["meetings", "site_visits", "member_matchmaking"],
            "languages": ["no", "en"],
            "formats": ["physical"],
            "expertise": (
                "We connect shipyards, offshore oil and gas suppliers and young companies to the floating "
                "offshore wind supply chain. Visitors see how we run supplier days with turbine makers, how "
                "our cluster strategy is governed with the county, and what it takes to qualify SMEs for "
                "offshore work."
            ),
            "keywords": ["floating offshore wind", "supply chain", "supplier days"],
            "availability": [{"start": "2027-05-03", "end": "2027-06-25"}],
            "max_days": 8,
            "capacity": 2,
        },
    },
)

VISITOR_EXAMPLES: tuple[dict[str, Any], ...] = (
    {
        "organisation": {
            "name": "Sofia FoodTech Cluster",
            "kind": "cluster_organisation",
            "country": "BG",
            "city": "Sofia",
            "website": "https://sofia-foodtech.example/",
        },
        "contact": {"name": "Desislava Ivanova", "email": "d.ivanova@sofia-foodtech.example"},
        "partnership": "escp-4x-06",
        "answers": {
            "ecosystems": ["agri_food", "digital"],
            "topics": ["digital_transformation", "sme_services"],
            "activities": ["meetings", "site_visits", "workshops"],
            "languages": ["bg", "en"],
            "formats": ["physical"],
            "keywords": ["precision farming", "data sharing", "cluster services"],
            "goals": (
                "We want to start a data-sharing service for our dairy and vegetable producers. We would like "
                "to learn how another cluster organised a farm data platform, how it convinced farmers to "
                "share data, and how it pairs start-ups with farms for pilots."
            ),
            "preferred_countries": ["DE", "NL"],
            "excluded_countries": [],
            "days": 5,
            "travel_window": {"start": "2027-03-15", "end": "2027-05-28"},
            "participants": 2,
        },
    },
    {
        "organisation": {
            "name": "Automotive Cluster of Slovenia Maribor Office",
            "kind": "cluster_organisation",
            "country": "SI",
            "city": "Maribor",
            "website": "https://www.acs-maribor.example/",
        },
        "contact": {"name": "Matej Kranjc", "email": "matej.kranjc@acs-maribor.example"},
        "partnership": "escp-4x-07",
        "answers": {
            "ecosystems": ["mobility_transport_automotive"],
            "topics": ["skills_training", "green_transition", "resilience_supply_chains"],
            "activities": ["trainings", "job_shadowing", "site_visits"],
            "languages": ["sl", "en", "de"],
            "formats": ["physical", "virtual"],
            "keywords": ["reskilling", "electric vehicles"],
            "goals": (
                "Many of our suppliers make parts for diesel engines and need a plan for electric drivetrains. "
                "We want to learn how a cluster maps its members' skills, sets up reskilling with training "
                "centres and helps suppliers enter battery value chains."
            ),
            "preferred_countries": ["IT", "DE", "AT"],
            "excluded_countries": [],
            "days": 10,
            "travel_window": None,
            "participants": 1,
        },
    },
    {
        "organisation": {
            "name": "Lviv MedTech Cluster",
            "kind": "cluster_organisation",
            "country": "UA",
            "city": "Lviv",
            "website": "https://medtech-lviv.example/",
        },
        "contact": {"name": "Oksana Kovalenko", "email": "oksana.kovalenko@medtech-lviv.example"},
        "partnership": "escp-4x-08",
        "answers": {
            "ecosystems": ["health"],
            "topics": ["access_to_finance", "internationalisation", "research_collaboration"],
            "activities": ["coaching", "meetings"],
            "languages": ["uk", "en", "pl"],
            "formats": ["virtual", "physical"],
            "keywords": ["medical devices", "CE marking", "investors"],
            "goals": (
                "Our start-ups develop rehabilitation devices and need to reach the EU market. We look for a "
                "host that coaches companies through CE marking under the MDR and prepares them for investors, "
                "and that would open contacts with hospitals for clinical studies."
            ),
            "preferred_countries": [],
            "excluded_countries": [],
            "days": 3,
            "travel_window": {"start": "2027-02-01", "end": "2027-03-31"},
            "participants": 3,
        },
    },
)


CreateT = TypeVar("CreateT", HostEntryCreate, ApplicationCreate)
AnswersT = TypeVar("AnswersT", HostAnswers, VisitorAnswers)
ExchangeStepT = TypeVar("ExchangeStepT", bound=ExchangeStep)


@dataclass(frozen=True)
class ExampleSide(Generic[CreateT, AnswersT]):
    """The examples of one side of an exchange, hosts or visitors: as posted payloads and as validated models."""

    entries: tuple[dict[str, Any], ...]
    create_model: type[CreateT]
    answers_model: type[AnswersT]

    def payload(
        self,
        index: int = 0,
        *,
        organisation: dict[str, Any] | None = None,
        contact: dict[str, Any] | None = None,
        answers: dict[str, Any] | None = None,
        partnership: str | None = None,
    ) -> dict[str, Any]:
        """JSON body of the side's POST for example `index`, each section updated with the overrides."""
        entry = copy.deepcopy(self.entries[index % len(self.entries)])
        for section, changes in (("organisation", organisation), ("contact", contact), ("answers", answers)):
            if changes:
                entry[section].update(copy.deepcopy(changes))
        if partnership is not None:
            entry["partnership"] = partnership
        return entry

    def create(self, index: int = 0, **overrides: Any) -> CreateT:
        """The validated Create document of example `index`."""
        return self.create_model.model_validate(self.payload(index, **overrides))

    def organisation(self, index: int = 0, **overrides: Any) -> Organisation:
        """The organisation of example `index`."""
        return Organisation.model_validate(self.payload(index, organisation=overrides)["organisation"])

    def contact(self, index: int = 0, **overrides: Any) -> Contact:
        """The contact person of example `index`."""
        return Contact.model_validate(self.payload(index, contact=overrides)["contact"])

    def answers(self, index: int = 0, **overrides: Any) -> AnswersT:
        """The answers of example `index`, with fields replaced by `overrides`."""
        return self.answers_model.model_validate(self.payload(index, answers=overrides)["answers"])


HOSTS = ExampleSide(HOST_EXAMPLES, HostEntryCreate, HostAnswers)
VISITORS = ExampleSide(VISITOR_EXAMPLES, ApplicationCreate, VisitorAnswers)

# The host and visitor fixtures the tests call (POST /api/catalogue/hosts and POST /api/applications bodies).
host_entry_payload = HOSTS.payload
application_payload = VISITORS.payload
host_entry_create = HOSTS.create
application_create = VISITORS.create
host_organisation = HOSTS.organisation
visitor_organisation = VISITORS.organisation
host_contact = HOSTS.contact
visitor_contact = VISITORS.contact
host_answers = HOSTS.answers
visitor_answers = VISITORS.answers


def host_answers_submitted(
    index: int = 0, *, host_id: UUID | None = None, revision: int = 1, **answer_overrides: Any
) -> HostAnswersSubmitted:
    """A HostAnswersSubmitted for example host `index` (a random host_id unless given)."""
    return HostAnswersSubmitted(
        host_id=host_id or uuid4(),
        revision=revision,
        organisation=host_organisation(index),
        answers=host_answers(index, **answer_overrides),
    )


def visitor_answers_submitted(
    index: int = 0, *, application_id: UUID | None = None, revision: int = 1, **answer_overrides: Any
) -> VisitorAnswersSubmitted:
    """A VisitorAnswersSubmitted for example visitor `index` (a random application_id unless given)."""
    return VisitorAnswersSubmitted(
        application_id=application_id or uuid4(),
        revision=revision,
        organisation=visitor_organisation(index),
        answers=visitor_answers(index, **answer_overrides),
    )


def host_answers_withdrawn(
    *, host_id: UUID | None = None, revision: int = 2, reason: WithdrawalReason = WithdrawalReason.WITHDRAWN
) -> HostAnswersWithdrawn:
    """A host's tombstone descriptor (a random host_id unless given)."""
    return HostAnswersWithdrawn(host_id=host_id or uuid4(), revision=revision, reason=reason)


def visitor_answers_withdrawn(
    *, application_id: UUID | None = None, revision: int = 2, reason: WithdrawalReason = WithdrawalReason.WITHDRAWN
) -> VisitorAnswersWithdrawn:
    """An application's tombstone descriptor (a random application_id unless given)."""
    return VisitorAnswersWithdrawn(application_id=application_id or uuid4(), revision=revision, reason=reason)


def match_found(
    *,
    application_id: UUID | None = None,
    host_ids: list[UUID] | None = None,
    trigger: MatchTrigger = "new-application",
    revision: int = 1,
    model_version: str = "all-MiniLM-L6-v2+weights-2026.1",
) -> MatchFound:
    """A MatchFound ranking `host_ids` (three random hosts unless given) in that order, with explanations."""
    host_ids = [uuid4() for _ in range(3)] if host_ids is None else host_ids
    matches = []
    for position, host_id in enumerate(host_ids):
        semantic = round(0.62 - 0.07 * position, 4)
        overlap = round(0.21 - 0.03 * position, 4)
        matches.append(
            HostMatch(
                host_id=host_id,
                rank=position + 1,
                score=round(semantic + overlap + 0.05, 4),
                explanation={"semantic": semantic, "ecosystems": overlap, "preferred_country": 0.05},
            )
        )
    return MatchFound(
        match_run_id=uuid4(),
        application_id=application_id or uuid4(),
        revision=revision,
        trigger=trigger,
        model_version=model_version,
        matches=matches,
    )


def notification_sent(
    *,
    recipient_id: UUID | None = None,
    kind: NotificationKind = NotificationKind.MATCH_PROPOSAL_VISITOR,
    match_run_id: UUID | None = None,
) -> NotificationSent:
    """A NotificationSent for a match proposal (or a digest), random ids unless given."""
    recipient_kind = "host" if kind is NotificationKind.MATCH_PROPOSAL_HOST else "visitor"
    return NotificationSent(
        notification_id=uuid4(),
        recipient_kind=recipient_kind,
        recipient_id=recipient_id or uuid4(),
        kind=kind,
        match_run_id=match_run_id or (None if kind is NotificationKind.DIGEST else uuid4()),
        sent_at=utc_now(),
    )


def exchange_step(
    step: type[ExchangeStepT] | None = None,
    *,
    exchange_id: UUID | None = None,
    revision: int = 1,
    **overrides: Any,
) -> ExchangeStepT:
    """An exchange event of the given step (a request by default): a physical exchange of two visitors for the
    first week of March 2027, random ids unless given; an agreement or completion carries a full grant."""
    event_class: Any = step or ExchangeRequested
    fields: dict[str, Any] = {
        "exchange_id": exchange_id or uuid4(),
        "revision": revision,
        "state": event_class.STATE,
        "application_id": uuid4(),
        "host_id": uuid4(),
        "visitor_partnership": "escp-4x-06",
        "host_partnership": "escp-4x-01",
        "format": "physical",
        "dates": {"start": "2027-03-01", "end": "2027-03-05"},
        "working_days": 5,
        "participants": 2,
    }
    if event_class in (ExchangeAgreed, ExchangeCompleted):
        fields["grant"] = Grant(
            amount_cents=270_000, cap_cents=270_000, halved=False, distance_km=1718.4, host_country="DE", working_days=5
        )
    if event_class is ExchangeWithdrawn:
        fields |= {"withdrawn_by": "visitor", "previous_state": "accepted"}
    result: ExchangeStepT = event_class.model_validate({**fields, **overrides})
    return result
