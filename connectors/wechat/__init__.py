"""The WeChat channels: Official Account (`oa`) and mini-program (`miniprogram`) connectors,
their API client, the message push codec and a local simulator."""

from __future__ import annotations

from connectors.wechat.client import WeChatApiError as WeChatApiError
from connectors.wechat.client import WeChatClient as WeChatClient
from connectors.wechat.connector import MiniProgramConnector as MiniProgramConnector
from connectors.wechat.connector import OfficialAccountConnector as OfficialAccountConnector
from connectors.wechat.envelope import WeChatCodec as WeChatCodec
from connectors.wechat.ports import AppSettingsProvider as AppSettingsProvider
from connectors.wechat.ports import Authorizations as Authorizations
