"""`WeChatDriver`: plays users against a `WeChatSimulator` and pushes WeChat's callbacks to us.

Each action changes the simulator's state, then delivers the push WeChat would send in safe
mode: `POST {callback_url}?signature&timestamp&nonce&openid&encrypt_type=aes&msg_signature` with
`<xml><ToUserName/><Encrypt/></xml>`, the inner message encrypted with the EncodingAESKey (the
appid as receive id) and signed with the Token.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from connectors.wechat.envelope import message_xml, seal, url_signature
from connectors.wechat.simulator.server import WeChatSimulator
from connectors.wecom.crypto import WeComCrypto
from connectors.wecom.envelope import FieldValue

ORIGINAL_ID = "gh_0123456789ab"  # the app's original id (`ToUserName` of every push)


@dataclass(frozen=True)
class Push:
    """One sealed push: the query parameters and the body, ready to POST (or to tamper with)."""

    params: dict[str, str]
    body: bytes


class WeChatDriver:
    """Users acting on a simulated app, with pushes posted to `callback_url`."""

    def __init__(
        self,
        sim: WeChatSimulator,
        *,
        callback_url: str,
        token: str,
        encoding_aes_key: str,
        http: httpx.AsyncClient,
        timeout: float = 5.0,
    ) -> None:
        self.sim = sim
        self.callback_url = callback_url
        self.token = token
        self.encoding_aes_key = encoding_aes_key
        self.crypto = WeComCrypto(token, encoding_aes_key, sim.appid)
        self.http = http
        self.timeout = timeout

    # --- pushes ---------------------------------------------------------------------------

    def seal(
        self,
        fields: dict[str, FieldValue],
        entries: list[dict[str, str]] | None = None,
        list_parent: str | None = None,
    ) -> Push:
        """A push of the message `fields` (and `List` entries), signed and encrypted."""
        timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
        inner = message_xml({"ToUserName": ORIGINAL_ID, **fields}, entries, list_parent)
        msg_signature, body = seal(self.crypto, ORIGINAL_ID, inner, timestamp, nonce)
        params = {
            "signature": url_signature(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "encrypt_type": "aes",
            "msg_signature": msg_signature,
        }
        openid = fields.get("FromUserName")
        if isinstance(openid, str):
            params["openid"] = openid
        return Push(params, body)

    async def post(self, push: Push) -> httpx.Response:
        """Deliver `push` to the callback URL."""
        return await self.http.post(
            self.callback_url, params=push.params, content=push.body, timeout=self.timeout
        )

    async def verify_url(self) -> httpx.Response:
        """WeChat's URL verification GET; a correct answer echoes `echostr`."""
        timestamp, nonce, echostr = (
            str(int(time.time())),
            secrets.token_hex(8),
            secrets.token_hex(9),
        )
        params = {
            "signature": url_signature(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "echostr": echostr,
        }
        return await self.http.get(self.callback_url, params=params, timeout=self.timeout)

    def event(self, openid: str, event: str, **extra: FieldValue) -> dict[str, FieldValue]:
        """The fields of an event message from `openid` (with its UnionId when it has one)."""
        fields: dict[str, FieldValue] = {
            "FromUserName": openid,
            "CreateTime": int(time.time()),
            "MsgType": "event",
            "Event": event,
            **extra,
        }
        unionid = self.sim.users.get(openid)
        if unionid:
            fields["UnionId"] = unionid
        return fields

    # --- Official Account users -----------------------------------------------------------

    async def follow(
        self, openid: str | None = None, *, scene: str | None = None, unionid: str | None = None
    ) -> tuple[str, httpx.Response]:
        """A user follows (by a parametric QR of `scene`, if given); (openid, our answer)."""
        openid = self.sim.add_user(openid, unionid) if openid not in self.sim.users else openid
        assert openid is not None
        self.sim.followers.add(openid)
        extra: dict[str, FieldValue] = {}
        if scene is not None:
            extra = {"EventKey": f"qrscene_{scene}", "Ticket": secrets.token_urlsafe(16)}
        return openid, await self.post(self.seal(self.event(openid, "subscribe", **extra)))

    async def scan(self, openid: str, scene: str) -> httpx.Response:
        """A follower scans a parametric QR of `scene`."""
        extra: dict[str, FieldValue] = {"EventKey": scene, "Ticket": secrets.token_urlsafe(16)}
        return await self.post(self.seal(self.event(openid, "SCAN", **extra)))

    async def unfollow(self, openid: str) -> httpx.Response:
        """A follower unfollows."""
        self.sim.followers.discard(openid)
        return await self.post(self.seal(self.event(openid, "unsubscribe", EventKey="")))

    async def finish_template_jobs(self, status: str = "success") -> list[httpx.Response]:
        """Push `TEMPLATESENDJOBFINISH` for every template message not reported yet."""
        answers = []
        for sent in self.sim.unfinished("message/template/send"):
            sent.finished = True
            fields = self.event(str(sent.body["touser"]), "TEMPLATESENDJOBFINISH")
            fields.update({"MsgID": sent.msgid, "Status": status})
            answers.append(await self.post(self.seal(fields)))
        return answers

    # --- mini-program users ---------------------------------------------------------------

    async def popup(
        self,
        openid: str,
        accept: Sequence[str],
        reject: Sequence[str] = (),
    ) -> httpx.Response:
        """The user answers the subscription popup: each accepted template allows one send."""
        if openid not in self.sim.users:
            self.sim.add_user(openid)
        entries = []
        for template_id in accept:
            key = (openid, template_id)
            self.sim.authorizations[key] = self.sim.authorizations.get(key, 0) + 1
            self.sim.accepted.add(key)
            entries.append(_popup_entry(template_id, "accept"))
        entries += [_popup_entry(template_id, "reject") for template_id in reject]
        fields = self.event(openid, "subscribe_msg_popup_event")
        return await self.post(self.seal(fields, entries, "SubscribeMsgPopupEvent"))

    async def report_subscribe_sends(self) -> list[httpx.Response]:
        """Push `subscribe_msg_sent_event` for every subscribe message not reported yet."""
        answers = []
        for sent in self.sim.unfinished("message/subscribe/send"):
            sent.finished = True
            entry = {
                "TemplateId": str(sent.body["template_id"]),
                "MsgID": str(sent.msgid),
                "ErrorCode": "0",
                "ErrorStatus": "success",
            }
            fields = self.event(str(sent.body["touser"]), "subscribe_msg_sent_event")
            answers.append(await self.post(self.seal(fields, [entry], "SubscribeMsgSentEvent")))
        return answers


def _popup_entry(template_id: str, status: str) -> dict[str, str]:
    return {"TemplateId": template_id, "SubscribeStatusString": status, "PopupScene": "0"}
