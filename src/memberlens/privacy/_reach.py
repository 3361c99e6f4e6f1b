"""Messages and consent: reachability, the message kinds, and newer statements on the
request path.

Transactional messages (order, service, points expiry) are part of the service the
member asked for, so they need no marketing consent (GDPR Art. 6(1)(b); PIPL Art.
13(2)); they still need a contact to reach. Reachability is deliberately simple: the
member (any of its source records, through ``member_map``) has an identifier for the
channel in ``member_identities`` — an e-mail for email, a phone for sms and phone, a
device id for push, a WeChat openid for wechat.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Literal

import ibis
import ibis.expr.types as ir

from memberlens.core.errors import UsageError
from memberlens.core.settings import ConsentSettings
from memberlens.privacy._consent import CHANNELS, consent_slot, may_use, naive_utc
from memberlens.privacy.contracts import ConsentCode, ConsentDecision, ConsentRecord
from memberlens.store import Warehouse

MessageKind = Literal["marketing", "transactional"]
CONTACTS: dict[str, str] = {
    "email": "email",
    "sms": "phone",
    "phone": "phone",
    "push": "device_id",
    "wechat": "wechat_openid",
}


def reachability(warehouse: Warehouse, *, member_ids: Sequence[str] | None = None) -> ir.Table:
    """``(member_id, channel)`` for every channel a member can be reached on (set-based)."""
    import pandas as pd  # here, not at import: the CLI starts without it

    mm = warehouse.table("member_map")
    if member_ids is not None:
        mm = mm.filter(mm.member_id.isin(list(member_ids)))
    ids = warehouse.table("member_identities").inner_join(mm, ["source", "source_member_key"])
    contacts = ibis.memtable(
        pd.DataFrame({"channel": list(CONTACTS), "id_type": list(CONTACTS.values())})
    )
    return ids.inner_join(contacts, "id_type").select("member_id", "channel").distinct()


def may_message(
    warehouse: Warehouse,
    member_id: str,
    *,
    kind: MessageKind,
    channel: str,
    as_of: datetime,
    defaults: ConsentSettings,
) -> ConsentDecision:
    """May a ``kind`` message go to ``member_id`` on ``channel``?

    Transactional: only reachability (``REACHABLE`` / ``UNREACHABLE``). Marketing:
    reachability, then marketing consent for the channel (:func:`may_use`).
    """
    if channel not in CHANNELS:
        raise UsageError(f"unknown message channel '{channel}'; use one of {', '.join(CHANNELS)}")
    if kind not in ("marketing", "transactional"):
        raise UsageError(f"unknown message kind '{kind}'; use marketing or transactional")
    reach = reachability(warehouse, member_ids=[member_id])
    reachable = bool(reach.filter(reach.channel == channel).count().execute())
    moment = naive_utc(as_of)
    if not reachable:
        return ConsentDecision(
            member_id, "marketing", channel, False, ConsentCode.UNREACHABLE, moment
        )
    if kind == "transactional":
        return ConsentDecision(member_id, "marketing", channel, True, ConsentCode.REACHABLE, moment)
    return may_use(warehouse, member_id, "marketing", channel, as_of=as_of, defaults=defaults)


def apply_newer(
    base: ConsentDecision,
    withdrawn_by: Iterable[tuple[str, str]],
    newer: Iterable[ConsentRecord],
    defaults: ConsentSettings,
) -> ConsentDecision:
    """A published decision updated with statements no refresh has published yet.

    ``base`` is the published decision (or the default), ``withdrawn_by`` the source
    records whose published statement is a withdrawal, ``newer`` what the API accepted
    since. The ledger rule applies per source record: each one's latest newer statement
    about the purpose (its channel or ``*``) replaces what it said before; then any
    withdrawal wins. A newer statement is taken as later than anything published (the
    next refresh re-decides by ``recorded_at``).
    """
    latest: dict[tuple[str, str], ConsentRecord] = {}
    for record in newer:
        if consent_slot(record.purpose, _asked(record, base), defaults) != (
            base.purpose,
            base.channel,
        ):
            continue
        who = (record.source, record.source_member_key)
        seen = latest.get(who)
        if seen is None or (record.recorded_at, not record.granted) >= (
            seen.recorded_at,
            not seen.granted,
        ):
            latest[who] = record
    if not latest:
        return base
    withdrawn = set(withdrawn_by) - set(latest)
    withdrawn |= {who for who, r in latest.items() if not r.granted}
    # Every source record that still speaks now grants: the member granted it.
    allowed, code = (False, ConsentCode.WITHDRAWN) if withdrawn else (True, ConsentCode.GRANTED)
    return ConsentDecision(
        base.member_id, base.purpose, base.channel, allowed, code, base.as_of, pending=True
    )


def _asked(record: ConsentRecord, base: ConsentDecision) -> str:
    """The channel a record speaks to: its own, or the asked one for a ``*`` statement."""
    if record.channel == "*" and base.channel != "*":
        return base.channel
    return record.channel
