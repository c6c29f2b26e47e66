"""E-mail addresses: checked once, the same way everywhere, before any header is built."""

from __future__ import annotations

from email.headerregistry import Address

from email_validator import EmailNotValidError, validate_email


def mail_address(text: str) -> Address:
    """The address as an `email.headerregistry.Address`; ValueError if it is not a
    deliverable-looking address (no DNS look-up)."""
    if not isinstance(text, str) or not text.strip() or len(text) > 254:
        raise ValueError("not an e-mail address")
    try:
        valid = validate_email(text.strip(), check_deliverability=False)
        return Address(addr_spec=valid.normalized)
    except (EmailNotValidError, ValueError, TypeError, IndexError, AttributeError) as error:
        raise ValueError("not an e-mail address") from error
