"""The simulated corp's state, its tokens, customers and welcome codes.

The APIs are layered as classes over this state: `CorpState` (here) → `CorpWays` (ways.py:
contact and join ways, groups) → `CorpTasks` (tasks.py: mass messages, tags) → `CorpStaffTasks`
(staff.py: moments, transfers) → `WeComSimulator` (server.py: HTTP, limits, injected failures).
Each API method takes the request's JSON body (or query, for GET endpoints) and returns the
fields of a successful answer, or raises `WeComError` with WeCom's errcode. Error codes used
(from WeCom's global error code list, /90313, and the endpoint pages named in WECOM.md):

    -1     system busy (only when injected)          40001  invalid secret
    40013  invalid CorpID                             40014  invalid access_token
    41001  access_token missing                       42001  access_token expired
    40058  invalid parameter (state > 30 chars, > 5 groups, unknown config_id, invalid or
           expired welcome_code, …; errmsg says which)
    40068  invalid tag id                             41051  welcome message already sent
    41096  another app is sending (only when injected: retryable)
    45009  API frequency limit                        47001  request body is not JSON
    84061  no contact relation between staff and customer
    40128  customer transferred too often (2 transfers in 90 days)
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from domain.channels import MassMessageLimit

SYSTEM_BUSY = -1
INVALID_SECRET = 40001
INVALID_CORP_ID = 40013
INVALID_TOKEN = 40014
INVALID_PARAM = 40058
INVALID_TAG = 40068
TRANSFER_TOO_OFTEN = 40128
MISSING_TOKEN = 41001
WELCOME_ALREADY_SENT = 41051
WELCOME_BUSY = 41096
TOKEN_EXPIRED = 42001
FREQUENCY_LIMIT = 45009
BAD_JSON = 47001
NO_RELATION = 84061

MAX_STATE = 30
MAX_JOIN_WAY_CHATS = 5
MAX_ROOM_BASE_NAME = 40
MAX_ATTACHMENTS = 9
GROUP_CAPACITY = 200
JOIN_SCENE_QR = 3

Body = dict[str, Any]
Clock = Callable[[], float]


class WeComError(Exception):
    """An API call failed with WeCom's `errcode` and `errmsg`."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


def new_id(prefix: str) -> str:
    """A random id shaped like WeCom's (`wm…` customers, `wr…` groups, …)."""
    return prefix + secrets.token_hex(12)


def require(condition: bool, errmsg: str, errcode: int = INVALID_PARAM) -> None:
    if not condition:
        raise WeComError(errcode, errmsg)


def check_state(value: Any) -> str:
    state = "" if value is None else value
    require(isinstance(state, str) and len(state) <= MAX_STATE, "invalid state")
    return str(state)


@dataclass
class Follow:
    """A staff member's side of a contact: when, through which state, with which tags."""

    userid: str
    state: str
    createtime: int
    tags: set[str] = field(default_factory=set)
    remark_mobiles: list[str] = field(default_factory=list)
    """Phone numbers the staff member recorded on the contact (备注手机号)."""


@dataclass
class Customer:
    """An external contact (客户) and the staff members who have them as a contact."""

    external_userid: str
    name: str
    unionid: str | None
    follows: dict[str, Follow] = field(default_factory=dict)


@dataclass
class WelcomeCode:
    code: str
    external_userid: str
    userid: str
    minted_at: float
    used: bool = False


class CorpState:
    """Everything one simulated corp knows (the other modules add the APIs over it)."""

    def __init__(
        self,
        corp_id: str,
        secret: str,
        *,
        clock: Clock,
        token_ttl: float,
        welcome_ttl: float,
        mass_limit: MassMessageLimit = "per_month",
        monthly_limit: int | None = None,
        group_capacity: int = GROUP_CAPACITY,
    ) -> None:
        self.corp_id = corp_id
        self.secret = secret
        self.clock = clock
        self.token_ttl = token_ttl
        self.welcome_ttl = welcome_ttl
        self.mass_limit: MassMessageLimit = mass_limit
        self.monthly_limit = monthly_limit
        self.group_capacity = group_capacity
        self.tokens: dict[str, float] = {}  # access_token → expiry
        self.customers: dict[str, Customer] = {}
        self.welcome_codes: dict[str, WelcomeCode] = {}
        self.welcomes: list[Body] = []
        self.contact_ways: dict[str, Body] = {}
        self.join_ways: dict[str, Body] = {}
        self.chats: dict[str, Body] = {}
        self.msg_tasks: dict[str, Body] = {}
        self.received: dict[tuple[str, str], int] = {}  # (external_userid, period) → count
        self.tag_groups: dict[str, Body] = {}
        self.moments: dict[str, Body] = {}
        self.transfers: list[Body] = []

    def now(self) -> float:
        return self.clock()

    # --- tokens ---------------------------------------------------------------------------

    def gettoken(self, query: Body) -> Body:
        require(query.get("corpid") == self.corp_id, "invalid corpid", INVALID_CORP_ID)
        require(query.get("corpsecret") == self.secret, "invalid credential", INVALID_SECRET)
        token = secrets.token_urlsafe(32)
        self.tokens[token] = self.now() + self.token_ttl
        return {"access_token": token, "expires_in": int(self.token_ttl)}

    def check_token(self, token: str | None) -> None:
        require(bool(token), "access_token missing", MISSING_TOKEN)
        expiry = self.tokens.get(str(token))
        require(expiry is not None, "invalid access_token", INVALID_TOKEN)
        require(self.now() < float(expiry or 0), "access_token expired", TOKEN_EXPIRED)

    def expire_tokens(self) -> None:
        """Every access token issued so far is expired from now on (42001)."""
        now = self.now()
        self.tokens = dict.fromkeys(self.tokens, now)

    # --- customers and welcome codes ------------------------------------------------------

    def add_customer(
        self,
        userid: str,
        state: str,
        *,
        name: str | None = None,
        unionid: str | None = None,
        remark_mobiles: list[str] | None = None,
    ) -> Customer:
        """A new customer added by staff `userid` through a code with `state` (the staff member
        may record the customer's phone numbers, `remark_mobiles`)."""
        external_userid = new_id("wm")
        customer = Customer(external_userid, name or f"customer-{external_userid[-6:]}", unionid)
        customer.follows[userid] = Follow(
            userid, state, int(self.now()), remark_mobiles=list(remark_mobiles or [])
        )
        self.customers[external_userid] = customer
        return customer

    def mint_welcome_code(self, external_userid: str, userid: str) -> str:
        """A welcome code valid for `welcome_ttl` seconds from now, usable once."""
        code = secrets.token_urlsafe(24)
        self.welcome_codes[code] = WelcomeCode(code, external_userid, userid, self.now())
        return code

    def remove_follow(self, external_userid: str, userid: str) -> None:
        customer = self.customer(external_userid)
        customer.follows.pop(userid, None)

    def customer(self, external_userid: Any) -> Customer:
        customer = self.customers.get(str(external_userid))
        require(customer is not None, "invalid external_userid", NO_RELATION)
        assert customer is not None
        return customer

    def externalcontact_get(self, query: Body) -> Body:
        customer = self.customer(query.get("external_userid"))
        require(bool(customer.follows), "no contact relation", NO_RELATION)
        contact: Body = {
            "external_userid": customer.external_userid,
            "name": customer.name,
            "type": 1,
            "gender": 0,
            "avatar": "",
        }
        if customer.unionid:
            contact["unionid"] = customer.unionid
        follow_user = [
            {
                "userid": follow.userid,
                "remark": "",
                "description": "",
                "createtime": follow.createtime,
                "tags": [{"tag_id": tag, "type": 1} for tag in sorted(follow.tags)],
                "state": follow.state,
                "add_way": 1,
                "remark_mobiles": list(follow.remark_mobiles),
            }
            for follow in customer.follows.values()
        ]
        return {"external_contact": contact, "follow_user": follow_user, "next_cursor": ""}

    def send_welcome_msg(self, body: Body) -> Body:
        code = self.welcome_codes.get(str(body.get("welcome_code")))
        require(code is not None, "invalid welcome_code")
        assert code is not None
        require(not code.used, "welcome message already sent", WELCOME_ALREADY_SENT)
        require(self.now() - code.minted_at <= self.welcome_ttl, "welcome_code expired")
        attachments = body.get("attachments") or []
        require(isinstance(attachments, list), "invalid attachments")
        require(len(attachments) <= MAX_ATTACHMENTS, "too many attachments")
        text = body.get("text") or {}
        require(bool(text.get("content")) or bool(attachments), "empty welcome message")
        code.used = True
        self.welcomes.append(
            {
                "welcome_code": code.code,
                "external_userid": code.external_userid,
                "userid": code.userid,
                "text": text.get("content", ""),
                "attachments": attachments,
                "sent_at": self.now(),
            }
        )
        return {}
