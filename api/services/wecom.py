"""WeCom on the API side: callbacks in (`wecom_callbacks`), channel codes out (`hooks`), and the
tenant's connection settings (`wecom_settings`). This module re-exports their public names."""

from __future__ import annotations

from api.services.hooks import HookService, ProvisioningFailedError
from api.services.wecom_callbacks import (
    CALLBACK_PATH,
    CallbackNotStoredError,
    CallbackReceipt,
    CallbackRejectedError,
    ReceiptStatus,
    UnknownCallbackUrlError,
    WeComCallbackService,
    callback_path,
)
from api.services.wecom_settings import (
    WeComNotConfiguredError,
    WeComSettingsInput,
    WeComSettingsService,
)

__all__ = [
    "CALLBACK_PATH",
    "CallbackNotStoredError",
    "CallbackReceipt",
    "CallbackRejectedError",
    "HookService",
    "ProvisioningFailedError",
    "ReceiptStatus",
    "UnknownCallbackUrlError",
    "WeComCallbackService",
    "WeComNotConfiguredError",
    "WeComSettingsInput",
    "WeComSettingsService",
    "callback_path",
]
