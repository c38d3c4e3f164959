"""The routes of an owned record, written once and configured per service by an `OwnedAggregateRoutes`.

`owned_aggregate_router` serves one kind of record (a host entry, an application) under its path:

- `POST <path>`: 201 with the new id, `Location`, `ETag: "1"` and the owner token, once;
- `GET <path>/{id}`: the owner's view (with the contact) for its owner; anyone else gets the public view
  where the record is public (the catalogue) and a 404 where it is not (an application);
- `PUT <path>/{id}`: replaces the answers (and the organisation or contact when sent), from the If-Match revision;
- `DELETE <path>/{id}`: withdraws the record, from the If-Match revision.

`contacts_router` serves the internal contact look-up the notifier calls at send time. Every identity
decision goes through `cx_kit.ownership` (`creating_organisation`, `calling_organisation`,
`internal_service`), so replacing owner tokens by real sign-in changes that module and nothing here.
"""

# No `from __future__ import annotations` here: FastAPI reads a route's parameters from its annotations, and the
# id's name and the body's model belong to the aggregate, so they are evaluated when its routes are built.

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel

from cx_contracts.api import ContactCard
from cx_kit.aggregate_http import (
    CREATE_PROBLEMS,
    PRIVATE,
    READ_PROBLEMS,
    WRITE_PROBLEMS,
    etag,
    expected_revision,
    json_document,
    not_found,
    request_traceparent,
    with_etag,
    written,
)
from cx_kit.aggregates import AggregateRecord, OwnedAggregates, same_owner
from cx_kit.ownership import (
    CallingOrganisation,
    NewRecordOwner,
    calling_organisation,
    creating_organisation,
    internal_service,
    optional_calling_organisation,
)
from cx_kit.settings import ServiceSettings

CONTACTS_PREFIX = "/internal/contacts"

Owner = Annotated[CallingOrganisation, Depends(calling_organisation)]
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
    id_field: str  # "host_id": the path parameter, and the id's name in every document
    what: str  # "catalogue entry": the word for one record in messages and descriptions
    tag: str
    create_body: type[BaseModel]
    created: type[BaseModel]
    update_body: type[BaseModel]
    public: type[BaseModel]
    owned: type[BaseModel]
    public_read: bool  # True: anyone reads the public view; False: only the owner reads (anyone else: 404)
    create: Operation
    read: Operation
    replace: Operation
    withdraw: Operation
    contact: ContactLookup

    @property
    def collection_path(self) -> str:
        """The last segment of `path` ("/hosts"), under which the internal look-up serves the same records."""
        return "/" + self.path.rsplit("/", 1)[-1]

    def public_view(self, record: AggregateRecord) -> BaseModel:
        """The record as anyone may read it: organisation and answers, never the contact."""
        return self.public.model_validate({**record.state(self.id_field), "updated_at": record.updated_at})

    def owned_view(self, record: AggregateRecord) -> BaseModel:
        """The record as its owner reads it: the public view, the contact person and when it was created."""
        return self.owned.model_validate(
            {**self.public_view(record).model_dump(), "contact": record.contact, "created_at": record.created_at}
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
) -> None:
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
    )


def owned_aggregate_router(routes: OwnedAggregateRoutes, repository: OwnedAggregates) -> APIRouter:
    """The owner routes of one kind of record: create, read, replace and withdraw, each a problem on failure."""
    router = APIRouter(prefix=routes.path, tags=[routes.tag])
    reader = optional_calling_organisation if routes.public_read else calling_organisation
    record_id_path = Path(alias=routes.id_field, description=f"Id of the {routes.what} (a UUID).")

    async def create(
        body: BaseModel, owner: Annotated[NewRecordOwner, Depends(creating_organisation)], traceparent: Traceparent
    ) -> Response:
        document = body.model_dump(mode="json")
        record = await repository.create(
            owner=owner.organisation.id,
            organisation=document["organisation"],
            contact=document["contact"],
            answers=document["answers"],
            traceparent=traceparent,
        )
        created = routes.created.model_validate(
            {routes.id_field: record.id, "revision": record.revision, "owner_token": owner.owner_token}
        )
        headers = {"Location": f"{routes.path}/{record.id}", "ETag": etag(record.revision), **PRIVATE}
        return json_document(created, status_code=201, headers=headers)

    async def read(
        record_id: Annotated[UUID, record_id_path],
        caller: Annotated[CallingOrganisation | None, Depends(reader)],
    ) -> Response:
        record = await repository.get(str(record_id))
        if record is None:
            raise not_found(routes.what)
        if caller is not None and same_owner(record.owner, caller.id):
            return json_document(routes.owned_view(record), headers={"ETag": etag(record.revision), **PRIVATE})
        if not routes.public_read:
            raise not_found(routes.what)  # someone else's record reads exactly like a missing one
        public_headers = {"ETag": etag(record.revision), "Vary": "Authorization"}
        return json_document(routes.public_view(record), headers=public_headers)

    async def replace(
        record_id: Annotated[UUID, record_id_path],
        body: BaseModel,
        owner: Owner,
        revision: Revision,
        traceparent: Traceparent,
    ) -> Response:
        document = body.model_dump(mode="json")
        outcome = await repository.replace(
            str(record_id),
            owner.id,
            revision,
            answers=document["answers"],
            organisation=document.get("organisation"),
            contact=document.get("contact"),
            traceparent=traceparent,
        )
        record = written(outcome, what=routes.what)
        return json_document(routes.owned_view(record), headers={"ETag": etag(record.revision), **PRIVATE})

    async def withdraw(
        record_id: Annotated[UUID, record_id_path],
        owner: Owner,
        revision: Revision,
        traceparent: Traceparent,
    ) -> Response:
        outcome = await repository.withdraw(str(record_id), owner.id, revision, traceparent=traceparent)
        record = written(outcome, what=routes.what)
        return Response(status_code=204, headers={"ETag": etag(record.revision)})

    record = f"/{{{routes.id_field}}}"
    read_model = routes.owned | routes.public if routes.public_read else routes.owned
    create_endpoint = _taking(create, body=routes.create_body)
    _route(router, "", create_endpoint, "POST", routes.create, 201, CREATE_PROBLEMS, routes.created, location=True)
    _route(router, record, read, "GET", routes.read, 200, READ_PROBLEMS, read_model)
    replace_endpoint = _taking(replace, body=routes.update_body)
    _route(router, record, replace_endpoint, "PUT", routes.replace, 200, WRITE_PROBLEMS, routes.owned)
    _route(router, record, withdraw, "DELETE", routes.withdraw, 204, WRITE_PROBLEMS)
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
