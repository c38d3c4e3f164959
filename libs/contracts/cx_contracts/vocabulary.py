"""The closed lists of the questionnaire: organisation kinds, ecosystems, topics, activities, formats, countries.

Every value here is part of the public contract: adding a value is additive, renaming or removing one is a
breaking change (a new major topic).
"""

from __future__ import annotations

from enum import StrEnum

import pycountry

# An exchange lasts from 3 working days (travel excluded) to one month (DESIGN.md, scheme rules).
# One month is counted as 22 working days: an average month has 365.25 / 12 = 30.4 calendar days, which is
# 30.4 * 5 / 7 = 21.7 Monday-to-Friday days, rounded up to 22. (A calendar month holds 20 to 23 weekdays, so
# a fixed figure is needed to make "one month" checkable; 22 is the one the scheme's 3-to-"one month" span
# rounds to.)
MIN_EXCHANGE_DAYS = 3
MAX_EXCHANGE_DAYS = 22
# Below this many working days a physical exchange's lump sum is halved (DESIGN.md); the matcher and the
# partnerships read it, the questionnaire does not enforce it.
HALF_GRANT_BELOW_DAYS = 5


class OrganisationKind(StrEnum):
    """What kind of organisation answers the questionnaire."""

    CLUSTER_ORGANISATION = "cluster_organisation"
    BUSINESS_NETWORK = "business_network"
    SME = "sme"
    RESEARCH_ORGANISATION = "research_organisation"
    PUBLIC_BODY = "public_body"
    OTHER = "other"

    @property
    def label(self) -> str:
        """English label for pages and e-mails."""
        return _ORGANISATION_KIND_LABELS[self]


class Ecosystem(StrEnum):
    """The 14 industrial ecosystems of the EU industrial strategy."""

    AEROSPACE_DEFENCE = "aerospace_defence"
    AGRI_FOOD = "agri_food"
    CONSTRUCTION = "construction"
    CULTURAL_CREATIVE = "cultural_creative"
    DIGITAL = "digital"
    ELECTRONICS = "electronics"
    ENERGY_INTENSIVE = "energy_intensive"
    ENERGY_RENEWABLES = "energy_renewables"
    HEALTH = "health"
    MOBILITY_TRANSPORT_AUTOMOTIVE = "mobility_transport_automotive"
    PROXIMITY_SOCIAL_ECONOMY = "proximity_social_economy"
    RETAIL = "retail"
    TEXTILE = "textile"
    TOURISM = "tourism"

    @property
    def label(self) -> str:
        """English label for pages and e-mails."""
        return _ECOSYSTEM_LABELS[self]


class Topic(StrEnum):
    """What an exchange can be about."""

    INTERNATIONALISATION = "internationalisation"
    INNOVATION_UPTAKE = "innovation_uptake"
    DIGITAL_TRANSFORMATION = "digital_transformation"
    GREEN_TRANSITION = "green_transition"
    RESILIENCE_SUPPLY_CHAINS = "resilience_supply_chains"
    SKILLS_TRAINING = "skills_training"
    CLUSTER_MANAGEMENT_EXCELLENCE = "cluster_management_excellence"
    ACCESS_TO_FINANCE = "access_to_finance"
    SME_SERVICES = "sme_services"
    INTERREGIONAL_COOPERATION = "interregional_cooperation"
    RESEARCH_COLLABORATION = "research_collaboration"
    EMERGING_INDUSTRIES = "emerging_industries"

    @property
    def label(self) -> str:
        """English label for pages and e-mails."""
        return _TOPIC_LABELS[self]


class Activity(StrEnum):
    """What happens during an exchange: offered by hosts, wanted by visitors."""

    MEETINGS = "meetings"
    TRAININGS = "trainings"
    COACHING = "coaching"
    WORKSHOPS = "workshops"
    SITE_VISITS = "site_visits"
    MEMBER_MATCHMAKING = "member_matchmaking"
    JOB_SHADOWING = "job_shadowing"

    @property
    def label(self) -> str:
        """English label for pages and e-mails."""
        return self.value.replace("_", " ").capitalize()


class ExchangeFormat(StrEnum):
    """Physical exchanges get a grant; virtual ones get none and do not rule out a later physical one."""

    PHYSICAL = "physical"
    VIRTUAL = "virtual"

    @property
    def label(self) -> str:
        """English label for pages and e-mails."""
        return self.value.capitalize()


class EligibleCountry(StrEnum):
    """Countries an organisation may be registered in: EU-27 plus the countries associated to the SMP.

    Codes are ISO 3166-1 alpha-2 (Greece is GR, not the EU's "EL"), plus XK, the user-assigned code the
    European Commission and most registries use for Kosovo.

    Source and uncertainty: DESIGN.md says "EU and single-market-programme countries". The third countries
    below are those known to have joined the Single Market Programme 2021-2027 (or its COSME strand, which
    funds ClusterXchange) as of the time of writing. Türkiye took part in COSME 2014-2020; its association
    to the SMP is not confirmed here and should be checked with the Support Office, as should Liechtenstein
    (EEA, but not a COSME participant). Armenia took part in COSME but is not listed as SMP-associated.
    Switzerland and the United Kingdom are not associated. Update this list, never the validators, when the
    Commission's list of participating countries changes.
    """

    # EU-27 member states
    AT = "AT"  # Austria
    BE = "BE"  # Belgium
    BG = "BG"  # Bulgaria
    HR = "HR"  # Croatia
    CY = "CY"  # Cyprus
    CZ = "CZ"  # Czechia
    DK = "DK"  # Denmark
    EE = "EE"  # Estonia
    FI = "FI"  # Finland
    FR = "FR"  # France
    DE = "DE"  # Germany
    GR = "GR"  # Greece
    HU = "HU"  # Hungary
    IE = "IE"  # Ireland
    IT = "IT"  # Italy
    LV = "LV"  # Latvia
    LT = "LT"  # Lithuania
    LU = "LU"  # Luxembourg
    MT = "MT"  # Malta
    NL = "NL"  # Netherlands
    PL = "PL"  # Poland
    PT = "PT"  # Portugal
    RO = "RO"  # Romania
    SK = "SK"  # Slovakia
    SI = "SI"  # Slovenia
    ES = "ES"  # Spain
    SE = "SE"  # Sweden
    # EEA EFTA states
    IS = "IS"  # Iceland
    LI = "LI"  # Liechtenstein (see the uncertainty note above)
    NO = "NO"  # Norway
    # Candidate and potential candidate countries associated to the SMP
    AL = "AL"  # Albania
    BA = "BA"  # Bosnia and Herzegovina
    ME = "ME"  # Montenegro
    MK = "MK"  # North Macedonia
    RS = "RS"  # Serbia
    TR = "TR"  # Türkiye (see the uncertainty note above)
    UA = "UA"  # Ukraine
    XK = "XK"  # Kosovo (designation without prejudice to positions on status)
    MD = "MD"  # Moldova

    @property
    def label(self) -> str:
        """English short name of the country."""
        return country_name(self.value) or self.value  # every eligible code has a name; the code is the fallback


# The scheme is run by 13 partnerships (ESCP-4x); an application and a host entry name the one that validates
# the organisation's registration, and a partnership's managers read its organisations' records. These are the
# default ids of every service's configured list (CX_<SERVICE>_PARTNERSHIPS), with the names pages show.
PARTNERSHIPS: dict[str, str] = {f"escp-4x-{number:02d}": f"ESCP-4x partnership {number}" for number in range(1, 14)}
PARTNERSHIP_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,59}$"


EU_MEMBER_STATES: frozenset[str] = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
)
ELIGIBLE_COUNTRIES: frozenset[str] = frozenset(EligibleCountry)

# Codes people type that are not ISO 3166-1 alpha-2, with the code they most likely meant.
COUNTRY_CODE_HINTS: dict[str, str] = {"EL": "GR", "UK": "GB", "KV": "XK", "KS": "XK"}


def country_name(code: str) -> str | None:
    """English short name of an ISO 3166-1 alpha-2 code (XK included), or None when unknown."""
    if code == "XK":
        return "Kosovo"
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        return None
    country = pycountry.countries.get(alpha_2=code)
    return None if country is None else country.name


def language_name(code: str) -> str | None:
    """English name of an ISO 639-1 code, or None when unknown."""
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        return None
    language = pycountry.languages.get(alpha_2=code)
    return None if language is None else language.name


_ORGANISATION_KIND_LABELS = {
    OrganisationKind.CLUSTER_ORGANISATION: "Cluster organisation",
    OrganisationKind.BUSINESS_NETWORK: "Business network organisation",
    OrganisationKind.SME: "Small or medium-sized enterprise",
    OrganisationKind.RESEARCH_ORGANISATION: "Research or technology organisation",
    OrganisationKind.PUBLIC_BODY: "Public body",
    OrganisationKind.OTHER: "Other",
}

_ECOSYSTEM_LABELS = {
    Ecosystem.AEROSPACE_DEFENCE: "Aerospace & Defence",
    Ecosystem.AGRI_FOOD: "Agri-food",
    Ecosystem.CONSTRUCTION: "Construction",
    Ecosystem.CULTURAL_CREATIVE: "Cultural & Creative Industries",
    Ecosystem.DIGITAL: "Digital",
    Ecosystem.ELECTRONICS: "Electronics",
    Ecosystem.ENERGY_INTENSIVE: "Energy-intensive Industries",
    Ecosystem.ENERGY_RENEWABLES: "Energy - Renewables",
    Ecosystem.HEALTH: "Health",
    Ecosystem.MOBILITY_TRANSPORT_AUTOMOTIVE: "Mobility - Transport - Automotive",
    Ecosystem.PROXIMITY_SOCIAL_ECONOMY: "Proximity, Social Economy & Civil Security",
    Ecosystem.RETAIL: "Retail",
    Ecosystem.TEXTILE: "Textile",
    Ecosystem.TOURISM: "Tourism",
}

_TOPIC_LABELS = {
    Topic.INTERNATIONALISATION: "Internationalisation",
    Topic.INNOVATION_UPTAKE: "Innovation uptake",
    Topic.DIGITAL_TRANSFORMATION: "Digital transformation",
    Topic.GREEN_TRANSITION: "Green transition",
    Topic.RESILIENCE_SUPPLY_CHAINS: "Resilience of supply chains",
    Topic.SKILLS_TRAINING: "Skills and training",
    Topic.CLUSTER_MANAGEMENT_EXCELLENCE: "Cluster management excellence",
    Topic.ACCESS_TO_FINANCE: "Access to finance",
    Topic.SME_SERVICES: "Services for SMEs",
    Topic.INTERREGIONAL_COOPERATION: "Interregional cooperation",
    Topic.RESEARCH_COLLABORATION: "Research collaboration",
    Topic.EMERGING_INDUSTRIES: "Emerging industries",
}
