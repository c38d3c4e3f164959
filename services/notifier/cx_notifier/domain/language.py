"""Which language a mail is written in."""

from __future__ import annotations

from collections.abc import Iterable, Set

DEFAULT_LANGUAGE = "en"


def choose_language(spoken: Iterable[str], available: Set[str]) -> str:
    """The first language the organisation works in that has templates; English otherwise."""
    for language in spoken:
        if language in available:
            return language
    return DEFAULT_LANGUAGE
