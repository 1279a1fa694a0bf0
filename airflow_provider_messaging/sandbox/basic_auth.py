"""HTTP Basic header parsing shared by both vendor APIs."""

from __future__ import annotations

import base64
import binascii
import enum
import hmac


class AuthProblem(enum.Enum):
    MISSING = "missing"
    MALFORMED = "malformed"
    NOT_BASIC = "not_basic"
    BAD_USER = "bad_user"
    BAD_SECRET = "bad_secret"


def check_basic(header: str | None, username: str, secret: str) -> AuthProblem | None:
    """``None`` when ``header`` carries exactly these credentials, else what is wrong with it."""
    if not header:
        return AuthProblem.MISSING
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return AuthProblem.NOT_BASIC
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return AuthProblem.MALFORMED
    user, sep, password = decoded.partition(":")
    if not sep:
        return AuthProblem.MALFORMED
    if not hmac.compare_digest(user.encode(), username.encode()):
        return AuthProblem.BAD_USER
    if not hmac.compare_digest(password.encode(), secret.encode()):
        return AuthProblem.BAD_SECRET
    return None
