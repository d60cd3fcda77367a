"""What can go wrong when a connector performs a channel action.

Every connector translates the failures of its channel (HTTP statuses, SDK exceptions, network
errors) into exactly these types at its boundary, chaining the original with `raise ... from exc`.
Callers (the connector activity) need to know one thing only: may the action be retried?

    ChannelError                    -- base: the action did not happen
    ├── TransientChannelError       -- retry later (5xx, timeouts, refused connections, rate
    │                                  limits); `retry_after` carries the channel's requested
    │                                  delay in seconds when it gave one (HTTP 429 Retry-After)
    └── PermanentChannelError       -- never retry: retrying cannot succeed (4xx, bad params,
        │                              unknown recipient); `code` is a short machine-readable
        │                              reason such as "http_404"
        ├── UnknownChannelError     -- no connector is registered under that channel name
        ├── UnknownActionError      -- the connector has no action of that name
        └── InvalidActionParamsError -- the params do not match the action's params model

Messages never contain secrets or message bodies; they may name hosts, statuses and fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class ChannelError(Exception):
    """A channel action failed; see the subclasses for whether to retry."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TransientChannelError(ChannelError):
    """The action may succeed later; `retry_after` is the channel's requested delay (seconds)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentChannelError(ChannelError):
    """The action will never succeed as requested; `code` names the reason for machines."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class UnknownChannelError(PermanentChannelError):
    """No connector is registered under `channel`; the message lists the known ones."""

    def __init__(self, channel: str, known: Iterable[str]) -> None:
        self.channel = channel
        self.known = sorted(known)
        listed = ", ".join(self.known) or "none"
        super().__init__(
            f"unknown channel {channel!r}; known channels: {listed}", "unknown_channel"
        )


class UnknownActionError(PermanentChannelError):
    """The connector of `channel` has no action named `action`; the message lists its actions."""

    def __init__(self, channel: str, action: str, known: Iterable[str]) -> None:
        self.channel = channel
        self.action = action
        self.known = sorted(known)
        listed = ", ".join(self.known) or "none"
        super().__init__(
            f"channel {channel!r} has no action {action!r}; its actions: {listed}",
            "unknown_action",
        )


class InvalidActionParamsError(PermanentChannelError):
    """The params of `channel.action` failed validation; `problems` has one line per field."""

    def __init__(self, channel: str, action: str, problems: Sequence[str]) -> None:
        self.channel = channel
        self.action = action
        self.problems = list(problems)
        super().__init__(
            f"invalid params for {channel}.{action}: " + "; ".join(self.problems),
            "invalid_params",
        )
