"""The `webhook` channel: POST a signed JSON document to a URL the journey names.

Action `post` (params: `url`, `payload`, `headers`, `timeout_seconds`) sends one request:

    POST <url>
    Content-Type: application/json
    Accept-Encoding: identity                   -- compressed answers are not decoded
    Idempotency-Key: <key>                      -- the same for every retry of one node visit;
                                                   percent-encoded (UTF-8) if it has spaces,
                                                   `%` or non-ASCII characters
    X-Omnijourney-Timestamp: <unix seconds>
    X-Omnijourney-Signature: sha256=<hex>

    {"idempotency_key": ..., "tenant_id": ..., "enrollment_id": ..., "node_id": ...,
     "customer": {"customer_id": ..., "identities": {...}, "attributes": {...}},
     "trigger": {"id": ..., "type": ..., "properties": {...}} | null,  # the last matched event
     "payload": <the node's payload>}

Signing: each tenant has its own secret (`SigningSecrets`, asked at send time). The signature
header lists one `sha256=<hex>` per secret that signs, comma-separated, the current secret's
first: `sha256=<new>,sha256=<old>` while a rotation's overlap window lasts (the replaced secret
keeps signing until it ends), only `sha256=<new>` after it.

Verifying a delivery (receivers): take the raw request body bytes exactly as received, compute
HMAC-SHA256 with your copy of the tenant's secret over `<timestamp>.<body>` (the timestamp
header's ASCII, one dot, then the body bytes), and accept the delivery when its lowercase hex
digest equals, in constant time, ANY of the signatures listed after `sha256=` (ignore other
schemes). So a receiver switches to the new secret whenever it likes within the window. Reject
timestamps more than a few minutes from your clock to stop replays, and de-duplicate on
`Idempotency-Key`: a retry re-sends the same body with a fresh timestamp and signature.
`verify_signature` does all but the de-duplication.

Modules: `signing` (secrets, `sign`, `verify_signature`), `params` (`PostParams`: destinations,
headers), `connector` (`WebhookConnector`).

Answers: 2xx succeed (a JSON `id` in an uncompressed response of at most 64 KiB becomes the
outcome's `external_id`; reading stops at 64 KiB, and other answers' bodies are not read); 408,
429 and 5xx are transient (429 and 503 honour `Retry-After`); redirects are not followed (the
signed body goes only where the journey says) and, like other 4xx, are permanent; network errors
and timeouts are transient.
`timeout_seconds` bounds the whole attempt (resolving, connecting, sending, reading), not each
step, so a receiver that trickles bytes cannot hold a worker slot.

Destinations (`connectors.netguard`): the URL must reach a public address, or one the
deployment's allow-list names; journey validation refuses a literal address or a single-label
host, and every connection is checked again on the addresses the host resolves to. A refusal is
permanent (`code="destination_not_allowed"`) and its message names the host only. Journeys may
not set the connector's own headers, credentials, cookies or hop-by-hop headers.
"""

from connectors.webhook.connector import CHANNEL, WebhookConnector
from connectors.webhook.params import PostParams
from connectors.webhook.signing import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    FixedSigningSecrets,
    SigningSecrets,
    sign,
    verify_signature,
)

__all__ = [
    "CHANNEL",
    "IDEMPOTENCY_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "FixedSigningSecrets",
    "PostParams",
    "SigningSecrets",
    "WebhookConnector",
    "sign",
    "verify_signature",
]
