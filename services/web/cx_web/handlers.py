"""What the pages do: read and write through the services' public API with the signed-in person's token.

Each use case works through `PlatformApi` (an adapter implements it over HTTP) and answers with what a page
shows; the API's own answers decide everything: a 422 becomes field errors, a 412 a stale edit, a 404 a
page that does not exist for this person, a 401 a new sign-in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from cx_web.domain.catalogue_filters import CatalogueSearch, Paging, paging
from cx_web.domain.exchanges import shared_formats
from cx_web.domain.questionnaire_form import FormProblems, FormValues, Questionnaire
from cx_web.domain.records import RankedHosts, ranked_hosts

Service = Literal["catalogue", "applications", "exchanges"]
LIST_PAGE_SIZE = 50


@dataclass(frozen=True)
class ApiAnswer:
    """What a service answered: the status, the JSON body (None when there is none), the revision of its ETag."""

    status: int
    body: Any = None
    revision: int | None = None

    @property
    def errors(self) -> list[dict[str, Any]]:
        """The `errors[]` of a problem document."""
        errors = self.body.get("errors") if isinstance(self.body, dict) else None
        return errors if isinstance(errors, list) else []

    @property
    def detail(self) -> str:
        """The `detail` of a problem document."""
        return str(self.body.get("detail") or "") if isinstance(self.body, dict) else ""


class PlatformApi(Protocol):
    """The services' public API, called as the signed-in person (or anonymously, with no token)."""

    async def call(
        self,
        service: Service,
        method: str,
        path: str,
        *,
        token: str | None = None,
        query: Sequence[tuple[str, str]] = (),
        document: Mapping[str, Any] | None = None,
        revision: int | None = None,
        idempotency_key: str | None = None,
    ) -> ApiAnswer: ...


class SignInAgain(Exception):
    """The service did not accept the token (expired, revoked): the person signs in again."""


class NotFound(Exception):
    """No such record, or not this person's: the two read the same."""


class NotAllowed(Exception):
    """The service refused the change (403): a manager writing, an unverified e-mail."""


class ServiceUnavailable(Exception):
    """A service is down or failed; the page says so and the person tries again."""


@dataclass(frozen=True)
class OwnedRecords:
    """Where one kind of owned record lives in the public API."""

    service: Service
    path: str  # POST creates, <path>/{id} reads, replaces, withdraws
    list_path: str  # the caller's own records (a manager: its partnership's)
    id_field: str
    what: str


HOST_ENTRIES = OwnedRecords("catalogue", "/api/catalogue/hosts", "/api/catalogue/entries", "host_id", "entry")
APPLICATIONS = OwnedRecords("applications", "/api/applications", "/api/applications", "application_id", "application")


def expect(answer: ApiAnswer, *statuses: int) -> ApiAnswer:
    """`answer` when its status is one of `statuses`; otherwise the exception that status stands for."""
    if answer.status in statuses:
        return answer
    if answer.status == 401:
        raise SignInAgain(answer.detail)
    if answer.status == 404:
        raise NotFound(answer.detail)
    if answer.status == 403:
        raise NotAllowed(answer.detail or "This change is not yours to make.")
    raise ServiceUnavailable(f"the service answered {answer.status}: {answer.detail}")


@dataclass(frozen=True)
class CataloguePage:
    """One page of the public catalogue, or the filters the API refused."""

    entries: list[dict[str, Any]]
    paging: Paging | None
    problems: dict[str, list[str]] = field(default_factory=dict)


async def catalogue_page(api: PlatformApi, search: CatalogueSearch) -> CataloguePage:
    """The public catalogue filtered as asked; a refused filter comes back beside its field."""
    answer = expect(await api.call("catalogue", "GET", HOST_ENTRIES.path, query=search.api_query()), 200, 422)
    if answer.status == 422:
        problems: dict[str, list[str]] = {}
        for error in answer.errors:
            name = str(error.get("field", "")).split("[")[0]
            problems.setdefault(name, []).append(str(error.get("message", "Invalid value")))
        return CataloguePage([], None, problems)
    body = answer.body
    shown = paging(
        search, total=body["total"], page=body["page"], page_size=body["page_size"], shown=len(body["items"])
    )
    return CataloguePage(body["items"], shown)


@dataclass(frozen=True)
class HostEntryPage:
    """A host's catalogue entry, and whether the signed-in organisation owns it (and so may change it)."""

    entry: dict[str, Any]
    owned: bool


async def host_entry_page(api: PlatformApi, host_id: str, member_token: str | None) -> HostEntryPage:
    """A host's entry, read as the signed-in member organisation when there is one (its own reads as the owner's)."""
    path = f"{HOST_ENTRIES.path}/{host_id}"
    answer = await api.call("catalogue", "GET", path, token=member_token)
    if answer.status == 401 and member_token:
        answer = await api.call("catalogue", "GET", path)  # a public page stays readable with a stale session
        member_token = None
    entry = dict(expect(answer, 200).body)
    return HostEntryPage(entry, owned=member_token is not None and "contact" in entry)


async def record_list(api: PlatformApi, records: OwnedRecords, token: str) -> list[dict[str, Any]]:
    """The signed-in organisation's own records (a manager's: its partnership's), newest pages first."""
    query = [("page", "1"), ("page_size", str(LIST_PAGE_SIZE))]
    answer = expect(await api.call(records.service, "GET", records.list_path, token=token, query=query), 200)
    return list(answer.body.get("items", []))


@dataclass(frozen=True)
class StoredRecord:
    """A record as its owner (or its partnership's manager) reads it, with the revision to edit it from."""

    document: dict[str, Any]
    revision: int


async def owned_record(api: PlatformApi, records: OwnedRecords, token: str, record_id: str) -> StoredRecord:
    """The record in the owner's view (with the contact); a record that is not the caller's is a NotFound."""
    answer = expect(await api.call(records.service, "GET", f"{records.path}/{record_id}", token=token), 200)
    if "contact" not in answer.body:
        raise NotFound(f"the {records.what} is not yours")  # another's host entry reads as its public view
    return StoredRecord(dict(answer.body), answer.revision or int(answer.body["revision"]))


@dataclass(frozen=True)
class Saved:
    """The API took the change: the record's id and its new revision."""

    record_id: str
    revision: int


@dataclass(frozen=True)
class Refused:
    """The API refused the answers (422): where each problem goes on the form."""

    problems: FormProblems


@dataclass(frozen=True)
class Stale:
    """The record changed since the form was opened (412): its current state, and where it differs."""

    current: StoredRecord
    current_values: FormValues
    differences: dict[str, list[str]]


async def submit(
    api: PlatformApi,
    records: OwnedRecords,
    questionnaire: Questionnaire,
    token: str,
    values: FormValues,
    email: str | None,
    idempotency_key: str | None = None,
) -> Saved | Refused:
    """Create a record from the form (POST, with the form's Idempotency-Key); a 422 comes back as form problems."""
    document = questionnaire.document(values, contact_email=email)
    answer = expect(
        await api.call(
            records.service, "POST", records.path, token=token, document=document, idempotency_key=idempotency_key
        ),
        201,
        422,
    )
    if answer.status == 422:
        return Refused(questionnaire.problems(answer.errors, document))
    return Saved(str(answer.body[records.id_field]), int(answer.body["revision"]))


async def save(
    api: PlatformApi,
    records: OwnedRecords,
    questionnaire: Questionnaire,
    token: str,
    record_id: str,
    revision: int,
    values: FormValues,
    email: str | None,
) -> Saved | Refused | Stale:
    """Replace a record's answers from the revision the form was opened at (PUT with If-Match)."""
    document = questionnaire.document(values, contact_email=email)
    path = f"{records.path}/{record_id}"
    answer = await api.call(records.service, "PUT", path, token=token, document=document, revision=revision)
    answer = expect(answer, 200, 412, 422)
    if answer.status == 422:
        return Refused(questionnaire.problems(answer.errors, document))
    if answer.status == 412:
        current = await owned_record(api, records, token, record_id)
        current_values = questionnaire.from_document(current.document)
        return Stale(current, current_values, questionnaire.differences(values, current_values))
    return Saved(record_id, answer.revision or int(answer.body["revision"]))


async def withdraw(api: PlatformApi, records: OwnedRecords, token: str, record_id: str, revision: int) -> Saved | Stale:
    """Withdraw a record from the revision the person saw (DELETE with If-Match)."""
    path = f"{records.path}/{record_id}"
    answer = expect(await api.call(records.service, "DELETE", path, token=token, revision=revision), 204, 412)
    if answer.status == 412:
        current = await owned_record(api, records, token, record_id)
        return Stale(current, {}, {})
    return Saved(record_id, answer.revision or revision + 1)


async def application_matches(api: PlatformApi, token: str, application_id: str) -> RankedHosts:
    """An application's latest ranked hosts, each named from its public catalogue entry."""
    path = f"{APPLICATIONS.path}/{application_id}/matches"
    matches = expect(await api.call("applications", "GET", path, token=token), 200).body
    host_ids = list(dict.fromkeys(str(match["host_id"]) for match in matches.get("matches", [])))
    answers = await asyncio.gather(*(api.call("catalogue", "GET", f"{HOST_ENTRIES.path}/{h}") for h in host_ids))
    hosts = {
        host_id: (answer.body if expect(answer, 200, 404).status == 200 else None)
        for host_id, answer in zip(host_ids, answers, strict=True)
    }
    return ranked_hosts(matches, hosts)


@dataclass(frozen=True)
class PartnershipApplication:
    """An application of the partnership, with its ranked hosts."""

    document: dict[str, Any]
    matches: RankedHosts


@dataclass(frozen=True)
class PartnershipOverview:
    """What a partnership manager oversees: its organisations' applications (and matches) and host entries."""

    applications: list[PartnershipApplication]
    entries: list[dict[str, Any]]


async def partnership_overview(api: PlatformApi, token: str) -> PartnershipOverview:
    """The manager's partnership: the applications with their matches, and the host entries."""
    applications, entries = await asyncio.gather(
        record_list(api, APPLICATIONS, token), record_list(api, HOST_ENTRIES, token)
    )
    matches = await asyncio.gather(*(application_matches(api, token, str(a["application_id"])) for a in applications))
    return PartnershipOverview(
        [PartnershipApplication(a, m) for a, m in zip(applications, matches, strict=True)], entries
    )


# ---------------------------------------------------------------------------------------------------------
# Exchanges
# ---------------------------------------------------------------------------------------------------------

EXCHANGES = "/api/exchanges"


@dataclass(frozen=True)
class RequestPage:
    """What the request form shows: the visitor's application, the host asked, the formats both accept."""

    application: dict[str, Any]
    host: dict[str, Any]
    formats: list[str]


async def exchange_request_page(api: PlatformApi, token: str, application_id: str, host_id: str) -> RequestPage:
    """The application (the caller's own) and the host's public entry, for a request to that host."""
    application = await owned_record(api, APPLICATIONS, token, application_id)
    host = expect(await api.call("catalogue", "GET", f"{HOST_ENTRIES.path}/{host_id}"), 200).body
    return RequestPage(application.document, dict(host), shared_formats(host, application.document))


@dataclass(frozen=True)
class Conflict:
    """The exchange's state or the scheme's rules did not allow the step (409): what the service said."""

    detail: str


async def request_exchange(
    api: PlatformApi,
    form: Questionnaire,
    token: str,
    values: FormValues,
    ids: Mapping[str, str],
    idempotency_key: str | None = None,
) -> Saved | Refused | Conflict:
    """Send a request (POST, with the form's Idempotency-Key); a 422 comes back as form problems, a 409 as the rule
    that refused it."""
    document = {**form.document(values, contact_email=None), **ids}
    answer = expect(
        await api.call("exchanges", "POST", EXCHANGES, token=token, document=document, idempotency_key=idempotency_key),
        201,
        409,
        422,
    )
    if answer.status == 422:
        return Refused(form.problems(answer.errors, document))
    if answer.status == 409:
        return Conflict(answer.detail)
    return Saved(str(answer.body["exchange_id"]), int(answer.body["revision"]))


async def exchange(api: PlatformApi, token: str, exchange_id: str) -> StoredRecord:
    """The exchange as the caller may read it (a side or a manager of its partnership); otherwise NotFound."""
    answer = expect(await api.call("exchanges", "GET", f"{EXCHANGES}/{exchange_id}", token=token), 200)
    return StoredRecord(dict(answer.body), answer.revision or int(answer.body["revision"]))


async def exchange_step(
    api: PlatformApi,
    token: str,
    exchange_id: str,
    step: str,
    revision: int,
    form: Questionnaire | None = None,
    values: FormValues | None = None,
) -> Saved | Refused | Conflict | Stale:
    """Take one step of an exchange from the revision the person saw: 422 is form problems, 409 the rule that
    refused it, 412 the exchange as it now is."""
    document = form.document(values or {}, contact_email=None) if form is not None else None
    method = "PUT" if step == "agreement" else "POST"
    path = f"{EXCHANGES}/{exchange_id}/{step}"
    answer = await api.call("exchanges", method, path, token=token, document=document, revision=revision)
    answer = expect(answer, 200, 409, 412, 422)
    if answer.status == 422 and form is not None:
        return Refused(form.problems(answer.errors, document or {}))
    if answer.status in (409, 422):
        return Conflict(answer.detail)
    if answer.status == 412:
        return Stale(await exchange(api, token, exchange_id), {}, {})
    return Saved(exchange_id, answer.revision or int(answer.body["revision"]))


@dataclass(frozen=True)
class ExchangesOverview:
    """The caller's exchanges (a manager's: its partnership's) and how they stand."""

    items: list[dict[str, Any]]
    totals: dict[str, Any]


async def exchanges_overview(api: PlatformApi, token: str) -> ExchangesOverview:
    """The caller's exchanges, newest first, and their totals."""
    query = [("page", "1"), ("page_size", str(LIST_PAGE_SIZE))]
    listed, counted = await asyncio.gather(
        api.call("exchanges", "GET", EXCHANGES, token=token, query=query),
        api.call("exchanges", "GET", f"{EXCHANGES}/totals", token=token),
    )
    return ExchangesOverview(list(expect(listed, 200).body.get("items", [])), dict(expect(counted, 200).body))
