"""A host's catalogue entry: what free text finds it by.

Pure functions of the stored answers (JSON-ready dicts, as the repository keeps them); no I/O. What an entry's
events and views carry is the kit's, configured by the catalogue (adapters/hosts.py, entrypoints/http.py).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any


def searchable(text: str) -> str:
    """Text in the form free-text search compares: NFC-normalised and case-folded."""
    return unicodedata.normalize("NFC", text).casefold()


def search_text(answers: Mapping[str, Any]) -> str:
    """What the catalogue's free-text search looks in: the expertise and the keywords."""
    return searchable("\n".join([answers.get("expertise", ""), *answers.get("keywords", [])]))
