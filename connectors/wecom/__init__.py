"""The WeCom (企业微信) channel: callback crypto, API client, connector and a local simulator."""

from __future__ import annotations

from connectors.wecom.client import WeComApiError as WeComApiError
from connectors.wecom.client import WeComClient as WeComClient
from connectors.wecom.connector import WeComConnector as WeComConnector
from connectors.wecom.ports import Allowances as Allowances
from connectors.wecom.ports import CredentialsProvider as CredentialsProvider
from connectors.wecom.ports import Transfers as Transfers
