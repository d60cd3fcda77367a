"""Customer writes: recording a customer's consent on a channel."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import strawberry

from api.auth import Permission
from api.graphql.common import Forbidden, InvalidInput, NotFound, described_mutation
from api.graphql.context import Info
from api.graphql.customers.types import ConsentStatus, Customer
from domain.errors import FieldProblem, InvalidInputError, NotFoundError


@strawberry.input(description="A customer's consent on one channel, and what recorded it.")
class SetCustomerConsentInput:
    customer_id: strawberry.ID = strawberry.field(
        description="The customer; a merged-away id records it on the customer it was merged into."
    )
    channel: str = strawberry.field(
        description="The channel name, as action nodes name it (`sms`, `email`, `oa`, "
        "`miniprogram`, `wecom`...); lowercase letters, digits and `_`."
    )
    status: ConsentStatus = strawberry.field(
        description="`OPTED_OUT` makes journeys skip sends to the customer on the channel."
    )
    source: str = strawberry.field(
        default="api",
        description="What recorded it: `api` (default), `sms_reply`, `email_unsubscribe`, "
        "`oa_unfollow`, `import`, or another lowercase name.",
    )


SetCustomerConsentResult = Annotated[
    Customer | NotFound | InvalidInput | Forbidden,
    strawberry.union(
        "SetCustomerConsentResult",
        description="`Customer` as recorded; `NotFound` for an unknown customer; "
        "`InvalidInput` for a malformed channel or source; `Forbidden` without "
        "`manage_customers`.",
    ),
]


@strawberry.type
class CustomerMutations:
    @described_mutation(
        "Record a customer's consent on a channel (status, source, now as its time), replacing "
        "what was recorded for that channel. Needs an operator or admin key (`manage_customers`)."
    )
    async def set_customer_consent(
        self,
        info: Info,
        input: Annotated[
            SetCustomerConsentInput,
            strawberry.argument(description="The customer, the channel and the consent."),
        ],
    ) -> SetCustomerConsentResult:
        if not info.context.can(Permission.MANAGE_CUSTOMERS):
            return Forbidden.of(Permission.MANAGE_CUSTOMERS)
        try:
            model = await info.context.services.store.customers.set_consent(
                info.context.tenant_id,
                input.customer_id,
                input.channel,
                input.status == ConsentStatus.OPTED_IN,
                datetime.now(UTC),
                source=input.source,
            )
        except NotFoundError as exc:
            return NotFound.of(exc)
        except InvalidInputError as exc:
            return InvalidInput.of(
                InvalidInputError(
                    FieldProblem(path=f"input.{p.path}", message=p.message) for p in exc.problems
                )
            )
        return Customer.of(model)
