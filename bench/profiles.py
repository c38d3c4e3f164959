"""Generated host and visitor answers for benchmarks: valid questionnaire answers with varied free text.

Deterministic for a seed. The texts combine a sector's subjects with varied openings, member types, regions
and phrasings, so their embeddings spread the way real profiles do (clusters per field, overlaps between
fields) rather than as random vectors. They are denser and more alike than real texts (see
/work/shared/notes/performance.md, A2c), which makes approximate search harder, not easier.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any, NamedTuple
from uuid import UUID, uuid5

from cx_contracts.vocabulary import EligibleCountry

NAMESPACE = UUID("1f6f3c2e-2b7e-4e0b-8f3e-6b1d1c2a9e10")

# field: (ecosystems, topics, subjects). A subject is (what is done, keyword).
SECTORS: dict[str, tuple[list[str], list[str], list[tuple[str, str]]]] = {
    "farming": (
        ["agri_food", "digital"],
        ["digital_transformation", "innovation_uptake", "sme_services"],
        [
            ("a data-sharing platform for livestock and dairy farms", "farm data"),
            ("sensors and decision support for vineyards and orchards", "precision agriculture"),
            ("pilots that pair agri-tech start-ups with farms", "agri-tech pilots"),
            ("satellite and drone monitoring of crops", "crop monitoring"),
            ("robotics for milking, feeding and harvesting", "farm robotics"),
            ("irrigation planning that saves water in dry summers", "irrigation"),
        ],
    ),
    "food": (
        ["agri_food", "retail"],
        ["internationalisation", "innovation_uptake", "sme_services"],
        [
            ("joint export of olive oil, wine and cheese under a collective brand", "food export"),
            ("traceability of processed food from farm to shelf", "food traceability"),
            ("plant-based and fermented protein products scaled up in a pilot plant", "alternative proteins"),
            ("food safety testing and audits for small processors", "food safety"),
            ("short supply chains with box schemes and farmers' markets", "local food"),
            ("packaging without plastic for food brands", "sustainable packaging"),
        ],
    ),
    "automotive": (
        ["mobility_transport_automotive", "electronics"],
        ["green_transition", "skills_training", "resilience_supply_chains"],
        [
            ("the move of engine-part suppliers to electric drivetrains", "supplier transition"),
            ("reskilling workers of car plants for battery production", "reskilling"),
            ("recycling and second life of electric car batteries", "battery recycling"),
            ("charging infrastructure along motorways and in cities", "charging"),
            ("predictive maintenance and machine vision in supplier plants", "industry 4.0"),
            ("hydrogen fuel-cell trucks and refuelling stations", "hydrogen mobility"),
        ],
    ),
    "energy": (
        ["energy_renewables", "energy_intensive"],
        ["green_transition", "interregional_cooperation"],
        [
            ("citizen energy communities with rooftop solar", "energy communities"),
            ("green hydrogen from wind power for steel and chemical plants", "green hydrogen"),
            ("the supply chain of floating offshore wind", "offshore wind"),
            ("heat pumps and the training of installers", "heat pumps"),
            ("smart meters, demand response and flexibility markets", "smart grid"),
            ("biomethane from manure and food waste", "biomethane"),
        ],
    ),
    "health": (
        ["health", "digital"],
        ["research_collaboration", "access_to_finance", "innovation_uptake"],
        [
            ("CE marking of medical devices under the MDR", "medical devices"),
            ("remote monitoring of chronic patients connected to hospital records", "telemonitoring"),
            ("clinical investigations run by a network of hospital sites", "clinical trials"),
            ("assistive technology tested with older people in care homes", "active ageing"),
            ("investor readiness of medtech start-ups", "medtech funding"),
            ("GMP training for pharmaceutical operators", "pharma skills"),
        ],
    ),
    "digital": (
        ["digital"],
        ["digital_transformation", "skills_training", "sme_services"],
        [
            ("cybersecurity checks and phishing training for small firms", "cybersecurity"),
            ("artificial intelligence tried on SMEs' own production data", "AI adoption"),
            ("online public services for municipalities", "e-government"),
            ("industrial data spaces with trusted data sharing", "data spaces"),
            ("cloud and edge computing for manufacturers", "cloud computing"),
            ("fintech and regtech sandboxes with banks", "fintech"),
        ],
    ),
    "construction": (
        ["construction", "energy_renewables"],
        ["green_transition", "digital_transformation"],
        [
            ("multi-storey buildings in cross-laminated timber", "timber construction"),
            ("building information modelling for small contractors", "BIM"),
            ("one-stop shops for home energy renovation", "renovation"),
            ("recycled aggregates from demolition waste", "circular construction"),
            ("prefabricated modules and digital twins of buildings", "prefabrication"),
        ],
    ),
    "textile": (
        ["textile", "cultural_creative"],
        ["green_transition", "emerging_industries"],
        [
            ("sorting used clothes and respinning them into yarn", "textile recycling"),
            ("digital product passports for garments", "product passport"),
            ("smart textiles with woven-in sensors", "smart textiles"),
            ("design-thinking sprints for manufacturers", "design"),
            ("immersive virtual reality for museums and heritage sites", "XR heritage"),
            ("incubation and publishing of independent game studios", "game development"),
        ],
    ),
    "tourism": (
        ["tourism"],
        ["green_transition", "digital_transformation", "sme_services"],
        [
            ("visitor flow management against overtourism", "overtourism"),
            ("direct online bookings for family hotels", "hotel marketing"),
            ("year-round offers for mountain resorts with less snow", "mountain tourism"),
            ("gastronomy routes and farm stays", "gastronomy tourism"),
            ("eco-labels for hotels and restaurants", "eco-label"),
        ],
    ),
    "clusters": (
        ["digital", "proximity_social_economy"],
        ["cluster_management_excellence", "internationalisation", "access_to_finance"],
        [
            ("cluster strategy, governance and the ESCA label", "cluster management"),
            ("cross-sector matchmaking events and innovation camps", "matchmaking"),
            ("joint trade missions and partner search abroad", "internationalisation"),
            ("coaching SMEs for EU funding and investors", "EU funding"),
            ("work-integration social enterprises and cooperatives", "social economy"),
            ("measuring the impact of cluster services", "cluster impact"),
        ],
    ),
}

MEMBERS = [
    "small and medium-sized firms",
    "family companies",
    "start-ups and scale-ups",
    "manufacturers",
    "research centres and companies",
    "cooperatives",
    "municipalities and companies",
    "SMEs",
]
REGIONS = [
    "in the north of the country",
    "around the capital",
    "in a rural border region",
    "along the coast",
    "in an old industrial region",
    "in the mountains",
    "across three provinces",
    "in a university city",
]
OPENINGS = [
    "Our cluster brings together {n} {members} {region}.",
    "We are a network of {n} {members} {region}.",
    "Founded {years} years ago, our association links {n} {members} {region}.",
    "{n} {members} {region} work together in our organisation.",
]
FOCUS = [
    "Our main work is {subject}.",
    "We are known for {subject}.",
    "Most of our projects deal with {subject}.",
    "For the last years we have concentrated on {subject}.",
]
SECOND = [
    "We also run programmes on {subject}.",
    "A smaller group of members works on {subject}.",
    "Recently we started a pilot on {subject}.",
    "Members can also get support on {subject}.",
]
OFFER = [
    "Visitors can see how we organised this, meet our members and join our {activity}.",
    "A visiting cluster learns our methods, the mistakes we made and how members pay for the service.",
    "We offer {activity} and visits to member companies.",
    "Visitors spend time with our team and take part in {activity}.",
]
ACTIVITY_WORDS = {
    "meetings": "meetings",
    "trainings": "training courses",
    "coaching": "coaching sessions",
    "workshops": "workshops",
    "site_visits": "site visits",
    "member_matchmaking": "matchmaking days",
    "job_shadowing": "job shadowing",
}
GOAL_OPENINGS = [
    "Our {members} want to learn about {subject}.",
    "We are starting work on {subject} and look for a host that has done it.",
    "Many of our members ask us for help with {subject}.",
    "We want to understand how other regions organised {subject}.",
]
GOAL_SECOND = [
    "We would also like to see {subject}.",
    "Ideally the host also knows about {subject}.",
    "A second interest is {subject}.",
    "",
]
GOAL_END = [
    "We want to meet companies, see working examples and bring back a plan for our cluster.",
    "We hope to start a joint project after the visit.",
    "Our staff would take part in {activity} and visit member firms.",
    "We need practical advice more than presentations.",
]

COUNTRY_LANGUAGE = {
    "AT": "de",
    "BE": "nl",
    "BG": "bg",
    "HR": "hr",
    "CY": "el",
    "CZ": "cs",
    "DK": "da",
    "EE": "et",
    "FI": "fi",
    "FR": "fr",
    "DE": "de",
    "GR": "el",
    "HU": "hu",
    "IE": "en",
    "IT": "it",
    "LV": "lv",
    "LT": "lt",
    "LU": "fr",
    "MT": "mt",
    "NL": "nl",
    "PL": "pl",
    "PT": "pt",
    "RO": "ro",
    "SK": "sk",
    "SI": "sl",
    "ES": "es",
    "SE": "sv",
    "IS": "is",
    "LI": "de",
    "NO": "no",
    "AL": "sq",
    "BA": "bs",
    "ME": "sr",
    "MK": "mk",
    "RS": "sr",
    "TR": "tr",
    "UA": "uk",
    "XK": "sq",
    "MD": "ro",
}
COUNTRIES = sorted(c.value for c in EligibleCountry)


def _organisation(rng: random.Random, index: int, country: str, role: str) -> dict[str, Any]:
    return {
        "name": f"Bench {role} organisation {index}",
        "kind": "cluster_organisation",
        "country": country,
        "city": "Benchtown",
        "website": f"https://{role}-{index}.bench.example/",
    }


def _languages(rng: random.Random, country: str) -> list[str]:
    own = COUNTRY_LANGUAGE[country]
    languages = [own] if own != "en" else []
    if rng.random() < 0.9 or not languages:
        languages.append("en")
    if rng.random() < 0.25:
        extra = rng.choice(["de", "fr", "it", "es", "ru", "pl"])
        if extra not in languages:
            languages.append(extra)
    return languages


def _range(rng: random.Random, minimum_weeks: int) -> dict[str, str]:
    start = date(2027, 1, 4) + timedelta(days=rng.randrange(0, 300))
    end = start + timedelta(days=7 * rng.randint(minimum_weeks, 20))
    return {"start": start.isoformat(), "end": end.isoformat()}


class _Theme(NamedTuple):
    """What one generated organisation is about: a field's ecosystems and topics, two of its subjects."""

    ecosystems: list[str]
    topics: list[str]
    first: tuple[str, str]
    second: tuple[str, str]
    activities: list[str]
    country: str


def _theme(rng: random.Random, *, most_activities: int, fewest_activities: int) -> _Theme:
    ecosystems, topics, subjects = SECTORS[rng.choice(list(SECTORS))]
    first, second = rng.sample(subjects, 2)
    activities = rng.sample(list(ACTIVITY_WORDS), rng.randint(fewest_activities, most_activities))
    return _Theme(ecosystems, topics, first, second, activities, rng.choice(COUNTRIES))


def _shared_answers(rng: random.Random, theme: _Theme) -> dict[str, Any]:
    # The answers hosts and visitors share, drawn in the same order for both (the data must not change).
    return {
        "ecosystems": rng.sample(theme.ecosystems, rng.randint(1, len(theme.ecosystems))),
        "topics": rng.sample(theme.topics, rng.randint(1, len(theme.topics))),
        "activities": theme.activities,
        "languages": _languages(rng, theme.country),
    }


def host(seed: int, index: int) -> dict[str, Any]:
    """One host entry line (host_id, organisation, answers) for `index`."""
    rng = random.Random(seed * 1_000_003 + index)
    theme = _theme(rng, most_activities=4, fewest_activities=2)
    first, second, activities, country = theme.first, theme.second, theme.activities, theme.country
    text = " ".join(
        [
            rng.choice(OPENINGS).format(
                n=rng.randint(12, 400),
                members=rng.choice(MEMBERS),
                region=rng.choice(REGIONS),
                years=rng.randint(3, 30),
            ),
            rng.choice(FOCUS).format(subject=first[0]),
            rng.choice(SECOND).format(subject=second[0]),
            rng.choice(OFFER).format(activity=ACTIVITY_WORDS[activities[0]]),
        ]
    )
    availability = [] if rng.random() < 0.4 else [_range(rng, 3) for _ in range(rng.randint(1, 2))]
    return {
        "host_id": str(uuid5(NAMESPACE, f"host/{seed}/{index}")),
        "organisation": _organisation(rng, index, country, "host"),
        "answers": {
            **_shared_answers(rng, theme),
            "formats": rng.choice([["physical"], ["virtual"], ["physical", "virtual"], ["physical", "virtual"]]),
            "expertise": text,
            "keywords": [first[1], second[1]],
            "availability": availability,
            "max_days": rng.randint(5, 22),
            "capacity": rng.randint(1, 6),
        },
    }


def visitor(seed: int, index: int) -> dict[str, Any]:
    """One application line (application_id, organisation, answers) for `index`."""
    rng = random.Random(seed * 2_000_003 + index)
    theme = _theme(rng, most_activities=3, fewest_activities=1)
    first, second, activities, country = theme.first, theme.second, theme.activities, theme.country
    days = rng.randint(3, 10)
    text = " ".join(
        part
        for part in [
            rng.choice(GOAL_OPENINGS).format(members=rng.choice(MEMBERS), subject=first[0]),
            rng.choice(GOAL_SECOND).format(subject=second[0]),
            rng.choice(GOAL_END).format(activity=ACTIVITY_WORDS[activities[0]]),
        ]
        if part
    )
    window = None if rng.random() < 0.5 else _range(rng, 4)
    return {
        "application_id": str(uuid5(NAMESPACE, f"application/{seed}/{index}")),
        "organisation": _organisation(rng, index, country, "visitor"),
        "answers": {
            **_shared_answers(rng, theme),
            "formats": rng.choice([["physical"], ["physical", "virtual"], ["physical", "virtual"]]),
            "keywords": [first[1]] + ([second[1]] if rng.random() < 0.5 else []),
            "goals": text,
            "preferred_countries": [c for c in rng.sample(COUNTRIES, rng.randint(0, 3)) if c != country],
            "excluded_countries": [],
            "days": days,
            "travel_window": window,
            "participants": rng.randint(1, 4),
        },
    }
