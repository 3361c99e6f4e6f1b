"""A member's source records with their identifiers, masked."""

from __future__ import annotations

from collections import defaultdict

from memberlens.identity.contracts import SourceRecord, UnknownMember
from memberlens.privacy import KeyRing, mask
from memberlens.store import Warehouse


def member_records(
    warehouse: Warehouse, keyring: KeyRing, member_id: str
) -> tuple[SourceRecord, ...]:
    """Every source record mapped to ``member_id``, identifiers masked (never clear).

    Examples
    --------
    >>> mask("13812345678", kind="phone")
    '138****5678'
    """
    rows = warehouse.fetch_all(
        "SELECT source, source_member_key, since, reason FROM member_map "
        "WHERE member_id = ? ORDER BY since, source, source_member_key",
        [member_id],
    )
    if not rows:
        raise UnknownMember(
            f"no source record maps to member {member_id}; find members with "
            "`memberlens identity resolve` output or the console's Members page"
        )
    idents: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for source, key, id_type, sealed in warehouse.fetch_all(
        "SELECT i.source, i.source_member_key, i.id_type, i.id_value FROM member_identities i "
        "JOIN member_map m USING (source, source_member_key) WHERE m.member_id = ? "
        "ORDER BY i.id_type, i.id_hash",
        [member_id],
    ):
        clear = keyring.decrypt(sealed, context=f"member_identities.{id_type}")
        idents[(source, key)].append((id_type, mask(clear, kind=id_type) or ""))
    return tuple(
        SourceRecord(s, k, since, reason, tuple(idents[(s, k)])) for s, k, since, reason in rows
    )
