"""Masking personal values for screens, messages and logs."""

from __future__ import annotations

import re


def mask_email(value: str) -> str:
    """Keep the first character of the local part and the domain.

    Examples
    --------
    >>> mask_email("alice@example.com")
    'a***@example.com'
    """
    _local, sep, domain = value.rpartition("@")
    if not sep:
        return mask_text(value)
    return f"{value[:1]}***@{domain}"


def mask_phone(value: str) -> str:
    """Keep the first three and last four digits; mainland numbers as people write them.

    Phones are stored as E.164; a mainland mobile (+86 and 11 digits) is shown in its
    national form, the way members and staff recognise it.

    Examples
    --------
    >>> mask_phone("13812345678")
    '138****5678'
    >>> mask_phone("+8613812345678")
    '138****5678'
    >>> mask_phone("+447911123456")
    '+44******3456'
    """
    national = value.removeprefix("+86")
    if national != value and len(national) == 11 and national.isdigit():
        value = national
    if len(value) <= 7:
        return "*" * len(value)
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"


def mask_text(value: str) -> str:
    """Keep the first character only; the length is hidden too.

    Examples
    --------
    >>> mask_text("张伟")
    '张***'
    """
    if not value:
        return value
    return value[:1] + "***"


def mask(value: str | None, *, kind: str) -> str | None:
    """Mask ``value`` by its kind (``email``, ``phone`` or anything else)."""
    if value is None:
        return None
    if kind == "email":
        return mask_email(value)
    if kind == "phone":
        return mask_phone(value)
    return mask_text(value)


# Contacts a member may type into free text: an e-mail address; a mainland mobile,
# with or without +86 / 0086 and spaces or hyphens between its groups; any other
# number written with a + country code. Dates, amounts and order numbers are left alone.
_CONTACT = re.compile(
    r"(?P<email>[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"
    r"|(?P<mobile>(?<![\d+])(?:(?:\+|00)86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d))"
    r"|(?P<phone>(?<![\w+])\+\d(?:[\s-]?\d){7,14}(?!\d))"
)


def mask_contacts(value: str | None) -> str | None:
    """``value`` with every e-mail address and phone number in it masked.

    Examples
    --------
    >>> mask_contacts("送餐太慢了请打 138 1234 5678 或 zhang.wei@example.com")
    '送餐太慢了请打 138****5678 或 z***@example.com'
    >>> mask_contacts("call +44 7911 123456 about order 2025-05-01")
    'call +44******3456 about order 2025-05-01'
    """
    if not value:
        return value

    def masked(found: re.Match[str]) -> str:
        if found["email"]:
            return mask_email(found["email"])
        digits = re.sub(r"[\s-]", "", found[0])
        return mask_phone("+" + digits[2:] if digits.startswith("00") else digits)

    return _CONTACT.sub(masked, value)
