"""Standard Webhooks signatures (standardwebhooks.com, spec 1.0.0, symmetric scheme).

The secret is 32 random bytes shown to the agency once as ``whsec_<base64>``. A message is signed
as HMAC-SHA256 over ``<webhook-id>.<webhook-timestamp>.<body>`` and sent as
``webhook-signature: v1,<base64 of the MAC>``; the timestamp is the attempt's (integer Unix
seconds), so a receiver refuses replays of old attempts while the id stays the same across them.

>>> secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
>>> sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}')
'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def key_of(secret: str) -> bytes:
    raw = secret.removeprefix(PREFIX)
    return base64.b64decode(raw + "=" * (-len(raw) % 4))


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    mac = hmac.new(key_of(secret), f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def headers(secret: str, msg_id: str, timestamp: int, body: str) -> dict[str, str]:
    """The three ``webhook-*`` headers of one attempt (plus the content type)."""
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, msg_id, timestamp, body), "content-type": "application/json"}
