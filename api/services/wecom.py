"""WeCom on the API side: callbacks in (`wecom_callbacks`), channel codes out (`hooks`), and the
tenant's connection settings (`wecom_settings`). This module re-exports their public names."""

from __future__ import annotations

from api.services.hooks import HookService, ProvisioningFailed
from api.services.wecom_callbacks import (
    CALLBACK_PATH,
    FOLLOW_USER_ATTRIBUTE,
    CallbackNotStored,
    CallbackReceipt,
    CallbackRejected,
    ReceiptStatus,
    UnknownCallbackUrl,
    WeComCallbackService,
    callback_path,
)
from api.services.wecom_settings import (
    WeComNotConfigured,
    WeComSettingsInput,
    WeComSettingsService,
)

__all__ = [
    "CALLBACK_PATH",
    "FOLLOW_USER_ATTRIBUTE",
    "CallbackNotStored",
    "CallbackReceipt",
    "CallbackRejected",
    "HookService",
    "ProvisioningFailed",
    "ReceiptStatus",
    "UnknownCallbackUrl",
    "WeComCallbackService",
    "WeComNotConfigured",
    "WeComSettingsInput",
    "WeComSettingsService",
    "callback_path",
]
