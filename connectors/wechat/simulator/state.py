"""The simulated app's state and API methods: tokens, users, templates, authorisations, sends.

Each API method takes the request's JSON body (or query, for `token`) and returns the fields of
a successful answer, or raises `WeChatError` with WeChat's errcode. Error codes used (WeChat's
global return codes and the send endpoints' pages):

    -1     system busy (only when injected)          40001  invalid credential (bad token)
    40003  invalid openid                             40013  invalid appid
    40037  invalid template_id                        40125  invalid appsecret
    41001  access_token missing                       42001  access_token expired
    43004  require subscribe (not a follower)         43101  user refuse to accept the msg
    45009  reach max api daily quota / freq limit     47001  data format error (not JSON)
    47003  argument invalid (a data value empty, too long or unknown; bad miniprogram_state)
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SYSTEM_BUSY = -1
INVALID_CREDENTIAL = 40001
INVALID_OPENID = 40003
INVALID_APPID = 40013
INVALID_TEMPLATE = 40037
INVALID_APPSECRET = 40125
MISSING_TOKEN = 41001
TOKEN_EXPIRED = 42001
NOT_FOLLOWING = 43004
USER_REFUSED = 43101
FREQUENCY_LIMIT = 45009
BAD_JSON = 47001
ARGUMENT_INVALID = 47003

THING_MAX = 20  # `thing` keywords: at most 20 characters
MINIPROGRAM_STATES = ("developer", "trial", "formal")

Body = dict[str, Any]
Clock = Callable[[], float]


class WeChatError(Exception):
    """An API call failed with WeChat's `errcode` and `errmsg`."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


def new_openid() -> str:
    """A random openid shaped like WeChat's (28 characters starting with `o`)."""
    return "o" + secrets.token_urlsafe(20)[:27]


@dataclass
class Sent:
    """One message the app sent: its endpoint, msgid and request body."""

    path: str
    msgid: int
    body: Body
    finished: bool = False


@dataclass
class AppState:
    """One Official Account or mini-program in memory."""

    kind: str
    appid: str
    secret: str
    clock: Clock
    token_ttl: float = 7200.0
    tokens: dict[str, float] = field(default_factory=dict)  # token → expires at
    users: dict[str, str | None] = field(default_factory=dict)  # openid → unionid
    followers: set[str] = field(default_factory=set)
    templates: dict[str, list[str]] = field(default_factory=dict)  # id → keywords
    accepted: set[tuple[str, str]] = field(default_factory=set)  # OA: (openid, template)
    authorizations: dict[tuple[str, str], int] = field(default_factory=dict)  # MP
    sent: list[Sent] = field(default_factory=list)
    _by_client_msg_id: dict[str, int] = field(default_factory=dict)
    _next_msgid: int = 2_000_000_000

    # --- tokens ---------------------------------------------------------------------------

    def _issue(self) -> str:
        token = secrets.token_urlsafe(32)
        self.tokens = {token: self.clock() + self.token_ttl}  # a new token retires the old
        return token

    def _current(self) -> str | None:
        now = self.clock()
        for token, expires in self.tokens.items():
            if expires > now:
                return token
        return None

    def _credentials(self, appid: Any, secret: Any) -> None:
        if appid != self.appid:
            raise WeChatError(INVALID_APPID, "invalid appid")
        if secret != self.secret:
            raise WeChatError(INVALID_APPSECRET, "invalid appsecret")

    def stable_token(self, body: Body) -> Body:
        """`POST stable_token`: the current token unless `force_refresh` (or none is valid)."""
        self._credentials(body.get("appid"), body.get("secret"))
        if body.get("grant_type") != "client_credential":
            raise WeChatError(ARGUMENT_INVALID, "invalid grant_type")
        token = None if body.get("force_refresh") else self._current()
        token = token or self._issue()
        return {"access_token": token, "expires_in": int(self.tokens[token] - self.clock())}

    def token(self, query: Body) -> Body:
        """`GET token?grant_type&appid&secret`: a new token each call."""
        self._credentials(query.get("appid"), query.get("secret"))
        token = self._issue()
        return {"access_token": token, "expires_in": int(self.token_ttl)}

    def check_token(self, token: str | None) -> None:
        if not token:
            raise WeChatError(MISSING_TOKEN, "access_token missing")
        expires = self.tokens.get(token)
        if expires is None:
            raise WeChatError(INVALID_CREDENTIAL, "invalid credential, access_token is invalid")
        if expires <= self.clock():
            raise WeChatError(TOKEN_EXPIRED, "access_token expired")

    def expire_tokens(self) -> None:
        """Make every issued token expired (as if two hours passed)."""
        self.tokens = {token: self.clock() for token in self.tokens}

    # --- users and templates ---------------------------------------------------------------

    def add_user(self, openid: str | None = None, unionid: str | None = None) -> str:
        openid = openid or new_openid()
        self.users[openid] = unionid
        return openid

    def add_template(self, template_id: str, keywords: list[str]) -> None:
        self.templates[template_id] = list(keywords)

    def _recipient(self, body: Body) -> str:
        openid = body.get("touser")
        if not isinstance(openid, str) or openid not in self.users:
            raise WeChatError(INVALID_OPENID, "invalid openid")
        return openid

    def _template(self, body: Body) -> tuple[str, list[str]]:
        template_id = body.get("template_id")
        if not isinstance(template_id, str) or template_id not in self.templates:
            raise WeChatError(INVALID_TEMPLATE, "invalid template_id")
        return template_id, self.templates[template_id]

    def _check_data(self, body: Body, keywords: list[str]) -> None:
        data = body.get("data")
        if not isinstance(data, dict):
            raise WeChatError(ARGUMENT_INVALID, "argument invalid! data is not an object")
        for keyword in keywords:
            entry = data.get(keyword)
            value = entry.get("value") if isinstance(entry, dict) else None
            if not isinstance(value, str) or not value.strip():
                raise WeChatError(
                    ARGUMENT_INVALID, f"argument invalid! data.{keyword}.value is empty"
                )
            if keyword.startswith("thing") and len(value) > THING_MAX:
                raise WeChatError(
                    ARGUMENT_INVALID, f"argument invalid! data.{keyword}.value too long"
                )
        unknown = sorted(set(data) - set(keywords))
        if unknown:
            raise WeChatError(ARGUMENT_INVALID, f"argument invalid! data.{unknown[0]} unknown")

    def _record(self, path: str, body: Body) -> Body:
        self._next_msgid += 1
        self.sent.append(Sent(path, self._next_msgid, body))
        return {"msgid": self._next_msgid}

    # --- sends -----------------------------------------------------------------------------

    def template_send(self, body: Body) -> Body:
        """`message/template/send` (OA): to a follower; `client_msg_id` de-duplicates."""
        openid = self._recipient(body)
        if openid not in self.followers:
            raise WeChatError(NOT_FOLLOWING, "require subscribe")
        _, keywords = self._template(body)
        self._check_data(body, keywords)
        client_msg_id = body.get("client_msg_id")
        if isinstance(client_msg_id, str) and client_msg_id in self._by_client_msg_id:
            return {"msgid": self._by_client_msg_id[client_msg_id]}
        answer = self._record("message/template/send", body)
        if isinstance(client_msg_id, str) and client_msg_id:
            self._by_client_msg_id[client_msg_id] = answer["msgid"]
        return answer

    def subscribe_bizsend(self, body: Body) -> Body:
        """`message/subscribe/bizsend` (OA): to a user who accepted the template."""
        openid = self._recipient(body)
        template_id, keywords = self._template(body)
        if (openid, template_id) not in self.accepted:
            raise WeChatError(USER_REFUSED, "user refuse to accept the msg")
        self._check_data(body, keywords)
        return self._record("message/subscribe/bizsend", body)

    def subscribe_send(self, body: Body) -> Body:
        """`message/subscribe/send` (mini-program): spends one of the user's authorisations."""
        openid = self._recipient(body)
        template_id, keywords = self._template(body)
        state = body.get("miniprogram_state", "formal")
        if state not in MINIPROGRAM_STATES:
            raise WeChatError(ARGUMENT_INVALID, "argument invalid! miniprogram_state")
        self._check_data(body, keywords)
        left = self.authorizations.get((openid, template_id), 0)
        if left <= 0:
            raise WeChatError(USER_REFUSED, "user refuse to accept the msg")
        self.authorizations[(openid, template_id)] = left - 1
        return self._record("message/subscribe/send", body)

    def unfinished(self, path: str) -> list[Sent]:
        """Sends of `path` whose result has not been pushed yet."""
        return [sent for sent in self.sent if sent.path == path and not sent.finished]
