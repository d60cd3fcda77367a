"""`WeComDriver`: plays customers and staff against a `WeComSimulator` and our callback URL.

Each action changes the simulator's state, then delivers the callback WeCom would send:
`POST {callback_url}?msg_signature&timestamp&nonce` with `<xml><ToUserName/><AgentID/><Encrypt/>
</xml>`, the inner message encrypted and signed with the tenant's Token and EncodingAESKey.
Like WeCom it retries a callback that got no 200 within the timeout (up to 3 more times), and
`retries` re-sends an answered callback unchanged, to exercise de-duplication.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from connectors.wecom.crypto import WeComCrypto
from connectors.wecom.envelope import FieldValue, flat_xml
from connectors.wecom.simulator.server import WeComSimulator
from connectors.wecom.simulator.state import new_id

WECOM_RETRIES = 3


@dataclass(frozen=True)
class Callback:
    """One sealed callback: the query parameters and the body, ready to POST (or to tamper with)."""

    fields: dict[str, FieldValue]
    params: dict[str, str]
    body: bytes


@dataclass
class Delivery:
    """A callback and the HTTP status of every attempt (0: no answer within the timeout)."""

    callback: Callback
    statuses: list[int] = field(default_factory=list)

    @property
    def status(self) -> int:
        return self.statuses[-1] if self.statuses else 0


@dataclass(frozen=True)
class AddedCustomer:
    """A customer who scanned a channel code; `status` is our answer to the add callback."""

    external_userid: str
    welcome_code: str | None
    unionid: str | None
    staff: str
    state: str
    status: int


class WeComDriver:
    """Customers and staff acting on a simulated corp, with callbacks posted to `callback_url`."""

    def __init__(
        self,
        sim: WeComSimulator,
        *,
        callback_url: str,
        token: str,
        encoding_aes_key: str,
        http: httpx.AsyncClient,
        agent_id: str = "",
        timeout: float = 5.0,
        retries: int = 0,
        join_state_in_callback: bool = True,
    ) -> None:
        self.sim = sim
        self.callback_url = callback_url
        self.crypto = WeComCrypto(token, encoding_aes_key, sim.corp_id)
        self.http = http
        self.agent_id = agent_id
        self.timeout = timeout
        self.retries = retries
        # WeCom itself puts the join way's state only in groupchat/get's member list.
        self.join_state_in_callback = join_state_in_callback
        self.deliveries: list[Delivery] = []

    @property
    def last_status(self) -> int:
        """The HTTP status of our answer to the latest callback (0: none, or no answer)."""
        return self.deliveries[-1].status if self.deliveries else 0

    # --- the wire -------------------------------------------------------------------------

    def seal(self, fields: dict[str, FieldValue]) -> Callback:
        """The callback WeCom would POST for the inner message `fields`."""
        encrypted = self.crypto.encrypt(flat_xml(fields).encode("utf-8"))
        timestamp = str(int(self.sim.now()))
        nonce = str(secrets.randbelow(10**10))
        params = {
            "msg_signature": self.crypto.sign(timestamp, nonce, encrypted),
            "timestamp": timestamp,
            "nonce": nonce,
        }
        outer: dict[str, FieldValue] = {"ToUserName": self.sim.corp_id}
        if self.agent_id:
            outer["AgentID"] = self.agent_id
        outer["Encrypt"] = encrypted
        return Callback(fields, params, flat_xml(outer).encode("utf-8"))

    async def _attempt(self, callback: Callback) -> int:
        try:
            response = await self.http.post(
                self.callback_url,
                params=callback.params,
                content=callback.body,
                headers={"Content-Type": "text/xml"},
                timeout=self.timeout,
            )
        except httpx.HTTPError:
            return 0
        return response.status_code

    async def post(self, callback: Callback, *, retries: int | None = None) -> int:
        """Deliver `callback` as WeCom does; the status of the last attempt."""
        delivery = Delivery(callback)
        self.deliveries.append(delivery)
        for _ in range(1 + WECOM_RETRIES):
            delivery.statuses.append(await self._attempt(callback))
            if delivery.status == 200:
                break
        for _ in range(self.retries if retries is None else retries):
            delivery.statuses.append(await self._attempt(callback))
        return delivery.status

    async def send(self, fields: dict[str, FieldValue], *, retries: int | None = None) -> int:
        """Seal and deliver an inner message; the HTTP status of our answer."""
        return await self.post(self.seal(fields), retries=retries)

    async def verify_url(self, echostr: str = "") -> tuple[int, str]:
        """WeCom's URL verification GET; (status, body) of our answer."""
        plain = echostr or str(secrets.randbelow(10**18))
        encrypted = self.crypto.encrypt(plain.encode("utf-8"))
        timestamp, nonce = str(int(self.sim.now())), str(secrets.randbelow(10**10))
        params = {
            "msg_signature": self.crypto.sign(timestamp, nonce, encrypted),
            "timestamp": timestamp,
            "nonce": nonce,
            "echostr": encrypted,
        }
        response = await self.http.get(self.callback_url, params=params, timeout=self.timeout)
        return response.status_code, response.text

    def _event(self, event: str, change_type: str, **extra: FieldValue) -> dict[str, FieldValue]:
        return {
            "ToUserName": self.sim.corp_id,
            "FromUserName": "sys",
            "CreateTime": int(self.sim.now()),
            "MsgType": "event",
            "Event": event,
            "ChangeType": change_type,
            **extra,
        }

    # --- customers ------------------------------------------------------------------------

    async def add_customer(
        self,
        state: str = "",
        staff: str | None = None,
        *,
        name: str | None = None,
        unionid: str | None = None,
        has_unionid: bool = True,
        welcome: bool = True,
        retries: int | None = None,
        mobile: str | None = None,
    ) -> AddedCustomer:
        """A customer scans the channel code with `state` and adds `staff` (default: the code's
        first user, else "zhangsan"); WeCom mints a welcome code and sends the add callback.
        `mobile`: the phone number the staff member records on the contact."""
        way = self.sim.contact_way_by_state(state) if state else None
        userid = staff or (way["user"][0] if way else "zhangsan")
        union = (unionid or new_id("ow")) if has_unionid else None
        customer = self.sim.add_customer(
            userid, state, name=name, unionid=union, remark_mobiles=[mobile] if mobile else None
        )
        code = self.sim.mint_welcome_code(customer.external_userid, userid) if welcome else None
        fields = self._event(
            "change_external_contact",
            "add_external_contact",
            UserID=userid,
            ExternalUserID=customer.external_userid,
        )
        if state:
            fields["State"] = state
        if code:
            fields["WelcomeCode"] = code
        status = await self.send(fields, retries=retries)
        return AddedCustomer(customer.external_userid, code, union, userid, state, status)

    async def join_group(
        self, external_userid: str, join_way: str, *, retries: int | None = None
    ) -> str:
        """The customer joins a group through a join way (config id or state); the chat id.
        Our answer's status is `last_status`."""
        chat_id, way = self.sim.join(external_userid, join_way)
        chat = self.sim.chats[chat_id]
        fields = self._event(
            "change_external_chat",
            "update",
            ChatId=chat_id,
            UpdateDetail="add_member",
            JoinScene=3,
            MemChangeCnt=1,
            MemChangeList=[external_userid],
            LastMemVer=f"v{len(chat['member_list']) - 1}",
            CurMemVer=f"v{len(chat['member_list'])}",
        )
        if self.join_state_in_callback and way["state"]:
            fields["State"] = way["state"]
        await self.send(fields, retries=retries)
        return chat_id

    async def leave_group(
        self, external_userid: str, chat_id: str, *, retries: int | None = None
    ) -> int:
        """The customer leaves the group by themself (QuitScene 0)."""
        chat = self.sim.chats[chat_id]
        chat["member_list"] = [m for m in chat["member_list"] if m["userid"] != external_userid]
        fields = self._event(
            "change_external_chat",
            "update",
            ChatId=chat_id,
            UpdateDetail="del_member",
            QuitScene=0,
            MemChangeCnt=1,
            MemChangeList=[external_userid],
        )
        return await self.send(fields, retries=retries)

    async def customer_deletes_staff(
        self, external_userid: str, staff: str, *, retries: int | None = None
    ) -> int:
        """The customer deletes the staff member (`del_follow_user`)."""
        self.sim.remove_follow(external_userid, staff)
        fields = self._event(
            "change_external_contact",
            "del_follow_user",
            UserID=staff,
            ExternalUserID=external_userid,
        )
        return await self.send(fields, retries=retries)

    async def staff_deletes_customer(
        self, external_userid: str, staff: str, *, retries: int | None = None
    ) -> int:
        """The staff member deletes the customer (`del_external_contact`)."""
        self.sim.remove_follow(external_userid, staff)
        fields = self._event(
            "change_external_contact",
            "del_external_contact",
            UserID=staff,
            ExternalUserID=external_userid,
        )
        return await self.send(fields, retries=retries)

    async def change_tags(
        self,
        external_userid: str,
        staff: str,
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
        *,
        retries: int | None = None,
    ) -> int:
        """The staff member tags the customer by tag name (corp tags created as needed); WeCom
        notifies with `edit_external_contact`, which does not say what changed."""
        add_ids = [self.sim.add_corp_tag(name) for name in add]
        remove_ids = [self.sim.add_corp_tag(name) for name in remove]
        self.sim.mark_tag(
            {
                "userid": staff,
                "external_userid": external_userid,
                "add_tag": add_ids,
                "remove_tag": remove_ids,
            }
        )
        fields = self._event(
            "change_external_contact",
            "edit_external_contact",
            UserID=staff,
            ExternalUserID=external_userid,
        )
        return await self.send(fields, retries=retries)

    async def corp_tag_changed(
        self, tag_id: str, change_type: str = "update", *, tag_type: str = "tag"
    ) -> int:
        """An admin changed the corp tag library (`change_external_tag`; names no customer)."""
        fields = self._event("change_external_tag", change_type, Id=tag_id, TagType=tag_type)
        return await self.send(fields)

    async def confirm_mass_message(self, msgid: str, staff: str) -> list[dict[str, object]]:
        """The staff member confirms their part of a mass-message task in the WeCom app; the
        per-customer results (status 1 sent, 2 not a friend, 3 limit reached)."""
        return [dict(row) for row in self.sim.confirm(msgid, staff)]
