"""The `email` channel over SMTP (`connectors.email.connector`)."""

from connectors.email.connector import UNSUBSCRIBE_PATH, EmailAccounts, EmailConnector

__all__ = ["UNSUBSCRIBE_PATH", "EmailAccounts", "EmailConnector"]
