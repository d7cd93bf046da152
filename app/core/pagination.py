"""Opaque, signed keyset cursors: base64url(JSON + HMAC tag), so a tampered cursor is a 400."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from app.core.errors import BadRequest

_SIG_LEN = 12


def encode_cursor(secret: str, payload: dict[str, Any]) -> str:
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode()
    sig = hmac.new(secret.encode(), body, hashlib.sha256).digest()[:_SIG_LEN]
    return base64.urlsafe_b64encode(body + sig).decode().rstrip("=")


def decode_cursor(secret: str, cursor: str) -> dict[str, Any]:
    """Decode and verify a cursor; anything malformed or unsigned is a 400 `invalid_cursor`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        if len(raw) <= _SIG_LEN:
            raise ValueError("too short")
        body, sig = raw[:-_SIG_LEN], raw[-_SIG_LEN:]
        expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()[:_SIG_LEN]
        if not hmac.compare_digest(sig, expected):
            raise ValueError("bad signature")
        payload = json.loads(body)
        if not isinstance(payload, dict):
            raise ValueError("not an object")
        return payload
    except (ValueError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(
            "the cursor is not one this server issued; restart from the first page",
            code="invalid_cursor",
        ) from exc
