"""Matching keys: what two identifiers must share to name the same person.

Blind indexes in ``member_identities`` are keyed hashes of the *stored* form (e-mail
trimmed and lower-cased, phone in E.164, external ids as given). Matching needs a
little more for e-mail: Gmail ignores dots and ``+tags`` in the local part and treats
googlemail.com as gmail.com; Outlook, Hotmail and Live ignore ``+tags`` only. Changing
the stored normalisation would change every stored blind index (a re-index), so the
matching key is derived here instead, at match time, and cached per blind index in
``identity_match_keys``: each e-mail is decrypted once, the first time it is seen.
"""

from __future__ import annotations

import pyarrow as pa

from memberlens.privacy import KeyRing
from memberlens.store import Warehouse

# Providers documented to deliver a.b+tag@ to ab@ (dots) or a+tag@ to a@ (plus tags).
# Providers not listed keep both: at 163.com, chen.jie and chenjie are two mailboxes.
DOT_BLIND = frozenset({"gmail.com", "googlemail.com"})
PLUS_TAGS = frozenset(
    {"gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com"}
)
DOMAIN_ALIASES = {"googlemail.com": "gmail.com"}


def email_match_key(address: str) -> str:
    """The form of an e-mail address under which one mailbox has one key.

    Examples
    --------
    >>> email_match_key(" Li.Na+shop@GoogleMail.com ")
    'lina@gmail.com'
    >>> email_match_key("wang.fang+news@outlook.com")
    'wang.fang@outlook.com'
    >>> email_match_key("chen.jie+vip@163.com")
    'chen.jie+vip@163.com'
    """
    text = address.strip().lower()
    local, sep, domain = text.rpartition("@")
    if not sep:
        return text
    if domain in PLUS_TAGS:
        local = local.split("+", 1)[0]
    if domain in DOT_BLIND:
        local = local.replace(".", "")
    return f"{local}@{DOMAIN_ALIASES.get(domain, domain)}"


def refresh_match_keys(warehouse: Warehouse, keyring: KeyRing) -> int:
    """Add a matching key for every identifier that has none yet; return how many.

    Phones and external ids match on their blind index as stored; e-mails on a keyed
    hash of :func:`email_match_key` (kind ``email_match``, a namespace of its own).
    """
    warehouse.execute(
        "INSERT INTO identity_match_keys SELECT DISTINCT id_type, id_hash, id_hash "
        "FROM member_identities ANTI JOIN identity_match_keys USING (id_type, id_hash) "
        "WHERE id_type <> 'email'"
    )
    rows = warehouse.fetch_all(
        "SELECT id_hash, any_value(id_value) FROM member_identities WHERE id_type = 'email' "
        "AND id_hash NOT IN (SELECT id_hash FROM identity_match_keys WHERE id_type = 'email') "
        "GROUP BY id_hash"
    )
    if not rows:
        return 0
    hashes = [h for h, _ in rows]
    keys = [
        keyring.blind_index(
            email_match_key(keyring.decrypt(v, context="member_identities.email")),
            kind="email_match",
        )
        for _, v in rows
    ]
    table = pa.table({"id_type": ["email"] * len(rows), "id_hash": hashes, "match_hash": keys})
    warehouse.native.register("new_match_keys", table)
    warehouse.execute("INSERT INTO identity_match_keys SELECT * FROM new_match_keys")
    warehouse.native.unregister("new_match_keys")
    return len(rows)
