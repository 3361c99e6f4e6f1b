"""Normalising identifiers before they are validated, indexed and compared."""

from __future__ import annotations

import re

# Separators people type inside phone numbers (ASCII only, like the SQL twin).
PHONE_NOISE = r"[ \t\n\r\f\v\-().]"
_PHONE_NOISE = re.compile(PHONE_NOISE)
# ASCII digits only: \d would also accept Arabic-Indic and full-width digits.
_MAINLAND = re.compile(r"^1[3-9][0-9]{9}$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def normalise_email(value: str) -> str:
    """Trim and lower-case an e-mail address (provider-specific rules: identity issue).

    Examples
    --------
    >>> normalise_email("  Li.Na@Example.COM ")
    'li.na@example.com'
    """
    return value.strip().lower()


def normalise_phone(value: str) -> str | None:
    """Return the E.164 form of a phone number, or ``None`` when it is not one.

    Mainland China mobile numbers may come as 11 digits, with ``+86`` or ``0086``,
    and with spaces or dashes.

    Examples
    --------
    >>> normalise_phone("0086-138-0013-8000")
    '+8613800138000'
    >>> normalise_phone("12345") is None
    True
    """
    digits = _PHONE_NOISE.sub("", value)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if digits.startswith("+86") and _MAINLAND.match(digits[3:]):
        return digits
    if _MAINLAND.match(digits):
        return "+86" + digits
    if _E164.match(digits):
        return digits
    return None
