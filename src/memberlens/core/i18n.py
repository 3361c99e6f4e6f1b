"""What people read, in English and Simplified Chinese: one catalogue, rendered when shown.

Domains say what they found as a stable code with parameters — a :class:`Message`:
the churn reason ``no_purchase_for`` with ``{"days": 74, "ratio": 3.1}``, the
recommendation reason ``because_you_liked`` with ``{"item": "Dune"}`` — and store
that, never a sentence. Whoever shows it renders it in the reader's language with
:func:`render`, from the one catalogue beside this module (``messages.toml``): the
console in the viewer's language, the JSON API in the request's ``Accept-Language``
(:func:`negotiate`), the CLI in English. The catalogue sits in ``core`` so that
every layer may read it and neither transport imports the other.

Enumerated values — gender, order status, channel, RFM segment, lifecycle stage,
unit, … — are labels: :func:`label` gives the word for a value, or the value itself
when the catalogue has none (a workspace's own names stay as their owner wrote them).

A catalogue entry has one template per locale, in Python's format syntax with four
specs of ours: ``{days:n}`` (a whole number, digits grouped), ``{amount:money}`` (two
decimals, after the currency sign when the caller names a currency), ``{share:%}``
(a whole percent) and ``{category:@category}`` (the value's label of that kind).
An English template may come in two forms, ``en = {one = "…", other = "…"}``, with
``count = "days"`` naming the parameter that picks the form; Chinese has none. A
parameter that is itself a message renders first.
"""

from __future__ import annotations

import functools
import json
import math
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import resources
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Locale = Literal["en", "zh-CN"]
LOCALES: tuple[Locale, ...] = ("en", "zh-CN")
DEFAULT_LOCALE: Locale = "en"
LEGACY = "text"  # the code of a sentence stored before codes existed: shown as written

# Signs of the currencies people name most; any other shows its ISO code.
_SIGNS = {"CNY": "¥", "JPY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$",
          "TWD": "NT$", "KRW": "₩", "SGD": "S$", "AUD": "A$", "CAD": "C$", "INR": "₹",
          "MOP": "MOP$", "CHF": "CHF "}  # fmt: skip
_NO_MINOR_UNITS = {"JPY", "KRW"}
# Zones whose readers name them in their own words; the others by their IANA name.
_ZONE_NAMES = {"Asia/Shanghai": "北京时间", "Asia/Chongqing": "北京时间", "PRC": "北京时间",
               "Asia/Hong_Kong": "香港时间", "Asia/Taipei": "台北时间", "UTC": "UTC"}  # fmt: skip


def locale_of(value: str | None) -> Locale:
    """A supported locale from a stored or submitted one: ``zh…`` is Simplified Chinese,
    anything else English.

    >>> locale_of("zh-CN"), locale_of("zh"), locale_of("fr"), locale_of(None)
    ('zh-CN', 'zh-CN', 'en', 'en')
    """
    return "zh-CN" if (value or "").lower().split("-")[0].split("_")[0] == "zh" else "en"


def negotiate(header: str | None) -> Locale:
    """The locale an ``Accept-Language`` header asks for (RFC 9110 §12.5.4): the
    supported language with the highest weight — any ``zh`` tag is Simplified Chinese,
    ``en`` and ``*`` English — ties to the one listed first; English when none fits.

    >>> negotiate("zh-CN,zh;q=0.9,en;q=0.8"), negotiate("en-US,zh;q=0.5")
    ('zh-CN', 'en')
    >>> negotiate("fr-FR, zh;q=0.3"), negotiate("fr"), negotiate(None), negotiate("zh;q=0")
    ('zh-CN', 'en', 'en', 'en')
    """
    best: tuple[float, Locale] = (0.0, DEFAULT_LOCALE)
    for part in (header or "").split(","):
        tag, _, rest = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in ("zh", "en", "*"):
            continue
        weight = 1.0
        for option in rest.split(";"):
            key, _, value = option.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if weight > best[0]:
            best = (weight, "zh-CN" if primary == "zh" else "en")
    return best[1]


@dataclass(frozen=True)
class Message:
    """A stable ``code`` and the ``params`` its templates name (numbers, texts, or other
    messages); what domains store and transports render."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "params": {k: _plain(v) for k, v in self.params.items()}}

    def encode(self) -> str:
        """Compact JSON, keys sorted: what a text column stores.

        >>> Message("because_you_liked", {"item": "豆浆"}).encode()
        '{"code":"because_you_liked","params":{"item":"豆浆"}}'
        """
        return json.dumps(self.to_json(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Message:
        params = data.get("params") or {}
        return cls(str(data["code"]), {k: _revive(v) for k, v in params.items()})

    @classmethod
    def decode(cls, stored: str | None) -> Message:
        """What :meth:`encode` wrote; a sentence stored before codes (legacy English) as
        :data:`LEGACY`, shown as written.

        >>> Message.decode("popular right now")
        Message(code='text', params={'text': 'popular right now'})
        """
        text = stored or ""
        if text.startswith("{"):
            try:
                data = json.loads(text)
            except ValueError:
                data = None
            if isinstance(data, dict) and isinstance(data.get("code"), str):
                return cls.from_json(data)
        return cls(LEGACY, {"text": text})


def _plain(value: Any) -> Any:
    return value.to_json() if isinstance(value, Message) else value


def _revive(value: Any) -> Any:
    """A nested message's JSON back to a :class:`Message`; anything else as it is."""
    if isinstance(value, dict) and isinstance(value.get("code"), str):
        return Message.from_json(value)
    return value


@functools.cache
def catalogue() -> dict[str, Any]:
    """The parsed ``messages.toml``: ``message`` (templates) and ``label`` (kind → value
    → words), read once."""
    text = resources.files("memberlens.core").joinpath("messages.toml").read_text("utf-8")
    return tomllib.loads(text)


def render(message: Message, locale: str = DEFAULT_LOCALE, *, currency: str | None = None) -> str:
    """``message`` in ``locale``'s words; money with ``currency``'s sign when given.

    An unknown code, or parameters its template does not get, never fail a page: the
    English template is tried, then the code itself is shown.

    >>> render(Message("no_purchase_for", {"days": 74, "ratio": 3.1}))
    'no purchase for 74 days, 3.1× the usual gap'
    >>> render(Message("no_purchase_for", {"days": 74, "ratio": 3.1}), "zh-CN")
    '已 74 天未购买，是平时购买间隔的 3.1 倍'
    >>> render(Message("spent_in_all", {"amount": 1234.5}), "en", currency="CNY")
    'spent ¥1,234.50 in all'
    """
    entry = catalogue()["message"].get(message.code)
    if entry is None:
        return message.code
    loc = locale_of(locale)
    for tried in dict.fromkeys((loc, DEFAULT_LOCALE)):
        template = _form(entry, tried, message.params)
        if template is None:
            continue
        try:
            return _Formatter(tried, currency).vformat(template, (), dict(message.params))
        except (KeyError, IndexError, ValueError, TypeError):
            continue
    return message.code


def _form(entry: Mapping[str, Any], locale: str, params: Mapping[str, Any]) -> str | None:
    """The template of ``locale``; the singular or plural form when it has two."""
    template = entry.get(locale)
    if isinstance(template, dict):
        count = params.get(str(entry.get("count", "")))
        one = isinstance(count, int | float) and not math.isnan(count) and round(count) == 1
        return cast(str, template["one" if one else "other"])
    return cast(str | None, template)


class _Formatter(string.Formatter):
    """``str.format`` with the catalogue's specs (``n``, ``money``, ``%``, ``@kind``) and
    nested messages rendered in the same locale."""

    def __init__(self, locale: str, currency: str | None) -> None:
        super().__init__()
        self.locale, self.currency = locale, currency

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, Message):
            return render(value, self.locale, currency=self.currency)
        if format_spec == "n":
            return f"{float(value):,.0f}"
        if format_spec == "money":
            return money(value, self.currency)
        if format_spec == "%":
            return f"{float(value):.0%}"
        if format_spec.startswith("@"):
            return label(format_spec[1:], value, self.locale)
        return cast(str, super().format_field(value, format_spec))


def label(kind: str, value: Any, locale: str = DEFAULT_LOCALE) -> str:
    """The words for ``value`` of an enumerated ``kind`` in ``locale``; the value itself
    (as text) when the catalogue has no words for it, "—" for none.

    >>> label("gender", "female", "zh-CN"), label("order_status", "completed", "en")
    ('女', 'completed')
    >>> label("channel", "某个新渠道", "zh-CN"), label("gender", None)
    ('某个新渠道', '—')
    """
    if value is None or value == "":
        return "—"
    words = catalogue()["label"].get(kind, {}).get(str(value))
    if words is None:
        return str(value)
    return cast(str, words.get(locale_of(locale)) or words[DEFAULT_LOCALE])


def has_label(kind: str, value: Any) -> bool:
    """Whether the catalogue has words for ``value`` of ``kind``."""
    return str(value) in catalogue()["label"].get(kind, {})


def currency_sign(currency: str) -> str:
    """The sign people write before an amount of ``currency`` (ISO 4217).

    >>> currency_sign("CNY"), currency_sign("EUR"), currency_sign("XAU")
    ('¥', '€', 'XAU ')
    """
    code = currency.upper()
    return _SIGNS.get(code, f"{code} ")


def money(amount: Any, currency: str | None = None) -> str:
    """An amount with grouped digits and two decimals (none for a currency without minor
    units), after ``currency``'s sign when given; "—" for none. The same in both
    locales: Chinese writes ¥1,234.50 too.

    >>> money(Decimal("1234.5"), "CNY"), money(-12, "USD"), money(1234.5), money(None, "CNY")
    ('¥1,234.50', '-$12.00', '1,234.50', '—')
    """
    if amount is None:
        return "—"
    value = Decimal(str(amount)) if not isinstance(amount, Decimal) else amount
    if value.is_nan():
        return "—"
    digits = 0 if currency and currency.upper() in _NO_MINOR_UNITS else 2
    body = f"{abs(value):,.{digits}f}"
    sign = currency_sign(currency) if currency else ""
    return f"{'-' if value < 0 else ''}{sign}{body}"


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; UTC for a name this machine does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def zone_name(name: str, locale: str = DEFAULT_LOCALE) -> str:
    """How a reader names the zone: Chinese readers say 北京时间 for Asia/Shanghai;
    otherwise its IANA name.

    >>> zone_name("Asia/Shanghai", "zh-CN"), zone_name("Asia/Shanghai", "en")
    ('北京时间', 'Asia/Shanghai')
    """
    if locale_of(locale) == "zh-CN":
        return _ZONE_NAMES.get(name, name)
    return name


def local_time(value: datetime | date | str | None, tz: str) -> datetime | None:
    """A stored time (naive values are UTC, as every store keeps them; ISO text too)
    in the zone ``tz``; None for none. A bare day is not a moment: None.

    >>> local_time(datetime(2026, 1, 10, 6, 30), "Asia/Shanghai").isoformat()
    '2026-01-10T14:30:00+08:00'
    >>> local_time("2026-01-10T20:00:00Z", "Asia/Shanghai").isoformat()
    '2026-01-11T04:00:00+08:00'
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    return moment.astimezone(zone(tz))
