"""Time-based one-time codes (RFC 6238) with pyotp; each code is accepted once only."""

from __future__ import annotations

import io
import re

import pyotp
import segno

ISSUER = "Pause"
STEP_SECONDS = 30


SECRET_LENGTH = 32


def new_secret() -> str:
    return pyotp.random_base32(length=SECRET_LENGTH)


def is_secret(value: str | None) -> bool:
    """Whether `value` is a secret as `new_secret` makes them (it comes back from the
    enrolment page in a hidden field, so it may be anything)."""
    return bool(value) and re.fullmatch(rf"[A-Z2-7]{{{SECRET_LENGTH}}}", value) is not None


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_code_svg(uri: str, title: str) -> str:
    """The QR code drawn here, as SVG: the secret never goes to a QR service."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", xmldecl=False, svgns=True, scale=5, border=4,
                                    title=title, dark="#000", light="#fff")
    return buffer.getvalue().decode()


def accepted_step(secret: str, code: str, at_timestamp: float, last_step: int | None) -> int | None:
    """The time step the code belongs to if it is right and newer than the last one
    accepted; None otherwise. One step of clock drift either way is allowed."""
    code = re.sub(r"\s", "", code or "")
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    current = int(at_timestamp // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            if last_step is not None and step <= last_step:
                return None  # replayed, or older than a code already used
            return step
    return None
