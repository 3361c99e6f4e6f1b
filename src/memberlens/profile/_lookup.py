"""Finding members: blind-index look-ups of e-mail and phone, ids through member_map.

Personal columns are stored encrypted, so a search never decrypts and scans: the
search text is normalised exactly as ingest normalised the stored value and hashed
with the key ring's blind index, then compared with ``members.email_bidx`` or
``members.phone_bidx``. Every member id comes through ``member_map`` (DESIGN), so a
person with records in several sources is one hit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import ibis.expr.types as ir

from memberlens.privacy import KeyRing, mask, normalise_email, normalise_phone
from memberlens.profile.contracts import HITS_SHOWN, MatchedBy, MemberSummary, SearchResult
from memberlens.store import Warehouse

PERSONAL = ("name", "birth_date", "phone", "email", "address")
# Columns read from ``members`` beside the personal ones, for hits and the card.
PLAIN = (
    "gender",
    "city",
    "region",
    "occupation",
    "education",
    "signup_at",
    "signup_channel",
    "locale",
)


def search_members(
    warehouse: Warehouse, keyring: KeyRing, *, query: str, limit: int = HITS_SHOWN
) -> SearchResult:
    """Members whose e-mail, phone, member id or source member key is ``query``.

    A text with ``@`` is an e-mail; one that normalises to an E.164 number is a phone
    (or a source key that happens to look like one); anything else is a member id or a
    source's own member key. Hits are masked and ordered by member id.

    Examples
    --------
    >>> search_members(wh, ring, query="138 1234 5678").matched_by  # doctest: +SKIP
    <MatchedBy.PHONE: 'phone'>
    """
    text = query.strip()
    if not text:
        return SearchResult(query, MatchedBy.NOTHING, (), False)
    matched_by, ids = _matching_ids(warehouse, keyring, text)
    found = [
        r["member_id"]
        for r in warehouse.to_pyarrow(ids.order_by("member_id").limit(limit + 1)).to_pylist()
    ]
    records = member_records(warehouse, found[:limit])
    hits = tuple(_summary(keyring, mid, records.get(mid, [])) for mid in found[:limit])
    return SearchResult(query, matched_by, hits, len(found) > limit)


def member_summaries(
    warehouse: Warehouse, keyring: KeyRing, member_ids: Sequence[str]
) -> dict[str, MemberSummary]:
    """The members as a search hit shows them — sources, city, member since, and name,
    phone and e-mail masked for every role (nothing clear, so nothing to audit) — by
    member id; for lists of members such as the console's member list."""
    records = member_records(warehouse, member_ids)
    return {m: _summary(keyring, m, records.get(m, [])) for m in member_ids}


def _matching_ids(warehouse: Warehouse, keyring: KeyRing, text: str) -> tuple[MatchedBy, ir.Table]:
    """How ``text`` is read, and the distinct member ids it finds (one column)."""
    mm = warehouse.table("member_map")
    members = warehouse.table("members")
    by_key = mm.filter((mm.member_id == text) | (mm.source_member_key == text))
    if "@" in text:
        # Every index key in the ring: rows not yet re-indexed by a key rotation match too.
        index = keyring.blind_indexes(normalise_email(text), kind="email")
        found = mm.semi_join(members.filter(members.email_bidx.isin(index)), _KEY)
        return MatchedBy.EMAIL, found.select("member_id").distinct()
    phone = normalise_phone(text)
    if phone is None:
        return MatchedBy.KEY, by_key.select("member_id").distinct()
    index = keyring.blind_indexes(phone, kind="phone")
    found = mm.semi_join(members.filter(members.phone_bidx.isin(index)), _KEY)
    # Both sides as plain strings: the semi join and the filter differ in nullability.
    ids = [t.select(member_id=t.member_id.cast("string")) for t in (found, by_key)]
    return MatchedBy.PHONE, ids[0].union(ids[1], distinct=True)


_KEY = ["source", "source_member_key"]


def member_records(
    warehouse: Warehouse, member_ids: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """Every (source, key) mapped to each member, with its ``members`` row if any.

    Records come newest load first; personal values are still ciphertext.
    """
    if not member_ids:
        return {}
    mm = warehouse.table("member_map")
    members = warehouse.table("members")
    mine = mm.filter(mm.member_id.isin(list(member_ids)))
    joined = mine.left_join(members, _KEY).select(
        mine.member_id,
        mine.source,
        mine.source_member_key,
        *(members[c] for c in (*PERSONAL, *PLAIN)),
        loaded_at=members._loaded_at,
    )
    ordered = joined.order_by(
        [joined.loaded_at.desc(nulls_first=False), "source", "source_member_key"]
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for row in warehouse.to_pyarrow(ordered).to_pylist():
        out.setdefault(row["member_id"], []).append(row)
    return out


def shown(keyring: KeyRing, column: str, stored: str | None, *, reveal: bool) -> str | None:
    """The clear value of a personal column when revealed, else its masked form."""
    if stored is None:
        return None
    clear = keyring.decrypt(stored, context=f"members.{column}")
    if reveal:
        return clear
    return mask(clear, kind=column if column in ("email", "phone") else "text")


def _first(records: list[dict[str, Any]], column: str) -> Any:
    """The newest non-empty value of ``column`` across a member's records."""
    return next((r[column] for r in records if r[column] not in (None, "")), None)


def _summary(keyring: KeyRing, member_id: str, records: list[dict[str, Any]]) -> MemberSummary:
    signups = [r["signup_at"] for r in records if r["signup_at"] is not None]
    return MemberSummary(
        member_id=member_id,
        sources=tuple(sorted({r["source"] for r in records})),
        name=shown(keyring, "name", _first(records, "name"), reveal=False),
        phone=shown(keyring, "phone", _first(records, "phone"), reveal=False),
        email=shown(keyring, "email", _first(records, "email"), reveal=False),
        city=_first(records, "city"),
        signup_at=_day(min(signups)) if signups else None,  # the earliest: member since
    )


def _day(value: datetime | date | None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value
