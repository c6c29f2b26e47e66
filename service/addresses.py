"""E-mail addresses: the one place an address typed into a form is checked, and the one
place a header's address is built from stored text.

email-validator decides what an address is (no regex of our own); the standard
library's `Address` builds the header, so an address that got into the database some
other way fails here, as a ValueError the caller can handle for that one message,
instead of deep inside the mail library.
"""

from __future__ import annotations

from email.errors import HeaderParseError
from email.headerregistry import Address

from email_validator import EmailNotValidError, validate_email

MAX_LENGTH = 254


def checked_address(text: str) -> str:
    """The address in its normal form, or ValueError if it is not one we can send to.
    Deliverability (DNS) is not checked: a form must answer at once, and offline."""
    text = (text or "").strip()
    if not text or len(text) > MAX_LENGTH or any(ord(char) < 32 or ord(char) == 127 for char in text):
        raise ValueError("not an e-mail address")
    try:
        return validate_email(text, check_deliverability=False, allow_quoted_local=False,
                              allow_domain_literal=False, allow_display_name=False,
                              allow_smtputf8=False).normalized
    except EmailNotValidError as error:
        raise ValueError("not an e-mail address") from error


def mail_address(text: str, display_name: str = "") -> Address:
    """A header-ready address for `text` (as stored), or ValueError."""
    normalized = checked_address(text)
    local_part, _, domain = normalized.rpartition("@")
    try:
        return Address(display_name=display_name, username=local_part, domain=domain)
    except (HeaderParseError, IndexError, TypeError) as error:
        raise ValueError("not an e-mail address") from error


def is_address(text: str) -> bool:
    try:
        checked_address(text)
    except ValueError:
        return False
    return True
