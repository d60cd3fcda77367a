"""An async client for WeChat's server API (`api.weixin.qq.com/cgi-bin/`), one app per tenant
and kind (`oa`, `miniprogram`).

Every call goes to the app's `base_url` (WeChat itself, or a simulator) with an access token from
`stable_token`. Tokens are cached per (base URL, appid, hash of the secret) until shortly before
they expire, and one refresh serves every caller waiting at that moment. A call answered with an
invalid or expired token (40001, 40014, 42001) gets a forced refresh (`force_refresh: true`) and
is retried once, as the WeCom client does.

Failures come out as the connector errors, chained:

    TransientChannelError   network errors, timeouts, HTTP 429/5xx, errcode -1 (system busy),
                            45009 / 45011 (frequency limits, retry_after=60)
    WeChatApiError          any other errcode; a PermanentChannelError whose `code` names the
                            reason (`ERRCODE_NAMES`, e.g. `wechat.not_authorized` for 43101) or
                            is "wechat.<errcode>", and whose `errcode` is WeChat's number

Access tokens and secrets never appear in messages (`connectors.wecom.client.scrub`). The token cache is
`connectors.tokens.TokenCache`, shared with the WeCom client.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from connectors.errors import PermanentChannelError, TransientChannelError
from connectors.tokens import TokenCache
from connectors.wechat.ports import AppSettingsProvider
from connectors.wecom.client import scrub
from connectors.wecom.ratelimit import RateLimiter
from domain.wechat import WeChatAppSettings

log = logging.getLogger(__name__)

INVALID_TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
# errcode → the delay to wait (None: unspecified). -1 is "system busy".
TRANSIENT_ERRCODES: dict[int, float | None] = {-1: None, 45009: 60.0, 45011: 60.0}
ERRCODE_NAMES: dict[int, str] = {
    40003: "wechat.invalid_openid",
    40013: "wechat.invalid_appid",
    40037: "wechat.invalid_template",
    40125: "wechat.invalid_appsecret",
    41030: "wechat.invalid_page",
    43004: "wechat.not_following",
    43101: "wechat.not_authorized",
    47003: "wechat.invalid_argument",
}
"""Errcodes of the send endpoints a journey designer needs to tell apart, by their code."""


class WeChatApiError(PermanentChannelError):
    """WeChat refused the call with `errcode`; retrying the same call cannot succeed."""

    def __init__(self, message: str, errcode: int) -> None:
        super().__init__(message, code=ERRCODE_NAMES.get(errcode, f"wechat.{errcode}"))
        self.errcode = errcode


class WeChatClient:
    """Calls WeChat for a tenant's app; shares one `httpx.AsyncClient` it does not own."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        apps: AppSettingsProvider,
        *,
        per_minute: int = 10_000,
        per_hour: int = 300_000,
        max_rate_wait: float = 1.0,
        timeout: float = 10.0,
        token_margin: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._apps = apps
        self._timeout = timeout
        self._limiter = RateLimiter(
            per_minute=per_minute, per_hour=per_hour, max_wait=max_rate_wait, clock=clock
        )
        self._tokens = TokenCache(clock, token_margin)

    async def settings(self, tenant_id: str, kind: str) -> WeChatAppSettings:
        """The tenant's app of `kind`; permanent `wechat.not_configured` when it has none."""
        found = await self._apps.get(tenant_id, kind)
        if found is None:
            raise PermanentChannelError(
                f"the tenant has not connected a WeChat {kind}", code="wechat.not_configured"
            )
        return found

    async def call(
        self, tenant_id: str, kind: str, path: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """POST `payload` to `path` (relative to the base URL, e.g. `message/template/send`) and
        return WeChat's answer when its errcode is 0; raise the connector errors otherwise."""
        app = await self.settings(tenant_id, kind)
        await self._limiter.acquire(app.appid, path)
        token = await self._token(app)
        try:
            return await self._call_once(app, path, payload, token)
        except WeChatApiError as err:
            if err.errcode not in INVALID_TOKEN_ERRCODES:
                raise
        log.info("wechat token for app %s was refused; refreshing once", app.appid)
        token = await self._token(app, stale=token)
        try:
            return await self._call_once(app, path, payload, token)
        except WeChatApiError as err:
            if err.errcode not in INVALID_TOKEN_ERRCODES:
                raise
            raise TransientChannelError(
                f"wechat {path} refused a freshly issued access token (errcode {err.errcode})"
            ) from err

    async def _call_once(
        self, app: WeChatAppSettings, path: str, payload: dict[str, Any], token: str
    ) -> dict[str, Any]:
        answer = await self._request(app, path, {"access_token": token}, payload, secrets=[token])
        return self._checked(app, path, answer, secrets=[token])

    async def _request(
        self,
        app: WeChatAppSettings,
        path: str,
        params: dict[str, Any],
        payload: dict[str, Any],
        *,
        secrets: list[str],
    ) -> dict[str, Any]:
        url = app.base_url + path.lstrip("/")
        try:
            response = await self._http.post(
                url, params=params, json=payload, timeout=self._timeout
            )
        except httpx.TimeoutException:
            # `from None`: the original carries the request, whose URL holds the token.
            raise TransientChannelError(
                f"wechat {path} timed out after {self._timeout:g} s"
            ) from None
        except httpx.TransportError as exc:
            raise TransientChannelError(
                f"wechat {path} failed: {type(exc).__name__}: {scrub(str(exc), secrets)}"
            ) from None
        status = response.status_code
        if status == 429 or status >= 500:
            raise TransientChannelError(f"wechat {path} answered HTTP {status}")
        if status >= 400:
            raise PermanentChannelError(
                f"wechat {path} answered HTTP {status}", code=f"wechat.http_{status}"
            )
        try:
            answer = response.json()
        except ValueError:
            raise TransientChannelError(
                f"wechat {path} answered something other than JSON"
            ) from None
        if not isinstance(answer, dict):
            raise TransientChannelError(f"wechat {path} answered JSON that is not an object")
        return answer

    def _checked(
        self, app: WeChatAppSettings, path: str, answer: dict[str, Any], *, secrets: list[str]
    ) -> dict[str, Any]:
        errcode = answer.get("errcode", 0)
        if not isinstance(errcode, int) or isinstance(errcode, bool):
            raise TransientChannelError(f"wechat {path} answered a malformed errcode")
        if errcode == 0:
            return answer
        errmsg = scrub(str(answer.get("errmsg", "")), secrets)
        message = f"wechat {path} answered errcode {errcode}: {errmsg}"
        if errcode in TRANSIENT_ERRCODES:
            retry_after = TRANSIENT_ERRCODES[errcode]
            if retry_after:
                self._limiter.block(app.appid, path, retry_after)
            raise TransientChannelError(message, retry_after=retry_after)
        raise WeChatApiError(message, errcode)

    async def _token(self, app: WeChatAppSettings, stale: str | None = None) -> str:
        """A valid access token; with `stale`, a token other than that refused one."""
        secret = app.appsecret.get_secret_value()
        key = (app.base_url, app.appid, hashlib.sha256(secret.encode()).hexdigest())

        async def fetch(force: bool) -> tuple[str, float]:
            return await self._fetch_token(app, secret, force=force)

        return await self._tokens.get(key, fetch, stale)

    async def _fetch_token(
        self, app: WeChatAppSettings, secret: str, *, force: bool
    ) -> tuple[str, float]:
        payload = {
            "grant_type": "client_credential",
            "appid": app.appid,
            "secret": secret,
            "force_refresh": force,
        }
        answer = await self._request(app, "stable_token", {}, payload, secrets=[secret])
        answer = self._checked(app, "stable_token", answer, secrets=[secret])
        value = answer.get("access_token")
        expires_in = answer.get("expires_in", 7200)
        if not isinstance(value, str) or not value or not isinstance(expires_in, int | float):
            raise TransientChannelError(
                "wechat stable_token answered without a usable access_token"
            )
        log.info("wechat access token refreshed for app %s", app.appid)
        return value, float(expires_in)
