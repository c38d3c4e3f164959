"""What the deploy tests share: the settings the deploy files pass that no Settings class has yet."""

from __future__ import annotations

from collections.abc import Callable

import pytest

# Settings the deploy files already pass (DESIGN.md says the service reads them) whose fields its Settings
# class does not have yet. A check of such a variable is an expected failure, strictly: once the field
# lands the check passes, pytest reports that as a failure (XPASS strict), and the pair must go from here.
PENDING_SETTINGS_FIELDS: dict[tuple[str, str], str] = {}


@pytest.fixture
def expect_settings_field(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """Call with (service, SETTING): a pending setting turns the test into a strict expected failure."""

    def expect(service: str, setting: str) -> None:
        reason = PENDING_SETTINGS_FIELDS.get((service, setting))
        if reason is not None:
            request.applymarker(pytest.mark.xfail(strict=True, reason=f"{service} {setting}: {reason}"))

    return expect
