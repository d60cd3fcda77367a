"""Hook writes (designers) and the WeCom connection (admins). Each answers a union."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated

import strawberry
from pydantic import ValidationError

from api.auth import Permission
from api.graphql.common import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    described_mutation,
)
from api.graphql.context import Info
from api.graphql.hooks.types import Hook, HookKind, WeComSettings, WeComUnavailable
from api.services.wecom import (
    ProvisioningFailedError,
    WeComNotConfiguredError,
    WeComSettingsInput,
    callback_path,
)
from domain.channels import MassMessageLimit
from domain.errors import ConflictError, InvalidInputError, NotFoundError
from domain.hooks import Hook as HookModel
from domain.hooks import HookSpec

CreateHookResult = Annotated[
    Hook | InvalidInput | WeComUnavailable | Forbidden,
    strawberry.union(
        "CreateHookResult",
        description="`Hook` when provisioned on WeCom and recorded; `InvalidInput` for a "
        "malformed spec or a taken `state`; `WeComUnavailable` when WeCom is not connected or "
        "refused; `Forbidden` without the `edit_journeys` permission.",
    ),
]
UpdateHookResult = Annotated[
    Hook | InvalidInput | NotFound | Conflict | WeComUnavailable | Forbidden,
    strawberry.union(
        "UpdateHookResult",
        description="`Hook` as updated; `InvalidInput` for a bad name or staff list (or staff "
        "on a `JOIN_WAY`); `NotFound` for an unknown id; `Conflict` when the hook is deleted; "
        "`WeComUnavailable` when WeCom refused; `Forbidden` without `edit_journeys`.",
    ),
]
DeleteHookResult = Annotated[
    Hook | NotFound | WeComUnavailable | Forbidden,
    strawberry.union(
        "DeleteHookResult",
        description="`Hook`, now archived (also when it already was); `NotFound` for an unknown "
        "id; `WeComUnavailable` when WeCom refused (the hook stays live); `Forbidden` without "
        "`edit_journeys`.",
    ),
]
ConfigureWeComResult = Annotated[
    WeComSettings | InvalidInput | Conflict | Forbidden,
    strawberry.union(
        "ConfigureWeComResult",
        description="`WeComSettings` as stored; `InvalidInput` for malformed settings or "
        "secrets missing on first configuration; `Conflict` when the generated callback id "
        "collides (retry); `Forbidden` for any key but an admin's.",
    ),
]


_LIMITS: dict[str, MassMessageLimit] = {
    "per_month": "per_month",
    "per_week_7": "per_week_7",
    "per_day_1": "per_day_1",
}


@strawberry.input(
    description="A new code: a `CONTACT_WAY` names 1 to 100 staff users, a `JOIN_WAY` 1 to 5 "
    "group chat ids."
)
class CreateHookInput:
    """A new code: a `CONTACT_WAY` names staff users, a `JOIN_WAY` 1 to 5 group chat ids."""

    name: str = strawberry.field(description="Display name for operators, 1 to 80 characters.")
    kind: HookKind = strawberry.field(description="What scanning the code does.")
    staff_users: list[str] = strawberry.field(
        default_factory=list,
        description="`CONTACT_WAY` only: the WeCom staff user ids the code adds (1 to 100, "
        "none blank).",
    )
    chat_ids: list[str] = strawberry.field(
        default_factory=list,
        description="`JOIN_WAY` only: the customer group chat ids the code joins (1 to 5, none "
        "blank).",
    )
    auto_create_room: bool = strawberry.field(
        default=True,
        description="`JOIN_WAY`: open a new group when the last one is full (default true).",
    )
    room_base_name: str | None = strawberry.field(
        default=None,
        description="`JOIN_WAY` with `autoCreateRoom`: the name of auto-created groups (at most "
        "40 characters), followed by their number; null: WeCom's default.",
    )
    room_base_id: int | None = strawberry.field(
        default=None,
        description="`JOIN_WAY` with `autoCreateRoom`: the number auto-created groups' "
        "numbering starts from (1 or more); null: WeCom's default.",
    )
    remark: str | None = strawberry.field(
        default=None, description="Free note shown in WeCom, at most 30 characters."
    )
    state: str | None = strawberry.field(
        default=None,
        description="The code's `state`, e.g. `douyin-ad-spring` (unique in the tenant, at most "
        "30 printable ASCII characters); omitted: generated from the hook's id.",
    )


@strawberry.input(
    description="The tenant's WeCom corp; omitted secrets keep their stored values (all three "
    "are required the first time). Secrets are write-only: never returned."
)
class ConfigureWeComInput:
    """The tenant's WeCom corp; omitted secrets keep their stored values (all three are
    required the first time)."""

    corp_id: str = strawberry.field(description="The WeCom CorpID (`ww…`), at most 64 characters.")
    agent_id: str | None = strawberry.field(
        default=None,
        description="The self-built app's AgentId (at most 64 characters); omitted or null "
        "clears it.",
    )
    secret: str | None = strawberry.field(
        default=None,
        description="The app secret used to obtain access tokens; omitted: keep the stored one.",
    )
    callback_token: str | None = strawberry.field(
        default=None,
        description="The callback Token that signs WeCom callbacks; omitted: keep the stored one.",
    )
    encoding_aes_key: str | None = strawberry.field(
        default=None,
        description="The callback EncodingAESKey: 43 characters of base64 (A-Z, a-z, 0-9, + "
        "and /); omitted: keep the stored one.",
    )
    base_url: str | None = strawberry.field(
        default=None,
        description="The WeCom API root, an http(s) URL (a trailing `/` is added); omitted: "
        "keep the stored one, `https://qyapi.weixin.qq.com/cgi-bin/` the first time.",
    )
    mass_message_limit: str | None = strawberry.field(
        default=None, description="`per_month` (default), `per_week_7` or `per_day_1`."
    )


async def _provisioned(change: Awaitable[HookModel]) -> Hook | InvalidInput | WeComUnavailable:
    """The hook `change` makes or changes on WeCom, or the input or WeCom failure it meets."""
    try:
        return Hook.of(await change)
    except InvalidInputError as exc:
        return InvalidInput.of(exc)
    except (WeComNotConfiguredError, ProvisioningFailedError) as exc:
        return WeComUnavailable(message=str(exc))
    except ValueError as exc:
        return InvalidInput.single("", str(exc))


def _admin_only() -> Forbidden:
    return Forbidden.of(Permission.MANAGE_CHANNELS)


@strawberry.type
class HookMutations:
    @described_mutation(
        "Provision a channel code or group live code on WeCom and record it. Needs a designer "
        "or admin key (`edit_journeys`) and a connected WeCom corp."
    )
    async def create_hook(
        self,
        info: Info,
        input: Annotated[
            CreateHookInput, strawberry.argument(description="The code to provision.")
        ],
    ) -> CreateHookResult:
        if not info.context.can(Permission.EDIT_JOURNEYS):
            return Forbidden.of(Permission.EDIT_JOURNEYS)
        try:
            spec = HookSpec(
                name=input.name,
                kind=input.kind.value,
                staff_users=input.staff_users,
                chat_ids=input.chat_ids,
                auto_create_room=input.auto_create_room,
                room_base_name=input.room_base_name,
                room_base_id=input.room_base_id,
                remark=input.remark,
            )
        except ValidationError as exc:
            return InvalidInput.of(InvalidInputError.from_validation_error(exc))
        return await _provisioned(
            info.context.services.hooks.create(info.context.tenant_id, spec, state=input.state)
        )

    @described_mutation(
        "Rename a hook, or change the staff a channel code adds. Omitted arguments keep their "
        "values; the `state` and kind never change. Needs a designer or admin key "
        "(`edit_journeys`)."
    )
    async def update_hook(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The hook to change.")],
        name: Annotated[
            str | None,
            strawberry.argument(description="New display name, 1 to 80 characters; null keeps it."),
        ] = None,
        staff_users: Annotated[
            list[str] | None,
            strawberry.argument(
                description="`CONTACT_WAY` only: the new staff user ids (1 to 100), replacing "
                "the old list on WeCom; null keeps them."
            ),
        ] = None,
        remark: Annotated[
            str | None,
            strawberry.argument(
                description="`CONTACT_WAY` only: new note shown in WeCom, at most 30 "
                "characters; null keeps it."
            ),
        ] = None,
    ) -> UpdateHookResult:
        if not info.context.can(Permission.EDIT_JOURNEYS):
            return Forbidden.of(Permission.EDIT_JOURNEYS)
        try:
            return await _provisioned(
                info.context.services.hooks.update(
                    info.context.tenant_id, id, name=name, staff_users=staff_users, remark=remark
                )
            )
        except NotFoundError as exc:
            return NotFound.of(exc)
        except ConflictError as exc:
            return Conflict.of(exc)

    @described_mutation(
        "Remove the code from WeCom; the hook stays on record, archived, so customers it "
        "brought in stay attributed. Idempotent. Needs a designer or admin key (`edit_journeys`)."
    )
    async def delete_hook(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The hook to delete.")],
    ) -> DeleteHookResult:
        if not info.context.can(Permission.EDIT_JOURNEYS):
            return Forbidden.of(Permission.EDIT_JOURNEYS)
        try:
            model = await info.context.services.hooks.delete(info.context.tenant_id, id)
        except NotFoundError as exc:
            return NotFound.of(exc)
        except (WeComNotConfiguredError, ProvisioningFailedError) as exc:
            return WeComUnavailable(message=str(exc))
        return Hook.of(model)

    @described_mutation("Connect (or change) the tenant's WeCom corp. Admin keys only.")
    async def configure_we_com(
        self,
        info: Info,
        input: Annotated[
            ConfigureWeComInput,
            strawberry.argument(description="The corp's settings and (write-only) secrets."),
        ],
    ) -> ConfigureWeComResult:
        if not info.context.principal.can(Permission.MANAGE_CHANNELS):
            return _admin_only()
        limit = None
        if input.mass_message_limit is not None:
            if input.mass_message_limit not in _LIMITS:
                return InvalidInput.single(
                    "massMessageLimit",
                    "must be per_month, per_week_7 or per_day_1",
                    summary="unknown mass message limit",
                )
            limit = _LIMITS[input.mass_message_limit]
        settings = WeComSettingsInput(
            corp_id=input.corp_id,
            agent_id=input.agent_id,
            secret=input.secret,
            callback_token=input.callback_token,
            encoding_aes_key=input.encoding_aes_key,
            base_url=input.base_url,
            mass_message_limit=limit,
        )
        try:
            credentials = await info.context.services.wecom_settings.configure(
                info.context.tenant_id, settings
            )
        except InvalidInputError as exc:
            return InvalidInput.of(exc)
        except ConflictError as exc:
            return Conflict.of(exc)
        return WeComSettings.of(credentials, callback_path(credentials.callback_id))
