"""The `wecom` channel: journey actions on WeCom's external-contact API, and code provisioning.

Actions (params in `connectors.wecom.params`):

    welcome         send_welcome_msg with the trigger's WelcomeCode, once, inside its 20 s
    mass_message    add_msg_template (single) after reserving the customer's allowance; the
                    per-customer result arrives later as a `wecom.mass_message.result` event
    group_message   add_msg_template (group)
    tag             mark_tag
    moment          add_moment_task
    transfer        transfer_customer / resigned/transfer_customer, at most 2 in 90 days

WeCom takes no idempotency key on these endpoints: a node visit calls it once because the
connector activity records one delivery per key and answers a succeeded one from the record.
A mass message whose first attempt may have reached WeCom without its delivery being recorded
(the answer was lost, or the worker died) is recognised by its allowance reservation, which is
made before the call and survives transient failures: the retry first looks for the task the
earlier attempt created (get_groupmsg_list_v2 + get_groupmsg_send_result) and answers its msgid
instead of issuing a second task.
The customer is the `wecom_external_userid` identity; the staff member who owns the contact is
the customer attribute `wecom_follow_user` unless params name one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.base import (
    ActionOutcome,
    ActionRequest,
    ActionSpec,
    action_spec,
    parse_params,
    render_params,
)
from connectors.errors import PermanentChannelError, TransientChannelError
from connectors.wecom.client import WeComApiError, WeComClient
from connectors.wecom.codes import WeComCodes, required_str
from connectors.wecom.params import (
    GroupMessageParams,
    MassMessageParams,
    MomentParams,
    TagParams,
    TransferParams,
    WelcomeParams,
)
from connectors.wecom.ports import Allowances, Transfers
from domain.channels import (
    MAX_TRANSFERS_PER_WINDOW,
    TRANSFER_WINDOW_DAYS,
    WELCOME_CODE_TTL_SECONDS,
    allowance_for,
)
from domain.customers import EXTERNAL_USERID
from domain.wecom_events import FOLLOW_USER_ATTRIBUTE

CHANNEL = "wecom"
WELCOME_ALREADY_SENT = 41051
WELCOME_BUSY = 41096
# How far back a retried mass message looks for the task its earlier attempt created: a node's
# action attempts all fall within its schedule-to-close timeout of a day (workflows/journey.py).
EARLIER_TASK_LOOKBACK = timedelta(days=1)
LIST_PAGE = 100  # get_groupmsg_list_v2's largest page

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def _event_time(trigger: Mapping[str, Any]) -> datetime | None:
    """When the trigger event happened: its `timestamp`, else WeCom's `create_time` (epoch s)."""
    value = trigger.get("timestamp")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    properties = trigger.get("properties") or {}
    created = properties.get("create_time") if isinstance(properties, Mapping) else None
    if isinstance(created, int | float | str) and not isinstance(created, bool):
        try:
            return datetime.fromtimestamp(float(created), UTC)
        except (ValueError, OverflowError, OSError):
            return None
    return None


class WeComConnector(WeComCodes):
    """The `wecom` channel over a `WeComClient`; allowances and transfers are kept by ports.

    Also provisions codes (`WeComCodes`): the API's `CodeProvisioner` port.
    """

    name = CHANNEL
    actions: Mapping[str, ActionSpec] = {
        "welcome": ActionSpec(
            "welcome", WelcomeParams, "Welcome a new contact (within WeCom's 20 s window, once)."
        ),
        "mass_message": ActionSpec(
            "mass_message",
            MassMessageParams,
            "Issue a 1:1 mass-message task, counted against the customer's allowance.",
        ),
        "group_message": ActionSpec(
            "group_message", GroupMessageParams, "Issue a mass-message task to customer groups."
        ),
        "tag": ActionSpec("tag", TagParams, "Add or remove corp tags on the customer."),
        "moment": ActionSpec("moment", MomentParams, "Create a moment (朋友圈) task."),
        "transfer": ActionSpec(
            "transfer", TransferParams, "Transfer the customer to another staff member."
        ),
    }

    def __init__(
        self,
        client: WeComClient,
        allowances: Allowances,
        transfers: Transfers,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        super().__init__(client)
        self._allowances = allowances
        self._transfers = transfers
        self._clock = clock

    async def execute(self, request: ActionRequest) -> ActionOutcome:
        """Validate the params, then perform the action once."""
        spec = action_spec(self.name, self.actions, request.action)
        params = render_params(
            request, parse_params(self.name, spec.name, spec.params_model, request.params)
        )
        if isinstance(params, WelcomeParams):
            return await self._welcome(request, params)
        if isinstance(params, MassMessageParams):
            return await self._mass_message(request, params)
        if isinstance(params, GroupMessageParams):
            return await self._group_message(request, params)
        if isinstance(params, TagParams):
            return await self._tag(request, params)
        if isinstance(params, MomentParams):
            return await self._moment(request, params)
        assert isinstance(params, TransferParams)
        return await self._transfer(request, params)

    # -- actions ------------------------------------------------------------------------------

    async def _welcome(self, request: ActionRequest, params: WelcomeParams) -> ActionOutcome:
        trigger = request.trigger or {}
        properties = trigger.get("properties") or {}
        code = properties.get("welcome_code") if isinstance(properties, Mapping) else None
        if not isinstance(code, str) or not code:
            raise PermanentChannelError(
                "no welcome code (console welcome set or customer chatted before)",
                code="wecom.no_welcome_code",
            )
        happened = _event_time(trigger)
        if happened is not None:
            age = (self._clock() - happened).total_seconds()
            if age > WELCOME_CODE_TTL_SECONDS:
                log.warning(
                    "welcome for %s at %s came %.1f s after the contact was added",
                    request.enrollment_id,
                    request.node_id,
                    age,
                )
                raise PermanentChannelError(
                    f"welcome code expired (20 s window); the contact was added {age:.0f} s ago",
                    code="wecom.welcome_code_expired",
                )
        try:
            await self.client.call(
                request.tenant_id,
                "externalcontact/send_welcome_msg",
                {"welcome_code": code, **params.content()},
            )
        except WeComApiError as err:
            if err.errcode == WELCOME_ALREADY_SENT:
                raise PermanentChannelError(
                    "welcome code already used", code="wecom.welcome_code_used"
                ) from err
            if err.errcode == WELCOME_BUSY:
                raise TransientChannelError(
                    "another app is sending this welcome message; retrying", retry_after=1.0
                ) from err
            if _concerns_the_code(err):
                raise PermanentChannelError(
                    f"welcome code expired (20 s window) or invalid (errcode {err.errcode})",
                    code="wecom.welcome_code_expired",
                ) from err
            raise
        return ActionOutcome(detail={"welcomed": True})

    async def _mass_message(
        self, request: ActionRequest, params: MassMessageParams
    ) -> ActionOutcome:
        external_userid = _external_userid(request)
        sender = params.sender or _follow_user(request)
        credentials = await self.client.credentials(request.tenant_id)
        period, cap = allowance_for(credentials.mass_message_limit, self._clock())
        key = request.idempotency_key
        retried = await self._allowances.holds(request.tenant_id, key)
        if not await self._allowances.reserve(request.tenant_id, external_userid, period, cap, key):
            raise PermanentChannelError(
                f"the customer has had all {cap} mass messages allowed in {period}",
                code="wecom.allowance_exhausted",
            )
        if retried:
            earlier = await self._earlier_task(request.tenant_id, sender, external_userid, params)
            if earlier is not None:
                log.info(
                    "mass message of %s at %s was issued by an earlier attempt (%s)",
                    request.enrollment_id,
                    request.node_id,
                    earlier,
                )
                return ActionOutcome(
                    external_id=earlier,
                    detail={"msgid": earlier, "sender": sender, "period": period},
                )
        payload = {
            "chat_type": "single",
            "external_userid": [external_userid],
            "sender": sender,
            **params.content(),
        }
        try:
            answer = await self.client.call(
                request.tenant_id, "externalcontact/add_msg_template", payload
            )
        except PermanentChannelError:
            await self._allowances.release(request.tenant_id, key)
            raise
        # A transient failure keeps the reservation: WeCom may have created the task, and the
        # retry (same key) finds it reserved.
        if external_userid in (answer.get("fail_list") or []):
            await self._allowances.release(request.tenant_id, key)
            log.info(
                "wecom refused the mass message of %s at %s", request.enrollment_id, request.node_id
            )
            raise PermanentChannelError(
                "WeCom refused the task for this customer (not the sender's contact, or over "
                "WeCom's own limit)",
                code="wecom.mass_message_refused",
            )
        msgid = required_str(answer, "msgid", "add_msg_template")
        return ActionOutcome(
            external_id=msgid, detail={"msgid": msgid, "sender": sender, "period": period}
        )

    async def _earlier_task(
        self, tenant_id: str, sender: str, external_userid: str, params: MassMessageParams
    ) -> str | None:
        """The msgid of a single-chat task `sender` created lately with this content for this
        customer, or None. A transient failure here propagates: the retry looks again."""
        content = params.content()
        text = (content.get("text") or {}).get("content", "")
        attachments = content.get("attachments") or []
        end = self._clock()
        cursor = ""
        while True:
            listing = await self.client.call(
                tenant_id,
                "externalcontact/get_groupmsg_list_v2",
                {
                    "chat_type": "single",
                    "start_time": int((end - EARLIER_TASK_LOOKBACK).timestamp()),
                    "end_time": int(end.timestamp()) + 1,
                    "creator": sender,
                    "filter_type": 0,  # created through the API, not by the staff member
                    "limit": LIST_PAGE,
                    "cursor": cursor,
                },
            )
            for task in listing.get("group_msg_list") or []:
                same = (task.get("text") or {}).get("content", "") == text and (
                    task.get("attachments") or []
                ) == attachments
                msgid = task.get("msgid")
                if (
                    same
                    and isinstance(msgid, str)
                    and msgid
                    and await self._task_includes(tenant_id, msgid, sender, external_userid)
                ):
                    return msgid
            cursor = listing.get("next_cursor") or ""
            if not cursor:
                return None

    async def _task_includes(
        self, tenant_id: str, msgid: str, sender: str, external_userid: str
    ) -> bool:
        cursor = ""
        while True:
            answer = await self.client.call(
                tenant_id,
                "externalcontact/get_groupmsg_send_result",
                {"msgid": msgid, "userid": sender, "limit": 1000, "cursor": cursor},
            )
            rows = answer.get("send_list") or []
            if any(row.get("external_userid") == external_userid for row in rows):
                return True
            cursor = answer.get("next_cursor") or ""
            if not cursor:
                return False

    async def _group_message(
        self, request: ActionRequest, params: GroupMessageParams
    ) -> ActionOutcome:
        payload: dict[str, Any] = {
            "chat_type": "group",
            "sender": params.sender,
            **params.content(),
        }
        if params.chat_ids:
            payload["chat_id_list"] = params.chat_ids
        answer = await self.client.call(
            request.tenant_id, "externalcontact/add_msg_template", payload
        )
        msgid = required_str(answer, "msgid", "add_msg_template")
        return ActionOutcome(
            external_id=msgid,
            detail={"msgid": msgid, "sender": params.sender, "fail_list": answer.get("fail_list")},
        )

    async def _tag(self, request: ActionRequest, params: TagParams) -> ActionOutcome:
        external_userid = _external_userid(request)
        userid = params.userid or _follow_user(request)
        await self.client.call(
            request.tenant_id,
            "externalcontact/mark_tag",
            {
                "userid": userid,
                "external_userid": external_userid,
                "add_tag": params.add_tag,
                "remove_tag": params.remove_tag,
            },
        )
        return ActionOutcome(detail={"added": params.add_tag, "removed": params.remove_tag})

    async def _moment(self, request: ActionRequest, params: MomentParams) -> ActionOutcome:
        payload = params.content()
        if params.visible_range is not None:
            payload["visible_range"] = params.visible_range.as_json()
        answer = await self.client.call(
            request.tenant_id, "externalcontact/add_moment_task", payload
        )
        jobid = required_str(answer, "jobid", "add_moment_task")
        return ActionOutcome(external_id=jobid, detail={"jobid": jobid})

    async def _transfer(self, request: ActionRequest, params: TransferParams) -> ActionOutcome:
        external_userid = _external_userid(request)
        outcome = ActionOutcome(
            detail={
                "kind": params.kind,
                "handover_userid": params.handover_userid,
                "takeover_userid": params.takeover_userid,
            }
        )
        if await self._transfers.recorded(request.tenant_id, request.idempotency_key):
            return outcome  # an earlier attempt transferred the customer; WeCom would refuse
        now = self._clock()
        done = await self._transfers.count_since(
            request.tenant_id, external_userid, now - timedelta(days=TRANSFER_WINDOW_DAYS)
        )
        if done >= MAX_TRANSFERS_PER_WINDOW:
            raise PermanentChannelError(
                f"the customer was already transferred {done} times in {TRANSFER_WINDOW_DAYS} "
                f"days (WeCom allows {MAX_TRANSFERS_PER_WINDOW})",
                code="wecom.transfer_limit",
            )
        payload: dict[str, Any] = {
            "handover_userid": params.handover_userid,
            "takeover_userid": params.takeover_userid,
            "external_userid": [external_userid],
        }
        if params.kind == "on_job":
            path = "externalcontact/transfer_customer"
            if params.transfer_success_msg is not None:
                payload["transfer_success_msg"] = params.transfer_success_msg
        else:
            path = "externalcontact/resigned/transfer_customer"
        answer = await self.client.call(request.tenant_id, path, payload)
        for item in answer.get("customer") or []:
            errcode = item.get("errcode", 0) if isinstance(item, Mapping) else 0
            if item.get("external_userid") == external_userid and errcode:
                raise WeComApiError(
                    f"wecom {path} refused the customer with errcode {errcode}", int(errcode)
                )
        await self._transfers.record(
            request.tenant_id,
            external_userid,
            now,
            request.idempotency_key,
            handover_userid=params.handover_userid,
            takeover_userid=params.takeover_userid,
        )
        return outcome


def _concerns_the_code(err: WeComApiError) -> bool:
    # WeCom answers a bad or expired WelcomeCode with its generic "invalid parameter" errcode
    # (40058); only the errmsg says the welcome_code was the parameter at fault.
    message = err.message.lower()
    return "welcome_code" in message or "welcome code" in message


def _external_userid(request: ActionRequest) -> str:
    value = request.customer.identities.get(EXTERNAL_USERID)
    if not value:
        raise PermanentChannelError(
            f"the customer has no {EXTERNAL_USERID} identity", code="wecom.no_external_userid"
        )
    return value


def _follow_user(request: ActionRequest) -> str:
    value = request.customer.attributes.get(FOLLOW_USER_ATTRIBUTE)
    if not isinstance(value, str) or not value:
        raise PermanentChannelError(
            f"no staff member given and the customer has no {FOLLOW_USER_ATTRIBUTE} attribute",
            code="wecom.no_follow_user",
        )
    return value
