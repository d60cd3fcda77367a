"""The schema: each feature's queries and mutations composed into one `Query` and `Mutation`."""

from __future__ import annotations

import strawberry

from api.graphql.apikeys.mutations import ApiKeyMutations
from api.graphql.apikeys.queries import ApiKeyQueries
from api.graphql.customers.mutations import CustomerMutations
from api.graphql.customers.queries import CustomerQueries
from api.graphql.deadletters.mutations import DeadLetterMutations
from api.graphql.deadletters.queries import DeadLetterQueries
from api.graphql.email.mutations import EmailMutations
from api.graphql.email.queries import EmailQueries
from api.graphql.enrollments.mutations import EnrollmentMutations
from api.graphql.enrollments.queries import EnrollmentQueries
from api.graphql.errors import MaskUnexpectedErrors
from api.graphql.events.mutations import EventMutations
from api.graphql.hooks.mutations import HookMutations
from api.graphql.hooks.queries import HookQueries
from api.graphql.journeys.mutations import JourneyMutations
from api.graphql.journeys.queries import JourneyQueries
from api.graphql.limits import LIMITS
from api.graphql.live.subscriptions import LiveSubscriptions
from api.graphql.messaging.mutations import MessagingMutations
from api.graphql.messaging.queries import MessagingQueries
from api.graphql.metrics.queries import MetricsQueries
from api.graphql.migrations.schema import MigrationMutations, MigrationQueries
from api.graphql.operations.mutations import OperationMutations
from api.graphql.operations.queries import OperationQueries
from api.graphql.schedules.mutations import ScheduleMutations
from api.graphql.schedules.queries import ScheduleQueries
from api.graphql.simulations.schema import SimulationMutations, SimulationQueries
from api.graphql.sms.mutations import SmsMutations
from api.graphql.sms.queries import SmsQueries
from api.graphql.sources.mutations import SourceMutations
from api.graphql.sources.queries import SourceQueries
from api.graphql.webhooks.mutations import WebhookMutations
from api.graphql.webhooks.queries import WebhookQueries
from api.graphql.wechat.mutations import WeChatMutations
from api.graphql.wechat.queries import WeChatQueries


@strawberry.type(
    description="Reads, all scoped to the caller's tenant (the tenant of the bearer API key); "
    "every role may read."
)
class Query(
    JourneyQueries,
    CustomerQueries,
    EnrollmentQueries,
    HookQueries,
    SmsQueries,
    WebhookQueries,
    MessagingQueries,
    ScheduleQueries,
    MigrationQueries,
    SimulationQueries,
    EmailQueries,
    SourceQueries,
    OperationQueries,
    MetricsQueries,
    ApiKeyQueries,
    DeadLetterQueries,
    WeChatQueries,
):
    """Reads, all scoped to the caller's tenant."""


@strawberry.type(
    description="Writes; each answers a union of its result and the expected failures "
    "(`Forbidden`, `NotFound`, `InvalidInput`, `Conflict`...), to switch on by `__typename`. "
    "Each mutation's description names the role it needs."
)
class Mutation(
    JourneyMutations,
    EnrollmentMutations,
    CustomerMutations,
    EventMutations,
    HookMutations,
    SmsMutations,
    WebhookMutations,
    MessagingMutations,
    ScheduleMutations,
    MigrationMutations,
    SimulationMutations,
    EmailMutations,
    SourceMutations,
    OperationMutations,
    ApiKeyMutations,
    DeadLetterMutations,
    WeChatMutations,
):
    """Writes; each answers a union of its result and the expected failures."""


@strawberry.type(
    description="Live updates over the `graphql-transport-ws` WebSocket protocol, scoped to the "
    "caller's tenant; authenticate with an `authorization` key holding `Bearer oj_...` in the "
    "`connection_init` payload (or the handshake's `Authorization` header)."
)
class Subscription(LiveSubscriptions):
    """Live updates over `graphql-transport-ws`, scoped to the caller's tenant."""


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[MaskUnexpectedErrors, *LIMITS],
)
