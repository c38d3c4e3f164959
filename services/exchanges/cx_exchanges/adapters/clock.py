"""What day it is: the system's UTC date, or in development and tests the date a file names."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path


class SystemClock:
    """Today's date in UTC."""

    def today(self) -> date:
        """Today in UTC."""
        return datetime.now(UTC).date()


class FileClock:
    """The date written in a file (ISO 8601), read each time, or today's when the file is absent or empty: lets a
    test of the running system move past an exchange's end date. Never used in production (the settings refuse
    it there)."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def today(self) -> date:
        """The file's date, or today in UTC."""
        try:
            text = self._path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            text = ""
        return date.fromisoformat(text) if text else SystemClock().today()
