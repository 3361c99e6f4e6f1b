"""Effective consent: the consent ledger and per-purpose defaults, over all members at once.

The warehouse ``consents`` table is the ledger of record: every grant and withdrawal,
append-only, keyed by the source record that said it (``source``,
``source_member_key``). Member ids come through ``member_map``, so after an identity
merge one member may have statements from several source records.

The rule, for one member, purpose and channel at instant ``as_of``:

1. For each of the member's source records, take its **latest statement at or before
   ``as_of``** among the records naming that channel and those naming ``*`` (the
   purpose as a whole). At equal times a withdrawal wins.
2. **The most restrictive source record wins** (GDPR Art. 7(3): a withdrawal must be
   as easy as the grant and takes effect at once): any current withdrawal gives
   ``WITHDRAWN``; else any current grant gives ``GRANTED``; a source record that
   never said anything restricts nothing.
3. Nobody said anything: the purpose's default from settings: ``opt_in`` gives
   ``NO_OPT_IN`` (not allowed), ``opt_out`` gives ``DEFAULT_ALLOW``.

Purposes listed in ``consent.per_channel`` are decided per channel (email, sms, push,
wechat, phone); the others once, on channel ``*``, and a statement of theirs that
names a channel counts for the whole purpose (a refusal is never lost to a channel
nobody asks about).

Everything is one Ibis expression (window + group-by + joins), so it runs on DuckDB
now and on Spark later without a Python loop per member.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import ibis
import ibis.expr.types as ir

from memberlens.core.errors import UsageError
from memberlens.core.settings import ConsentSettings
from memberlens.privacy.contracts import ConsentCode, ConsentDecision, ConsentRecord
from memberlens.schema import CONSENT_CHANNELS, CONSENT_PURPOSES
from memberlens.store import Warehouse

ANY_CHANNEL = "*"
CHANNELS: tuple[str, ...] = tuple(c for c in CONSENT_CHANNELS if c != ANY_CHANNEL)
# Joins a source record's (source, key) into one text, and those texts into a list.
KEY_SEP, LIST_SEP = "\x1f", "\x1e"


def naive_utc(moment: datetime) -> datetime:
    """Warehouse and state times are naive UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def consent_slot(purpose: str, channel: str, defaults: ConsentSettings) -> tuple[str, str]:
    """Check ``purpose`` and ``channel`` and say which decision answers them.

    Purposes decided once answer on ``*`` whatever channel is asked.

    Examples
    --------
    >>> consent_slot("personalisation", "email", ConsentSettings())
    ('personalisation', '*')
    """
    if purpose not in CONSENT_PURPOSES:
        raise UsageError(
            f"unknown consent purpose '{purpose}'; use one of {', '.join(CONSENT_PURPOSES)}"
        )
    if channel not in CONSENT_CHANNELS:
        raise UsageError(
            f"unknown consent channel '{channel}'; use one of {', '.join(CONSENT_CHANNELS)}"
        )
    if purpose not in defaults.per_channel:
        return purpose, ANY_CHANNEL
    if channel == ANY_CHANNEL:
        raise UsageError(
            f"{purpose} is decided per channel; ask for one of {', '.join(CHANNELS)} "
            "(or remove it from consent.per_channel)"
        )
    return purpose, channel


def consent_slots(defaults: ConsentSettings) -> list[tuple[str, str, bool]]:
    """Every (purpose, channel) decided, with whether the default allows it."""
    slots = []
    for purpose in CONSENT_PURPOSES:
        allowed = getattr(defaults, purpose) == "opt_out"
        channels = CHANNELS if purpose in defaults.per_channel else (ANY_CHANNEL,)
        slots += [(purpose, channel, allowed) for channel in channels]
    return slots


def default_decision(
    member_id: str | None,
    purpose: str,
    channel: str,
    defaults: ConsentSettings,
    *,
    as_of: datetime | None = None,
) -> ConsentDecision:
    """The decision for a member who has said nothing about ``purpose``."""
    allowed = getattr(defaults, purpose) == "opt_out"
    code = ConsentCode.DEFAULT_ALLOW if allowed else ConsentCode.NO_OPT_IN
    return ConsentDecision(member_id, purpose, channel, allowed, code, as_of)


def _ledger(
    warehouse: Warehouse, as_of: datetime | None, member_ids: Sequence[str] | None
) -> tuple[ir.Table, ir.Table]:
    """Statements at or before ``as_of`` with their member id, and the members asked about."""
    mm = warehouse.table("member_map")
    if member_ids is not None:
        mm = mm.filter(mm.member_id.isin(list(member_ids)))
    ledger = warehouse.table("consents")
    if as_of is not None:
        ledger = ledger.filter(ledger.recorded_at <= ibis.literal(naive_utc(as_of)))
    ledger = ledger.inner_join(mm, ["source", "source_member_key"])
    return ledger, mm.select("member_id").distinct()


def _slots_table(defaults: ConsentSettings) -> ir.Table:
    import pandas as pd  # here, not at import: the CLI starts without it

    rows = consent_slots(defaults)
    return ibis.memtable(
        pd.DataFrame(
            {
                "s_purpose": [r[0] for r in rows],
                "slot": [r[1] for r in rows],
                "default_allowed": [r[2] for r in rows],
            }
        )
    )


def _states(ledger: ir.Table, slots: ir.Table) -> ir.Table:
    """Per (member, purpose, channel): any current withdrawal / grant among its records."""
    matched = ledger.inner_join(
        slots,
        [
            ledger.purpose == slots.s_purpose,
            (ledger.channel == slots.slot)
            | (ledger.channel == ANY_CHANNEL)
            | (slots.slot == ANY_CHANNEL),
        ],
    )
    record = ["member_id", "source", "source_member_key", "s_purpose", "slot"]
    # Latest first; at equal times the withdrawal (granted = false sorts first) wins.
    order = [ibis.desc(matched.recorded_at), matched.granted.asc()]
    ranked = matched.mutate(rn=ibis.row_number().over(group_by=record, order_by=order))
    latest = ranked.filter(ranked.rn == 0)
    who = latest.source.concat(KEY_SEP, latest.source_member_key)
    return latest.group_by(["member_id", "s_purpose", "slot"]).aggregate(
        any_withdrawn=(~latest.granted).any(),
        any_granted=latest.granted.any(),
        withdrawn_by=who.group_concat(LIST_SEP, where=~latest.granted),
    )


def effective_consent(
    warehouse: Warehouse,
    *,
    as_of: datetime,
    defaults: ConsentSettings,
    member_ids: Sequence[str] | None = None,
    detail: bool = False,
) -> ir.Table:
    """The effective consent of every member: ``(member_id, purpose, channel, allowed, code)``.

    One row per member of ``member_map`` (or of ``member_ids``) and per decided
    (purpose, channel) — see the module docstring for the rule. With ``detail`` a
    column ``withdrawn_by`` lists the source records whose current statement is a
    withdrawal (``source\\x1fkey`` joined by ``\\x1e``), which the request path needs
    to apply newer statements correctly.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> table = effective_consent(warehouse, as_of=datetime(2025, 6, 1),
    ...                           defaults=ConsentSettings())  # doctest: +SKIP
    >>> table.filter(table.code == "WITHDRAWN").count().execute()  # doctest: +SKIP
    """
    ledger, members = _ledger(warehouse, as_of, member_ids)
    slots = _slots_table(defaults)
    states = _states(ledger, slots)
    grid = members.cross_join(slots).left_join(states, ["member_id", "s_purpose", "slot"])
    code = ibis.cases(
        (grid.any_withdrawn.fill_null(False), ConsentCode.WITHDRAWN.value),
        (grid.any_granted.fill_null(False), ConsentCode.GRANTED.value),
        (grid.default_allowed, ConsentCode.DEFAULT_ALLOW.value),
        else_=ConsentCode.NO_OPT_IN.value,
    )
    columns = {
        "member_id": grid.member_id,
        "purpose": grid.s_purpose,
        "channel": grid.slot,
        "allowed": code.isin([ConsentCode.GRANTED.value, ConsentCode.DEFAULT_ALLOW.value]),
        "code": code,
    }
    if detail:
        columns["withdrawn_by"] = grid.withdrawn_by
    return grid.select(**columns).order_by(["member_id", "purpose", "channel"])


def may_use(
    warehouse: Warehouse,
    member_id: str,
    purpose: str,
    channel: str,
    *,
    as_of: datetime,
    defaults: ConsentSettings,
) -> ConsentDecision:
    """May ``member_id`` be used for ``purpose`` on ``channel`` at ``as_of``? (batch side)

    A thin wrapper over :func:`effective_consent` restricted to one member; a member
    id unknown to ``member_map`` gets the purpose's default.
    """
    purpose, channel = consent_slot(purpose, channel, defaults)
    table = effective_consent(warehouse, as_of=as_of, defaults=defaults, member_ids=[member_id])
    table = table.filter((table.purpose == purpose) & (table.channel == channel))
    rows = warehouse.to_pyarrow(table).to_pylist()
    if not rows:
        return default_decision(member_id, purpose, channel, defaults, as_of=naive_utc(as_of))
    row = rows[0]
    return ConsentDecision(
        member_id,
        purpose,
        channel,
        bool(row["allowed"]),
        ConsentCode(row["code"]),
        naive_utc(as_of),
    )


def consent_history(warehouse: Warehouse, member_id: str) -> list[ConsentRecord]:
    """Every statement in the ledger of ``member_id``'s source records, newest first."""
    ledger, _ = _ledger(warehouse, None, [member_id])
    ledger = ledger.order_by(
        [ibis.desc("recorded_at"), "purpose", "channel", "source", "source_member_key"]
    )
    return [
        ConsentRecord(
            source=r["source"],
            source_member_key=r["source_member_key"],
            purpose=r["purpose"],
            channel=r["channel"],
            granted=bool(r["granted"]),
            recorded_at=r["recorded_at"],
            policy_version=r["policy_version"],
        )
        for r in warehouse.to_pyarrow(ledger).to_pylist()
    ]
