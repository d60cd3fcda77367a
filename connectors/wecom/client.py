"""An async client for WeCom's server API, one corp per tenant.

Every call goes to the tenant's `base_url` (WeCom itself, or a simulator) with an access token
from `gettoken`. Tokens are cached per (base URL, corp, hash of the secret) until shortly before
they expire, and one refresh serves every caller waiting at that moment. A call answered with an
invalid or expired token (40014, 42001, 40082) refreshes the token and is retried once.

Failures come out as the connector errors, chained:

    TransientChannelError   network errors, timeouts, HTTP 429/5xx, errcode -1 (system busy),
                            45009/45011/45033 (frequency limits; 45009 with retry_after=60)
    WeComApiError           any other errcode; a PermanentChannelError whose `code` is
                            "wecom.<errcode>" and whose `errcode` is WeCom's number

Access tokens and secrets never appear in messages: URLs are not quoted, and WeCom's `errmsg`
is scrubbed of both before it is.
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
from connectors.wecom.ports import CredentialsProvider
from connectors.wecom.ratelimit import RateLimiter
from domain.channels import WeComCredentials

log = logging.getLogger(__name__)

INVALID_TOKEN_ERRCODES = frozenset({40014, 42001, 40082})
# errcode → the delay WeCom asks for (None: unspecified). -1 is "system busy".
TRANSIENT_ERRCODES: dict[int, float | None] = {-1: None, 45009: 60.0, 45011: 60.0, 45033: 1.0}
_MAX_ERRMSG = 200


class WeComApiError(PermanentChannelError):
    """WeCom refused the call with `errcode`; retrying the same call cannot succeed."""

    def __init__(self, message: str, errcode: int) -> None:
        super().__init__(message, code=f"wecom.{errcode}")
        self.errcode = errcode


def scrub(text: str, secrets: list[str]) -> str:
    """`text` with each of `secrets` masked, cut to a loggable length (errmsgs, transport errors)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text[:_MAX_ERRMSG]


class WeComClient:
    """Calls WeCom for a tenant; shares one `httpx.AsyncClient` it does not own."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        credentials: CredentialsProvider,
        *,
        per_minute: int = 10_000,
        per_hour: int = 150_000,
        max_rate_wait: float = 1.0,
        timeout: float = 10.0,
        token_margin: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._credentials = credentials
        self._timeout = timeout
        self._limiter = RateLimiter(
            per_minute=per_minute, per_hour=per_hour, max_wait=max_rate_wait, clock=clock
        )
        self._tokens = TokenCache(clock, token_margin)

    async def credentials(self, tenant_id: str) -> WeComCredentials:
        """The tenant's credentials; permanent `wecom.not_configured` when it has none."""
        found = await self._credentials.get(tenant_id)
        if found is None:
            raise PermanentChannelError(
                f"tenant {tenant_id!r} has not connected WeCom", code="wecom.not_configured"
            )
        return found

    async def call(
        self,
        tenant_id: str,
        path: str,
        payload: dict[str, Any] | None = None,
        *,
        method: str = "POST",
        query: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Call `path` (relative to the base URL, e.g. `externalcontact/mark_tag`) and return
        WeCom's answer when its errcode is 0; raise the connector errors otherwise."""
        credentials = await self.credentials(tenant_id)
        await self._limiter.acquire(credentials.corp_id, path)
        token = await self._token(credentials)
        try:
            return await self._call_once(credentials, path, payload, method, query, token)
        except WeComApiError as err:
            if err.errcode not in INVALID_TOKEN_ERRCODES:
                raise
        log.info("wecom token for corp %s was refused; refreshing once", credentials.corp_id)
        token = await self._token(credentials, stale=token)
        try:
            return await self._call_once(credentials, path, payload, method, query, token)
        except WeComApiError as err:
            if err.errcode not in INVALID_TOKEN_ERRCODES:
                raise
            raise TransientChannelError(
                f"wecom {path} refused a freshly issued access token (errcode {err.errcode})"
            ) from err

    async def _call_once(
        self,
        credentials: WeComCredentials,
        path: str,
        payload: dict[str, Any] | None,
        method: str,
        query: dict[str, Any] | None,
        token: str,
    ) -> dict[str, Any]:
        params = {**(query or {}), "access_token": token}
        answer = await self._request(credentials, path, method, params, payload, secrets=[token])
        return self._checked(credentials, path, answer, secrets=[token])

    async def _request(
        self,
        credentials: WeComCredentials,
        path: str,
        method: str,
        params: dict[str, Any],
        payload: dict[str, Any] | None,
        *,
        secrets: list[str],
    ) -> dict[str, Any]:
        url = credentials.base_url + path.lstrip("/")
        try:
            response = await self._http.request(
                method, url, params=params, json=payload, timeout=self._timeout
            )
        except httpx.TimeoutException:
            # `from None`: the original carries the request, whose URL holds the credentials.
            raise TransientChannelError(
                f"wecom {path} timed out after {self._timeout:g} s"
            ) from None
        except httpx.TransportError as exc:
            raise TransientChannelError(
                f"wecom {path} failed: {type(exc).__name__}: {scrub(str(exc), secrets)}"
            ) from None
        status = response.status_code
        if status == 429 or status >= 500:
            raise TransientChannelError(f"wecom {path} answered HTTP {status}")
        if status >= 400:
            raise PermanentChannelError(
                f"wecom {path} answered HTTP {status}", code=f"wecom.http_{status}"
            )
        try:
            answer = response.json()
        except ValueError:
            raise TransientChannelError(
                f"wecom {path} answered something other than JSON"
            ) from None
        if not isinstance(answer, dict):
            raise TransientChannelError(f"wecom {path} answered JSON that is not an object")
        return answer

    def _checked(
        self,
        credentials: WeComCredentials,
        path: str,
        answer: dict[str, Any],
        *,
        secrets: list[str],
    ) -> dict[str, Any]:
        errcode = answer.get("errcode", 0)
        if not isinstance(errcode, int) or isinstance(errcode, bool):
            raise TransientChannelError(f"wecom {path} answered a malformed errcode")
        if errcode == 0:
            return answer
        errmsg = scrub(str(answer.get("errmsg", "")), secrets)
        message = f"wecom {path} answered errcode {errcode}: {errmsg}"
        if errcode in TRANSIENT_ERRCODES:
            retry_after = TRANSIENT_ERRCODES[errcode]
            if errcode == 45009 and retry_after:
                self._limiter.block(credentials.corp_id, path, retry_after)
            raise TransientChannelError(message, retry_after=retry_after)
        raise WeComApiError(message, errcode)

    async def _token(self, credentials: WeComCredentials, stale: str | None = None) -> str:
        """A valid access token; with `stale`, a token other than that refused one."""
        secret = credentials.secret.get_secret_value()
        key = (
            credentials.base_url,
            credentials.corp_id,
            hashlib.sha256(secret.encode()).hexdigest(),
        )

        async def fetch(force: bool) -> tuple[str, float]:
            return await self._fetch_token(credentials, secret)

        return await self._tokens.get(key, fetch, stale)

    async def _fetch_token(self, credentials: WeComCredentials, secret: str) -> tuple[str, float]:
        answer = await self._request(
            credentials,
            "gettoken",
            "GET",
            {"corpid": credentials.corp_id, "corpsecret": secret},
            None,
            secrets=[secret],
        )
        answer = self._checked(credentials, "gettoken", answer, secrets=[secret])
        value = answer.get("access_token")
        expires_in = answer.get("expires_in", 7200)
        if not isinstance(value, str) or not value or not isinstance(expires_in, int | float):
            raise TransientChannelError("wecom gettoken answered without a usable access_token")
        log.info("wecom access token refreshed for corp %s", credentials.corp_id)
        return value, float(expires_in)


class CachedCredentials:
    """A `CredentialsProvider` that reads a connected tenant's credentials at most once per `ttl`
    seconds, so a burst of calls (welcome messages) costs one read, not one per call.

    A tenant that changes its credentials is called with the old ones for up to `ttl`; the
    token cache is keyed by the secret, so the new secret gets its own token once read."""

    def __init__(
        self,
        provider: CredentialsProvider,
        ttl: float = 10.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 10_000,
    ) -> None:
        self._provider = provider
        self._ttl = ttl
        self._clock = clock
        self._max_entries = max_entries
        self._entries: dict[str, tuple[float, WeComCredentials]] = {}

    async def get(self, tenant_id: str) -> WeComCredentials | None:
        """The tenant's credentials as read at most `ttl` seconds ago, or None."""
        now = self._clock()
        cached = self._entries.get(tenant_id)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        found = await self._provider.get(tenant_id)
        if found is None:
            # Not kept: a tenant connecting WeCom must be callable at once.
            self._entries.pop(tenant_id, None)
            return None
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[tenant_id] = (now, found)
        return found

    def forget(self, tenant_id: str) -> None:
        """Read the tenant's credentials afresh next time (after they changed)."""
        self._entries.pop(tenant_id, None)
