"""Channel codes (contact ways) and group live codes (join ways): provisioned on WeCom, recorded
in `hooks`; a code's `state` identifies the hook in the callbacks it causes."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from api.services.ports import Clock, CodeProvisioner, utc_now
from api.services.wecom_settings import WeComNotConfiguredError
from domain.channels import check_state
from domain.errors import ConflictError, DomainError, InvalidInputError
from domain.hooks import STATE_PREFIX, Hook, HookSpec, hook_state
from store.database import Store
from store.ids import new_id


class ProvisioningFailedError(DomainError):
    """WeCom refused or failed to make, change or remove a code; the message is ours alone."""


# A channel error's `code` is shown only when it is one of the connectors' own short reasons.
_SHOWN_CODE = re.compile(r"[a-z][a-z0-9_.]{0,39}")


def _channel_failure(exc: Exception, doing: str) -> ProvisioningFailedError | None:
    """A clear `ProvisioningFailedError` for a connector's channel error, None for anything else.

    The connectors live outside the API's layer, so their channel errors are known by what they
    carry: a permanent one a machine-readable `code` (`wecom.40001`, `wecom.http_404`), a
    transient one `retry_after`. Their text (WeCom's errmsg, transport details) is not repeated;
    anything else is a bug and goes on to the masked internal error.
    """
    if hasattr(exc, "retry_after"):
        return ProvisioningFailedError(
            f"WeCom could not {doing} the code just now; try again later"
        )
    if hasattr(exc, "code"):
        code = exc.code
        shown = f" ({code})" if isinstance(code, str) and _SHOWN_CODE.fullmatch(code) else ""
        return ProvisioningFailedError(f"WeCom refused to {doing} the code{shown}")
    return None


class HookService:
    """Channel codes and group live codes: provisioned on WeCom, recorded in `hooks`."""

    def __init__(
        self, store: Store, provisioner: CodeProvisioner | None, clock: Clock = utc_now
    ) -> None:
        self._store = store
        self._provisioner = provisioner
        self._clock = clock

    async def _ready(self, tenant_id: str) -> CodeProvisioner:
        if self._provisioner is None:
            raise WeComNotConfiguredError("WeCom codes cannot be provisioned on this server")
        if await self._store.wecom_credentials.get(tenant_id) is None:
            raise WeComNotConfiguredError("connect WeCom first (configureWeCom)")
        return self._provisioner

    async def create(self, tenant_id: str, spec: HookSpec, *, state: str | None = None) -> Hook:
        """Provision the code on WeCom, then record it.

        Its `state` is the one given (a name the brand reads in reports and uses in entry
        triggers, e.g. `douyin-ad-spring`: unique in the tenant, at most 30 characters, not
        starting with the generated states' `h_`), else derived from the hook's id.
        """
        provisioner = await self._ready(tenant_id)
        hook_id = new_id("hook")
        if state is None:
            state = hook_state(hook_id)
        else:
            await self._check_custom_state(tenant_id, state)
        try:
            if spec.kind == "contact_way":
                code = await provisioner.create_contact_way(
                    tenant_id, state=state, users=list(spec.staff_users), remark=spec.remark
                )
            else:
                code = await provisioner.create_join_way(
                    tenant_id,
                    state=state,
                    chat_ids=list(spec.chat_ids),
                    auto_create_room=spec.auto_create_room,
                    room_base_name=spec.room_base_name,
                    room_base_id=spec.room_base_id,
                )
        except (DomainError, ValueError):
            raise
        except Exception as exc:
            if (failed := _channel_failure(exc, "create")) is None:
                raise
            raise failed from exc
        now = self._clock()
        hook = Hook(
            id=hook_id,
            tenant_id=tenant_id,
            name=spec.name,
            kind=spec.kind,
            state=state,
            config_id=code.config_id,
            qr_code=code.qr_code,
            staff_users=list(spec.staff_users),
            chat_ids=list(spec.chat_ids),
            auto_create_room=spec.auto_create_room if spec.kind == "join_way" else False,
            room_base_name=spec.room_base_name,
            room_base_id=spec.room_base_id,
            remark=spec.remark,
            created_at=now,
            updated_at=now,
        )
        return await self._store.hooks.insert(hook)

    async def _check_custom_state(self, tenant_id: str, state: str) -> None:
        check_state(state)
        if state.startswith(STATE_PREFIX):
            raise InvalidInputError.single(
                "state", f"{STATE_PREFIX!r} starts generated states only"
            )
        taken = await self._store.hooks.by_state(tenant_id, state)
        if taken is not None:
            # Checked before provisioning, so a taken state leaves no stray code on WeCom.
            raise InvalidInputError.single("state", f"hook {taken.id!r} already uses this state")

    async def update(
        self,
        tenant_id: str,
        hook_id: str,
        *,
        name: str | None = None,
        staff_users: list[str] | None = None,
        remark: str | None = None,
    ) -> Hook:
        """Rename a hook, or change whom a channel code adds (join ways keep their groups)."""
        hook = await self._store.hooks.get(tenant_id, hook_id)
        if hook.archived:
            raise ConflictError(f"hook {hook_id!r} is deleted")
        changes: dict[str, Any] = {}
        if name is not None:
            if not name.strip() or len(name) > 80:
                raise InvalidInputError.single("name", "must be 1 to 80 characters")
            changes["name"] = name
        if staff_users is not None or remark is not None:
            if hook.kind != "contact_way":
                raise InvalidInputError.single("staffUsers", "only a contact_way has staff users")
            users = hook.staff_users if staff_users is None else staff_users
            try:
                HookSpec(name=hook.name, kind="contact_way", staff_users=users, remark=remark)
            except ValidationError as exc:
                raise InvalidInputError.from_validation_error(exc) from exc
            provisioner = await self._ready(tenant_id)
            try:
                await provisioner.update_contact_way(
                    tenant_id, hook.config_id, users=staff_users, remark=remark
                )
            except (DomainError, ValueError):
                raise
            except Exception as exc:
                if (failed := _channel_failure(exc, "update")) is None:
                    raise
                raise failed from exc
            changes["staff_users"] = list(users)
            if remark is not None:
                changes["remark"] = remark
        if not changes:
            return hook
        return await self._store.hooks.update(tenant_id, hook_id, changes, self._clock())

    async def delete(self, tenant_id: str, hook_id: str) -> Hook:
        """Remove the code from WeCom and archive the hook (attribution by its state stays)."""
        hook = await self._store.hooks.get(tenant_id, hook_id)
        if hook.archived:
            return hook
        provisioner = await self._ready(tenant_id)
        try:
            if hook.kind == "contact_way":
                await provisioner.delete_contact_way(tenant_id, hook.config_id)
            else:
                await provisioner.delete_join_way(tenant_id, hook.config_id)
        except (DomainError, ValueError):
            raise
        except Exception as exc:
            if (failed := _channel_failure(exc, "delete")) is None:
                raise
            raise failed from exc
        return await self._store.hooks.update(tenant_id, hook_id, {"archived": True}, self._clock())
