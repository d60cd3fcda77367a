"""The `sms` channel: Alibaba Cloud and Tencent Cloud SMS behind one connector."""

from connectors.sms.connector import SmsConnector, reference_for

__all__ = ["SmsConnector", "reference_for"]
