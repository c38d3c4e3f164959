"""The questionnaires as forms: which fields a page shows, how a submitted form becomes the API's document,
and where each problem the API names goes on the page.

The rules live in the API (cx_contracts' models, enforced by the services): nothing here checks an answer.
A form field is named by the path of the document field it fills (`answers.ecosystems`,
`answers.availability[0].end`), so the `errors[].field` of a 422 problem points straight at it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from cx_contracts.vocabulary import (
    Activity,
    Ecosystem,
    EligibleCountry,
    ExchangeFormat,
    OrganisationKind,
    Topic,
)

# What a form holds: each field's submitted values, as text (a checkbox group or a multiple select has many).
FormValues = dict[str, list[str]]
RecordKind = Literal["host", "visitor"]
# What a form is of: a questionnaire of a host or a visitor, or one of an exchange's steps (cx_web.domain.exchanges).
FormKind = Literal["host", "visitor", "exchange"]

AVAILABILITY_ROWS = 4
_INTEGER = re.compile(r"[+-]?\d{1,9}")
_INDEX = re.compile(r"\[(\d+)\]")


class Widget(StrEnum):
    """How a field is asked for on the page."""

    TEXT = "text"
    TEXTAREA = "textarea"
    URL = "url"
    NUMBER = "number"
    DATE = "date"
    SELECT = "select"
    CHECKBOXES = "checkboxes"
    CODES = "codes"  # short codes typed in one box, separated by commas or spaces ("en, de")
    TAGS = "tags"  # free tags typed in one box, separated by commas


LIST_WIDGETS = frozenset({Widget.CHECKBOXES, Widget.CODES, Widget.TAGS})


@dataclass(frozen=True)
class Choice:
    """One value a select or a checkbox group offers, and how the page names it."""

    value: str
    label: str


@dataclass(frozen=True)
class FormField:
    """One question: the document field it fills, how it is asked, and what helps answering it."""

    name: str
    label: str
    widget: Widget
    hint: str = ""
    choices: tuple[Choice, ...] = ()
    optional: bool = False

    @property
    def id(self) -> str:
        """The HTML id of the field (and the target of the error summary's link)."""
        return "field-" + re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")

    def shown(self, values: Sequence[str]) -> str:
        """Values as a person reads them: the labels of chosen values, or the text as typed."""
        names = {choice.value: choice.label for choice in self.choices}
        return ", ".join(names.get(value, value) for value in values) or "(empty)"

    @property
    def is_list(self) -> bool:
        """Whether the field holds a list in the document."""
        return self.widget in LIST_WIDGETS


@dataclass(frozen=True)
class FieldGroup:
    """Questions shown together under one legend."""

    legend: str
    fields: tuple[FormField, ...]
    hint: str = ""


@dataclass(frozen=True)
class FieldError:
    """A problem the API named, as the page shows it: beside `field` (None: only in the summary)."""

    field: FormField | None
    message: str


@dataclass(frozen=True)
class FormProblems:
    """Where each error of a 422 goes: per form field, and those that belong to no field."""

    by_field: dict[str, list[str]] = field(default_factory=dict)
    summary: list[FieldError] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.summary)


def _choices(values: Any) -> tuple[Choice, ...]:
    return tuple(Choice(member.value, member.label) for member in values)


def country_choices() -> tuple[Choice, ...]:
    """The eligible countries, by their English name."""
    return tuple(sorted(_choices(EligibleCountry), key=lambda choice: choice.label))


def partnership_choices(partnerships: Mapping[str, str]) -> tuple[Choice, ...]:
    """The scheme's partnerships (id -> name) as choices, in the order given."""
    return tuple(Choice(value, label) for value, label in partnerships.items())


def _organisation_and_contact(partnerships: tuple[Choice, ...], who: str) -> tuple[FieldGroup, ...]:
    organisation = FieldGroup(
        "Your organisation",
        (
            FormField("organisation.name", "Registered name", Widget.TEXT, "As your partnership knows it."),
            FormField("organisation.kind", "Kind of organisation", Widget.SELECT, choices=_choices(OrganisationKind)),
            FormField("organisation.country", "Country of registration", Widget.SELECT, choices=country_choices()),
            FormField("organisation.city", "City or town", Widget.TEXT),
            FormField("organisation.website", "Website", Widget.URL, "An http or https address."),
            FormField(
                "partnership",
                "Partnership",
                Widget.SELECT,
                "The ClusterXchange partnership that validates your registration.",
                choices=partnerships,
            ),
        ),
    )
    contact = FieldGroup(
        "Contact person",
        (FormField("contact.name", "Full name", Widget.TEXT, f"Who answers for the organisation about {who}."),),
        hint="Mail about proposals goes to the address you signed in with; it is never shown in the catalogue.",
    )
    return organisation, contact


def _shared_answers(what: str, *, activities: str, languages: str, formats: str) -> tuple[FormField, ...]:
    """The questions both questionnaires ask first, in the words of who answers them."""
    return (
        FormField(
            "answers.ecosystems", "Industrial ecosystems", Widget.CHECKBOXES, "One to three.", _choices(Ecosystem)
        ),
        FormField("answers.topics", "Topics", Widget.CHECKBOXES, f"What {what} is about.", _choices(Topic)),
        FormField("answers.activities", activities, Widget.CHECKBOXES, choices=_choices(Activity)),
        FormField("answers.languages", languages, Widget.CODES, "ISO 639-1 codes, e.g. en, de, sl."),
        FormField("answers.formats", formats, Widget.CHECKBOXES, choices=_choices(ExchangeFormat)),
    )


KEYWORDS = FormField("answers.keywords", "Keywords", Widget.TAGS, "Separated by commas.", optional=True)


def host_questionnaire(partnerships: Mapping[str, str]) -> Questionnaire:
    """The host's questionnaire: its catalogue entry."""
    availability = tuple(
        FormField(
            f"answers.availability[{row}].{end}",
            f"Available {'from' if end == 'start' else 'until'} (period {row + 1})",
            Widget.DATE,
            optional=True,
        )
        for row in range(AVAILABILITY_ROWS)
        for end in ("start", "end")
    )
    return Questionnaire(
        kind="host",
        groups=(
            *_organisation_and_contact(partnership_choices(partnerships), "its catalogue entry"),
            FieldGroup(
                "What you offer",
                (
                    *_shared_answers(
                        "an exchange with you",
                        activities="Activities you offer",
                        languages="Languages",
                        formats="Formats",
                    ),
                    FormField(
                        "answers.expertise",
                        "What a visitor can learn here",
                        Widget.TEXTAREA,
                        "In your own words, 40 to 4000 characters: this is what visitors are matched on.",
                    ),
                    KEYWORDS,
                ),
            ),
            FieldGroup(
                "When and how many",
                (
                    *availability,
                    FormField("answers.max_days", "Longest exchange, in working days", Widget.NUMBER, "3 to 22."),
                    FormField("answers.capacity", "Exchanges you can take on at once", Widget.NUMBER, "1 to 20."),
                ),
                hint="Leave the periods empty if you can receive visitors at any time.",
            ),
        ),
    )


def visitor_questionnaire(partnerships: Mapping[str, str]) -> Questionnaire:
    """The visitor's questionnaire: its application."""
    countries = country_choices()
    return Questionnaire(
        kind="visitor",
        groups=(
            *_organisation_and_contact(partnership_choices(partnerships), "its application"),
            FieldGroup(
                "What you are looking for",
                (
                    *_shared_answers(
                        "the exchange",
                        activities="Activities you want",
                        languages="Languages you speak",
                        formats="Formats you accept",
                    ),
                    FormField(
                        "answers.goals",
                        "What you want to learn",
                        Widget.TEXTAREA,
                        "In your own words, 40 to 4000 characters: hosts are matched on this.",
                    ),
                    KEYWORDS,
                    FormField(
                        "answers.preferred_countries",
                        "Host countries you would prefer",
                        Widget.CHECKBOXES,
                        "A preference, not a filter.",
                        countries,
                        optional=True,
                    ),
                    FormField(
                        "answers.excluded_countries",
                        "Host countries you rule out",
                        Widget.CHECKBOXES,
                        choices=countries,
                        optional=True,
                    ),
                ),
            ),
            FieldGroup(
                "When and how many",
                (
                    FormField("answers.days", "Length of the exchange, in working days", Widget.NUMBER, "3 to 22."),
                    FormField("answers.travel_window.start", "Can travel from", Widget.DATE, optional=True),
                    FormField("answers.travel_window.end", "Can travel until", Widget.DATE, optional=True),
                    FormField("answers.participants", "Participants", Widget.NUMBER, "1 to 10 people."),
                ),
                hint="Leave the travel dates empty if any time suits you.",
            ),
        ),
    )


@dataclass(frozen=True)
class Questionnaire:
    """A questionnaire as a form: its groups of fields, and the moves between form values and API document."""

    kind: FormKind
    groups: tuple[FieldGroup, ...]

    @property
    def fields(self) -> tuple[FormField, ...]:
        """Every field, in page order."""
        return tuple(f for group in self.groups for f in group.fields)

    def field_named(self, name: str) -> FormField | None:
        """The field filling document field `name`, if the form has one."""
        return next((f for f in self.fields if f.name == name), None)

    def values(self, form: Mapping[str, Sequence[str]]) -> FormValues:
        """The form's own fields from a submitted form, with date periods moved up to fill the gaps."""
        values = {f.name: [v.strip() for v in form.get(f.name, ()) if v.strip()] for f in self.fields}
        return self._periods_in_order(values)

    def document(self, values: FormValues, *, contact_email: str | None) -> dict[str, Any]:
        """The API's Create / Update document of `values` (from `values()`); empty answers are left out."""
        document: dict[str, Any] = {}
        for form_field in self.fields:
            given = values.get(form_field.name, [])
            value = _document_value(form_field, given)
            if value is not None:
                _place(document, form_field.name, value)
        if contact_email:
            document.setdefault("contact", {})["email"] = contact_email
        return document

    def from_document(self, document: Mapping[str, Any]) -> FormValues:
        """The form values showing a stored record (an owner's view), for editing it."""
        values: FormValues = {}
        for form_field in self.fields:
            value = _lookup(document, form_field.name)
            if value is None:
                continue
            items = value if isinstance(value, list) else [value]
            text = [str(item) for item in items]
            if form_field.widget in (Widget.CODES, Widget.TAGS):
                text = [", ".join(text)] if text else []
            values[form_field.name] = text
        return values

    def problems(self, errors: Sequence[Mapping[str, Any]], document: Mapping[str, Any]) -> FormProblems:
        """The API's `errors[]` placed on the form: each beside the field it names, all in the summary."""
        problems = FormProblems()
        for error in errors:
            path = str(error.get("field") or "")
            message = str(error.get("message") or "Invalid value")
            form_field = self._field_for(path)
            if form_field is not None and form_field.is_list and _INDEX.search(path[len(form_field.name) :]):
                item = _lookup(document, path)
                if isinstance(item, str):
                    message = f"\u201c{item}\u201d: {message}"
            problems.summary.append(FieldError(form_field, message))
            if form_field is not None:
                problems.by_field.setdefault(form_field.name, []).append(message)
        return problems

    def differences(self, mine: FormValues, current: FormValues) -> dict[str, list[str]]:
        """Fields whose current stored value differs from `mine`: each with the current value, as the form shows it."""
        return {
            f.name: current.get(f.name, [])
            for f in self.fields
            if _comparable(f, mine.get(f.name, [])) != _comparable(f, current.get(f.name, []))
        }

    def _field_for(self, path: str) -> FormField | None:
        """The field an error path points at: itself, the list it is an item of, or the first field inside it."""
        exact = self.field_named(path)
        if exact is not None:
            return exact
        without_items = _INDEX.sub("", path)
        for form_field in self.fields:
            if form_field.is_list and form_field.name == without_items:
                return form_field
        inside = [f for f in self.fields if f.name.startswith(path + ".") or f.name.startswith(path + "[")]
        if inside:
            return inside[0]
        # A whole list of periods ("answers.availability"): its first date.
        return next((f for f in self.fields if path and f.name.startswith(path)), None)

    def _periods_in_order(self, values: FormValues) -> FormValues:
        rows = [
            (values.get(f"answers.availability[{row}].start", []), values.get(f"answers.availability[{row}].end", []))
            for row in range(AVAILABILITY_ROWS)
        ]
        if not any(f"answers.availability[{row}].start" in values for row in range(AVAILABILITY_ROWS)):
            return values
        filled = [row for row in rows if row[0] or row[1]] + [([], [])] * AVAILABILITY_ROWS
        for row, (start, end) in enumerate(filled[:AVAILABILITY_ROWS]):
            values[f"answers.availability[{row}].start"] = start
            values[f"answers.availability[{row}].end"] = end
        return values


def _document_value(form_field: FormField, given: list[str]) -> Any:
    """The document's value of one field, or None to leave it out (the API then says what is missing)."""
    if form_field.widget == Widget.CHECKBOXES:
        return given
    if form_field.widget == Widget.CODES:
        return [code for text in given for code in re.split(r"[,;\s]+", text) if code]
    if form_field.widget == Widget.TAGS:
        return [tag.strip() for text in given for tag in text.split(",") if tag.strip()]
    if not given:
        return None
    text = given[0]
    if form_field.widget == Widget.NUMBER and _INTEGER.fullmatch(text):
        return int(text)
    return text  # anything else goes as typed, and the API says what is wrong with it


def _path_parts(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for name in path.split("."):
        head, *indices = re.split(r"\[(\d+)\]", name)
        parts.append(head)
        parts += [int(index) for index in indices if index != ""]
    return parts


def _place(document: dict[str, Any], path: str, value: Any) -> None:
    """Set `path` (dots and [index]) in `document`, making the objects and lists on the way."""
    parts = _path_parts(path)
    node: Any = document
    for part, following in itertools.pairwise(parts):
        empty: Any = [] if isinstance(following, int) else {}
        if isinstance(part, int):
            while len(node) <= part:
                node.append(None)
            if node[part] is None:
                node[part] = empty
            node = node[part]
        else:
            node = node.setdefault(part, empty)
    last = parts[-1]
    if isinstance(last, int):
        while len(node) <= last:
            node.append(None)
        node[last] = value
    else:
        node[last] = value


def _lookup(document: Mapping[str, Any], path: str) -> Any:
    node: Any = document
    for part in _path_parts(path):
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                return None
        elif not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _comparable(form_field: FormField, values: list[str]) -> Any:
    if form_field.widget == Widget.CHECKBOXES:
        return sorted(values)
    return _document_value(form_field, values)
