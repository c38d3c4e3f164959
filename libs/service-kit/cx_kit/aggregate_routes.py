"""The routes of an owned record, written once and configured per service by an `OwnedAggregateRoutes`.

`owned_aggregate_router` serves one kind of record (a host entry, an application) under its path:

- `POST <path>`: a signed-in organisation creates a record, which it owns: 201 with the new id, `Location`
  and `ETag: "1"`;
- `GET <path>/{id}`: the owner's view (with the contact) for its owner and the managers of its partnership;
  anyone else gets the public view where the record is public (the catalogue) and a 404 where it is not;
- `PUT <path>/{id}`: replaces the answers (and the organisation, contact or partnership when sent), from the
  If-Match revision;
- `DELETE <path>/{id}`: withdraws the record, from the If-Match revision;
- `GET <list_path>`: the caller's own records (a manager: its partnership's), a page at a time, owner views.

`contacts_router` serves the internal contact look-up the notifier (and the exchanges service, once a host
accepted) calls at send or view time; `records_router` the internal facts of a record (owner, partnership,
organisation, answers, whether active) that the exchanges service checks a request against. Who the caller is and
what it may do is decided by `cx_kit.ownership` (`Ownership`, `read_view`, `contact_for`, `internal_service`).
"""

# No `from __future__ import annotations` here: FastAPI reads a route's parameters from its annotations, and the
# id's name and the body's model belong to the aggregate, so they are evaluated when its routes are built.

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from cx_contracts.api import ContactCard, PageQuery, RecordFacts
from cx_kit.aggregate_http import (
    CREATE_PROBLEMS,
    LIST_PROBLEMS,
    PRIVATE,
    READ_PROBLEMS,
    WRITE_PROBLEMS,
    IdempotencyKey,
    etag,
    expected_revision,
    json_document,
    json_fingerprint,
    not_found,
    request_traceparent,
    with_etag,
    written,
)
from cx_kit.aggregates import ACTIVE, AggregateRecord, IdempotencyKeyReused, OwnedAggregates
from cx_kit.ownership import (
    Caller,
    Ownership,
    View,
    contact_for,
    internal_service,
    manager_write_refused,
    may_oversee,
    read_view,
)
from cx_kit.settings import ServiceSettings

CONTACTS_PREFIX = "/internal/contacts"
RECORDS_PREFIX = "/internal/records"

Revision = Annotated[int, Depends(expected_revision)]
Traceparent = Annotated[str, Depends(request_traceparent)]

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


@dataclass(frozen=True)
class Operation:
    """How one route reads in the OpenAPI document."""

    name: str  # the stem of its operationId, which generated clients name their methods after: keep it stable
    summary: str
    description: str
    answer: str  # the description of its success response


@dataclass(frozen=True)
class ContactLookup:
    """The internal route that gives the notifier the contact card of a record."""

    kind: Literal["host", "visitor"]  # whose contact the card is; names the route and its operation
    description: str
    missing: str  # the description of its 404


@dataclass(frozen=True)
class OwnedAggregateRoutes:
    """One kind of owned record as its routes see it: where it lives, its documents, its words, who reads it."""

    path: str  # "/api/catalogue/hosts": POST here creates, `<path>/{id}` reads, replaces and withdraws
    list_path: str  # "/api/catalogue/entries": GET here lists the caller's own records (a manager's: its partnership's)
    id_field: str  # "host_id": the path parameter, and the id's name in every document
    what: str  # "catalogue entry": the word for one record in messages and descriptions
    tag: str
    create_body: type[BaseModel]
    created: type[BaseModel]
    update_body: type[BaseModel]
    public: type[BaseModel]
    owned: type[BaseModel]
    owned_page: type[BaseModel]  # a page of owner views: `items`, `total`, `page`, `page_size`
    public_read: bool  # True: anyone reads the public view; False: only the owner reads (anyone else: 404)
    create: Operation
    read: Operation
    replace: Operation
    withdraw: Operation
    listing: Operation
    contact: ContactLookup

    @property
    def collection_path(self) -> str:
        """The last segment of `path` ("/hosts"), under which the internal look-up serves the same records."""
        return "/" + self.path.rsplit("/", 1)[-1]

    def public_view(self, record: AggregateRecord) -> BaseModel:
        """The record as anyone may read it: organisation and answers, never the contact."""
        return self.public.model_validate({**record.state(self.id_field), "updated_at": record.updated_at})

    def owned_view(self, record: AggregateRecord) -> BaseModel:
        """The record as its owner (and its partnership's managers) read it: the public view, the contact person,
        the partnership and when it was created."""
        return self.owned.model_validate(
            {
                **self.public_view(record).model_dump(),
                "contact": record.contact,
                "partnership": record.partnership,
                "created_at": record.created_at,
            }
        )


def _taking(endpoint: Endpoint, **models: type[BaseModel]) -> Endpoint:
    # FastAPI validates a body against the model its parameter is annotated with; the models are the aggregate's.
    endpoint.__annotations__.update(models)
    return endpoint


def _route(
    router: APIRouter,
    path: str,
    endpoint: Callable[..., Any],
    method: str,
    operation: Operation,
    status: int,
    problems: dict[int | str, dict[str, Any]],
    response_model: Any = None,
    *,
    location: bool = False,
    anonymous: bool = False,
) -> None:
    # `anonymous`: the route also answers without a token, which OpenAPI says as an empty security requirement.
    router.add_api_route(
        path,
        endpoint,
        methods=[method],
        status_code=status,
        response_model=response_model,
        name=operation.name,
        summary=operation.summary,
        description=operation.description,
        responses={status: with_etag(operation.answer, location=location), **problems},
        openapi_extra={"security": [{}]} if anonymous else None,
    )


def configured_partnership(partnership: str, partnerships: Sequence[str]) -> str:
    """`partnership` if it is one of the configured ones; a 422 naming the field otherwise."""
    if partnership not in partnerships:
        raise RequestValidationError(
            [
                {
                    "loc": ("body", "partnership"),
                    "type": "partnership",
                    "msg": f"Unknown partnership; one of: {', '.join(partnerships)}",
                }
            ]
        )
    return partnership


def owned_aggregate_router(
    routes: OwnedAggregateRoutes, repository: OwnedAggregates, ownership: Ownership, partnerships: Sequence[str]
) -> APIRouter:
    """The routes of one kind of owned record: create, read, replace, withdraw and list, each a problem on failure."""
    router = APIRouter(tags=[routes.tag])
    reader = ownership.optional_caller if routes.public_read else ownership.caller
    record_id_path = Path(alias=routes.id_field, description=f"Id of the {routes.what} (a UUID).")
    SignedIn = Annotated[Caller, Depends(ownership.caller)]

    async def refuse_managers(caller: Caller, record_id: str) -> None:
        # A manager changes nothing: a record of its partnership says so (403), any other is not found.
        if caller.is_manager:
            record = await repository.get(record_id)
            if record is not None and may_oversee(caller, record):
                raise manager_write_refused()
            raise not_found(routes.what)

    async def create(
        body: BaseModel,
        caller: Annotated[Caller, Depends(ownership.creator)],
        traceparent: Traceparent,
        idempotency_key: IdempotencyKey = None,
    ) -> Response:
        document = body.model_dump(mode="json")
        contact = contact_for(caller, document["contact"])
        fingerprint = json_fingerprint({**document, "contact": contact})
        try:
            record = await repository.create(
                owner=caller.organisation,
                partnership=configured_partnership(document["partnership"], partnerships),
                organisation=document["organisation"],
                contact=contact,
                answers=document["answers"],
                traceparent=traceparent,
                idempotency=None if idempotency_key is None else (idempotency_key, fingerprint),
            )
        except IdempotencyKeyReused:
            raise RequestValidationError(
                [
                    {
                        "loc": ("header", "Idempotency-Key"),
                        "type": "idempotency_key_reused",
                        "msg": f"Used before for a different {routes.what}; send a new key with a new request",
                    }
                ]
            ) from None
        created = routes.created.model_validate({routes.id_field: record.id, "revision": record.revision})
        headers = {"Location": f"{routes.path}/{record.id}", "ETag": etag(record.revision), **PRIVATE}
        return json_document(created, status_code=201, headers=headers)

    async def read(
        record_id: Annotated[UUID, record_id_path],
        caller: Annotated[Caller | None, Depends(reader)],
    ) -> Response:
        record = await repository.get(str(record_id))
        view = None if record is None else read_view(caller, record, public=routes.public_read)
        if record is None or view is None:
            raise not_found(routes.what)  # someone else's record reads exactly like a missing one
        if view is View.OWNER:
            return json_document(routes.owned_view(record), headers={"ETag": etag(record.revision), **PRIVATE})
        public_headers = {"ETag": etag(record.revision), "Vary": "Authorization"}
        return json_document(routes.public_view(record), headers=public_headers)

    async def replace(
        record_id: Annotated[UUID, record_id_path],
        body: BaseModel,
        caller: SignedIn,
        revision: Revision,
        traceparent: Traceparent,
    ) -> Response:
        await refuse_managers(caller, str(record_id))
        document = body.model_dump(mode="json")
        partnership = document.get("partnership")
        outcome = await repository.replace(
            str(record_id),
            caller.organisation,
            revision,
            answers=document["answers"],
            organisation=document.get("organisation"),
            contact=contact_for(caller, document["contact"]) if document.get("contact") else None,
            partnership=configured_partnership(partnership, partnerships) if partnership else None,
            traceparent=traceparent,
        )
        record = written(outcome, what=routes.what)
        return json_document(routes.owned_view(record), headers={"ETag": etag(record.revision), **PRIVATE})

    async def withdraw(
        record_id: Annotated[UUID, record_id_path],
        caller: SignedIn,
        revision: Revision,
        traceparent: Traceparent,
    ) -> Response:
        await refuse_managers(caller, str(record_id))
        outcome = await repository.withdraw(str(record_id), caller.organisation, revision, traceparent=traceparent)
        record = written(outcome, what=routes.what)
        return Response(status_code=204, headers={"ETag": etag(record.revision)})

    async def list_records(query: Annotated[PageQuery, Query()], caller: SignedIn) -> Response:
        whose = {"partnership": caller.partnership} if caller.is_manager else {"owner": caller.organisation}
        page = await repository.page(skip=query.skip, limit=query.page_size, **whose)
        listed = routes.owned_page.model_validate(
            {
                "items": [routes.owned_view(record) for record in page.records],
                "total": page.total,
                "page": query.page,
                "page_size": query.page_size,
            }
        )
        return json_document(listed, headers=PRIVATE)

    record = f"{routes.path}/{{{routes.id_field}}}"
    read_model = routes.owned | routes.public if routes.public_read else routes.owned
    create_endpoint = _taking(create, body=routes.create_body)
    _route(
        router, routes.path, create_endpoint, "POST", routes.create, 201, CREATE_PROBLEMS, routes.created, location=True
    )
    _route(router, record, read, "GET", routes.read, 200, READ_PROBLEMS, read_model, anonymous=routes.public_read)
    replace_endpoint = _taking(replace, body=routes.update_body)
    _route(router, record, replace_endpoint, "PUT", routes.replace, 200, WRITE_PROBLEMS, routes.owned)
    _route(router, record, withdraw, "DELETE", routes.withdraw, 204, WRITE_PROBLEMS)
    _route(router, routes.list_path, list_records, "GET", routes.listing, 200, LIST_PROBLEMS, routes.owned_page)
    return router


def contact_card(record: AggregateRecord, kind: Literal["host", "visitor"]) -> ContactCard:
    """Who the notifier writes to about a record, and in which languages."""
    return ContactCard(
        id=UUID(record.id),
        kind=kind,
        organisation=record.organisation,
        contact=record.contact,
        languages=list(record.answers.get("languages", [])),
    )


def contacts_router(routes: OwnedAggregateRoutes, repository: OwnedAggregates, settings: ServiceSettings) -> APIRouter:
    """`GET /internal/contacts/<records>/{id}`: a record's contact card, for holders of the internal token only."""
    lookup = routes.contact
    router = APIRouter(prefix=CONTACTS_PREFIX, tags=["internal"], dependencies=[Depends(internal_service(settings))])

    async def read_contact(
        record_id: Annotated[UUID, Path(alias=routes.id_field, description=f"Id of the {routes.what}.")],
    ) -> ContactCard:
        record = await repository.get(str(record_id))
        if record is None or record.contact is None:
            raise not_found(routes.what)
        return contact_card(record, lookup.kind)

    router.add_api_route(
        f"{routes.collection_path}/{{{routes.id_field}}}",
        read_contact,
        methods=["GET"],
        response_model=ContactCard,
        name=f"{lookup.kind}_contact",
        summary=f"A {lookup.kind}'s contact (internal)",
        description=lookup.description,
        responses={401: {"description": "No or wrong internal token."}, 404: {"description": lookup.missing}},
    )
    return router


def record_facts(record: AggregateRecord, kind: Literal["host", "visitor"]) -> RecordFacts:
    """What another service may know of a record: whose it is, its partnership, organisation and answers."""
    return RecordFacts(
        id=UUID(record.id),
        kind=kind,
        owner=record.owner,
        partnership=record.partnership,
        organisation=record.organisation,
        answers=record.answers,
        revision=record.revision,
        active=record.status == ACTIVE,
    )


def records_router(routes: OwnedAggregateRoutes, repository: OwnedAggregates, settings: ServiceSettings) -> APIRouter:
    """`GET /internal/records/<records>/{id}`: a record's facts (never its contact), for holders of the internal
    token only; a withdrawn record answers with `active` false."""
    kind = routes.contact.kind
    router = APIRouter(prefix=RECORDS_PREFIX, tags=["internal"], dependencies=[Depends(internal_service(settings))])

    async def read_facts(
        record_id: Annotated[UUID, Path(alias=routes.id_field, description=f"Id of the {routes.what}.")],
    ) -> RecordFacts:
        record = await repository.stored(str(record_id))
        if record is None:
            raise not_found(routes.what)
        return record_facts(record, kind)

    router.add_api_route(
        f"{routes.collection_path}/{{{routes.id_field}}}",
        read_facts,
        methods=["GET"],
        response_model=RecordFacts,
        name=f"{kind}_record_facts",
        summary=f"What another service may know of a {routes.what} (internal)",
        description=f"The {routes.what}'s owner, partnership, organisation, answers and whether it is active; never "
        "the contact. For the platform's other services only.",
        responses={
            401: {"description": "No or wrong internal token."},
            404: {"description": f"No such {routes.what}."},
        },
    )
    return router
