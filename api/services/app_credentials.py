"""What WeCom's and WeChat's settings services share: where an app's API root may point, and
which secrets must be given again.

The secrets go to whatever API root is set, so a new root or a new app identity (the corp, the
appid) must come with them again; otherwise an omitted secret keeps its stored value.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from pydantic import SecretStr

from domain.errors import InvalidInputError


def api_root(url: str) -> str:
    """`url` ending in `/`."""
    return url if url.endswith("/") else url + "/"


def allowed_roots(default: str, extra: Collection[str]) -> frozenset[str]:
    """The provider's own root and the ones the deployment allows (a simulator's)."""
    return frozenset(api_root(url) for url in (default, *extra))


def root_and_secrets(
    *,
    existing: Any | None,
    identity: tuple[str, str, str],
    requested_root: str | None,
    default_root: str,
    allowed: frozenset[str],
    secrets: Mapping[str, str | None],
    first_time: str,
) -> dict[str, Any]:
    """`{"base_url": ..., <secret>: SecretStr, ...}` for the new settings, or `InvalidInputError`.

    `existing` is the stored settings model (or None); `identity` is (field, label, new value),
    e.g. `("corp_id", "corp", "ww…")`; `first_time` words the error for a first configuration.
    """
    field, label, value = identity
    new_root = api_root(requested_root) if requested_root is not None else None
    if existing is None:
        base_url, retyped = new_root or default_root, first_time
    else:
        base_url = new_root or existing.base_url
        if base_url != existing.base_url:
            retyped = "required again when the base URL changes"
        elif value != getattr(existing, field):
            retyped = f"required again when the {label} changes"
        else:
            retyped = ""
    if (existing is None or base_url != existing.base_url) and base_url not in allowed:
        listed = ", ".join(sorted(allowed))
        raise InvalidInputError.single("base_url", f"must be one of: {listed}")
    settled: dict[str, Any] = {"base_url": base_url}
    missing = []
    for name, given in secrets.items():
        if given is not None:
            settled[name] = SecretStr(given)
        elif existing is not None and not retyped:
            settled[name] = getattr(existing, name)
        else:
            missing.append(name)
    if missing:
        raise InvalidInputError.single(", ".join(missing), retyped)
    return settled
