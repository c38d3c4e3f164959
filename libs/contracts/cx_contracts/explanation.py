"""Why a host was proposed, in plain words: the reasons behind a MatchFound's `explanation`, told the same way
in every e-mail and on every page.

The explanation's criteria are part of the MatchFound contract, so the words that tell them to a person live
beside it: the notifier's mails and the web pages both read them from here, and a person reads the same
sentence in the mail and on the page. Other languages translate these sentences in the notifier's template
folders (`phrases.json`); English is the reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Audience = Literal["visitor", "host"]

# What each criterion means to the one who reads it: the visitor (why this host) or the host (why this visitor).
CRITERION_SENTENCES: dict[Audience, dict[str, str]] = {
    "visitor": {
        "semantic": "What they can teach is close to what you want to learn.",
        "ecosystems": "They work in the industrial ecosystems you work in.",
        "topics": "They work on the topics you are interested in.",
        "activities": "They offer the activities you are looking for.",
        "keywords": "Their keywords match yours.",
        "preferred_country": "They are in a country you would like to visit.",
    },
    "host": {
        "semantic": "Your expertise is close to what they want to learn.",
        "ecosystems": "They work in the industrial ecosystems you work in.",
        "topics": "They are interested in the topics you work on.",
        "activities": "You offer the activities they are looking for.",
        "keywords": "Their keywords match yours.",
        "preferred_country": "Your country is one they would like to visit.",
    },
}
# A criterion added to the matcher before its sentence was written still reads as something.
OTHER_CRITERION = "The criterion \u201c{criterion}\u201d adds to the fit."


@dataclass(frozen=True)
class Reason:
    """One criterion's part of the fit: its name and its share of the positive contributions, in percent."""

    criterion: str
    share: int

    def sentence(self, audience: Audience) -> str:
        """The reason in plain English, told to the visitor or to the host."""
        return reason_sentence(self.criterion, audience)


def reason_sentence(criterion: str, audience: Audience) -> str:
    """The English sentence saying why `criterion` made the fit, told to the visitor or to the host."""
    sentence = CRITERION_SENTENCES[audience].get(criterion)
    return sentence or OTHER_CRITERION.format(criterion=criterion.replace("_", " "))


def reasons(explanation: Mapping[str, float]) -> tuple[Reason, ...]:
    """The criteria that helped, highest contribution first; shares in whole percent of the helping total.

    Criteria that added nothing (or counted against the host) are not a reason to contact it, so they are
    left out. Ties keep the matcher's own order, so a mail reads the same on every replay.
    """
    helping = [(name, value) for name, value in explanation.items() if value > 0]
    total = sum(value for _, value in helping)
    ordered = sorted(enumerate(helping), key=lambda item: (-item[1][1], item[0]))
    return tuple(Reason(criterion=name, share=max(1, round(100 * value / total))) for _, (name, value) in ordered)
