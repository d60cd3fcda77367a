"""The message the e-mail channel sends: headers, bodies, and the one-click unsubscribe link."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

ONE_CLICK = "List-Unsubscribe=One-Click"
_LINE_BREAKS = re.compile(r"[\r\n\x00]+")


@dataclass(frozen=True, slots=True)
class Envelope:
    """Who sends to whom, and the headers that identify the message."""

    from_address: str
    from_name: str | None
    to: str
    subject: str
    message_id: str
    sent_at: datetime
    unsubscribe_url: str
    unsubscribe_mailto: str | None = None


def _address(address: str, name: str | None = None) -> Address:
    local, _, domain = address.rpartition("@")
    return Address(display_name=name or "", username=local, domain=domain)


def build_message(envelope: Envelope, text: str, html: str | None) -> EmailMessage:
    """A MIME message: text (and, with `html`, a multipart/alternative with the HTML part),
    with `Message-ID`, `List-Unsubscribe` (the https link first, then the mailto if any) and
    `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058)."""
    message = EmailMessage()
    message["From"] = _address(envelope.from_address, envelope.from_name)
    message["To"] = _address(envelope.to)
    message["Subject"] = _LINE_BREAKS.sub(" ", envelope.subject).strip()
    message["Date"] = format_datetime(envelope.sent_at)
    message["Message-ID"] = envelope.message_id
    targets = [f"<{envelope.unsubscribe_url}>"]
    if envelope.unsubscribe_mailto:
        targets.append(f"<mailto:{envelope.unsubscribe_mailto}?subject=unsubscribe>")
    message["List-Unsubscribe"] = ", ".join(targets)
    message["List-Unsubscribe-Post"] = ONE_CLICK
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message
