"""ClusterXchange wire types: questionnaire, HTTP documents, events, topics. No I/O.

Modules: `vocabulary` (closed lists), `scalars` (checked text, codes, addresses, dates), `questionnaire`
(organisation, contact, answers), `api` (HTTP documents), `exchange` (an exchange's states, grant and HTTP
documents), `events` (the Kafka events), `codec` (events as Kafka records: key, value, headers, parsing),
`upcasters` (older payloads lifted to the current schema), `traceparent`, `topics`, `schemas` (JSON Schema
snapshots), `examples` (valid fixtures).

The names below are the package's public front door; each is re-exported (`X as X`) from its module.
"""

from cx_contracts.api import ApplicationCreate as ApplicationCreate
from cx_contracts.api import ApplicationCreated as ApplicationCreated
from cx_contracts.api import ApplicationPublic as ApplicationPublic
from cx_contracts.api import ApplicationUpdate as ApplicationUpdate
from cx_contracts.api import ContactCard as ContactCard
from cx_contracts.api import HostEntryCreate as HostEntryCreate
from cx_contracts.api import HostEntryCreated as HostEntryCreated
from cx_contracts.api import HostEntryPublic as HostEntryPublic
from cx_contracts.api import HostEntryUpdate as HostEntryUpdate
from cx_contracts.api import RecordFacts as RecordFacts
from cx_contracts.codec import EventHeaders as EventHeaders
from cx_contracts.codec import event_headers as event_headers
from cx_contracts.codec import event_key as event_key
from cx_contracts.codec import event_topic as event_topic
from cx_contracts.codec import event_value as event_value
from cx_contracts.codec import headers_as_text as headers_as_text
from cx_contracts.codec import parse_event as parse_event
from cx_contracts.codec import read_event_headers as read_event_headers
from cx_contracts.errors import ContractError as ContractError
from cx_contracts.events import AnyEvent as AnyEvent
from cx_contracts.events import Envelope as Envelope
from cx_contracts.events import Event as Event
from cx_contracts.events import ExchangeAccepted as ExchangeAccepted
from cx_contracts.events import ExchangeAgreed as ExchangeAgreed
from cx_contracts.events import ExchangeCompleted as ExchangeCompleted
from cx_contracts.events import ExchangeDeclined as ExchangeDeclined
from cx_contracts.events import ExchangeRequested as ExchangeRequested
from cx_contracts.events import ExchangeStep as ExchangeStep
from cx_contracts.events import ExchangeWithdrawn as ExchangeWithdrawn
from cx_contracts.events import HostAnswersSubmitted as HostAnswersSubmitted
from cx_contracts.events import HostAnswersWithdrawn as HostAnswersWithdrawn
from cx_contracts.events import HostMatch as HostMatch
from cx_contracts.events import MatchFound as MatchFound
from cx_contracts.events import NotificationKind as NotificationKind
from cx_contracts.events import NotificationSent as NotificationSent
from cx_contracts.events import VisitorAnswersSubmitted as VisitorAnswersSubmitted
from cx_contracts.events import VisitorAnswersWithdrawn as VisitorAnswersWithdrawn
from cx_contracts.events import Withdrawal as Withdrawal
from cx_contracts.events import WithdrawalReason as WithdrawalReason
from cx_contracts.exchange import ExchangeState as ExchangeState
from cx_contracts.exchange import Grant as Grant
from cx_contracts.questionnaire import Contact as Contact
from cx_contracts.questionnaire import DateRange as DateRange
from cx_contracts.questionnaire import DateRangeState as DateRangeState
from cx_contracts.questionnaire import HostAnswers as HostAnswers
from cx_contracts.questionnaire import HostAnswersState as HostAnswersState
from cx_contracts.questionnaire import Organisation as Organisation
from cx_contracts.questionnaire import OrganisationState as OrganisationState
from cx_contracts.questionnaire import VisitorAnswers as VisitorAnswers
from cx_contracts.questionnaire import VisitorAnswersState as VisitorAnswersState
from cx_contracts.questionnaire import working_days as working_days
from cx_contracts.traceparent import child_traceparent as child_traceparent
from cx_contracts.traceparent import is_valid_traceparent as is_valid_traceparent
from cx_contracts.traceparent import new_traceparent as new_traceparent
from cx_contracts.upcasters import UPCASTERS as UPCASTERS
from cx_contracts.upcasters import Upcasters as Upcasters
from cx_contracts.vocabulary import ELIGIBLE_COUNTRIES as ELIGIBLE_COUNTRIES
from cx_contracts.vocabulary import MAX_EXCHANGE_DAYS as MAX_EXCHANGE_DAYS
from cx_contracts.vocabulary import MIN_EXCHANGE_DAYS as MIN_EXCHANGE_DAYS
from cx_contracts.vocabulary import Activity as Activity
from cx_contracts.vocabulary import Ecosystem as Ecosystem
from cx_contracts.vocabulary import EligibleCountry as EligibleCountry
from cx_contracts.vocabulary import ExchangeFormat as ExchangeFormat
from cx_contracts.vocabulary import OrganisationKind as OrganisationKind
from cx_contracts.vocabulary import Topic as Topic
