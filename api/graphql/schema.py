"""The schema: each feature's queries and mutations composed into one `Query` and `Mutation`."""

from __future__ import annotations

from functools import partial

import strawberry
from strawberry.extensions import QueryDepthLimiter

from api.graphql.customers.queries import CustomerQueries
from api.graphql.enrollments.mutations import EnrollmentMutations
from api.graphql.enrollments.queries import EnrollmentQueries
from api.graphql.errors import MaskUnexpectedErrors
from api.graphql.events.mutations import EventMutations
from api.graphql.journeys.mutations import JourneyMutations
from api.graphql.journeys.queries import JourneyQueries

MAX_QUERY_DEPTH = 12


@strawberry.type
class Query(JourneyQueries, CustomerQueries, EnrollmentQueries):
    """Reads, all scoped to the caller's tenant."""


@strawberry.type
class Mutation(JourneyMutations, EnrollmentMutations, EventMutations):
    """Writes; each answers a union of its result and the expected failures."""


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    extensions=[MaskUnexpectedErrors, partial(QueryDepthLimiter, max_depth=MAX_QUERY_DEPTH)],
)
