"""Key ring: AES-256-GCM field encryption and keyed-hash blind indexes.

Every encrypted value is stored as ``v1.<key id>.<base64url(nonce || ciphertext)>``,
so values written under an old key still decrypt after a new key becomes active.
The table and column form the GCM associated data: a ciphertext copied into another
column fails to decrypt instead of leaking there. Blind indexes are HMAC-SHA256 over
the normalised value with a separate key, so equality look-ups need no decryption.

Each data key has its own blind-index key, rotated with it: the active pair writes,
and the index keys of older data keys stay in the ring (``old_index_keys``) so that
look-ups during a rotation try every index key (:meth:`KeyRing.blind_indexes`). A row
re-encrypted under key K has its blind indexes under K's index key too, so the key id
in a ciphertext also says which index key its row's blind indexes use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from memberlens.core.errors import KeyRingError

_PREFIX = "v1"
ENV_KEYS = "MEMBERLENS_KEYS"


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class KeyRing:
    """Data keys by id (the active one encrypts), the active blind-index key, and the
    index keys of older data keys (by their data key's id) kept for look-ups."""

    keys: dict[str, bytes]
    active: str
    index_key: bytes
    old_index_keys: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise KeyRingError(f"active key '{self.active}' is not in the key ring")
        for kid, key in self.keys.items():
            if len(key) != 32:
                raise KeyRingError(f"key '{kid}' is {len(key)} bytes; AES-256 needs 32")
            if "." in kid:
                raise KeyRingError(f"key id '{kid}' must not contain '.'")
        if set(self.old_index_keys) - set(self.keys) or self.active in self.old_index_keys:
            raise KeyRingError("old index keys must belong to the ring's older data keys")

    # -- construction -------------------------------------------------------------
    @classmethod
    def generate(cls) -> KeyRing:
        """Return a new ring with one random data key and a random index key."""
        kid = f"k{secrets.token_hex(3)}"
        return cls(
            keys={kid: AESGCM.generate_key(256)}, active=kid, index_key=secrets.token_bytes(32)
        )

    def with_new_key(self) -> KeyRing:
        """A ring whose new data key and new index key are active; the old keys stay.

        New writes use the new pair at once; older values still decrypt, and look-ups
        still find rows whose blind indexes use the previous index key.
        """
        fresh = KeyRing.generate()
        return KeyRing(
            keys={**self.keys, **fresh.keys},
            active=fresh.active,
            index_key=fresh.index_key,
            old_index_keys={**self.old_index_keys, self.active: self.index_key},
        )

    def without_key(self, key_id: str) -> KeyRing:
        """The ring with an old data key (and its index key) removed."""
        if key_id == self.active:
            raise KeyRingError(f"key '{key_id}' is the active key; rotate to a new key first")
        if key_id not in self.keys:
            raise KeyRingError(
                f"the key ring holds no key '{key_id}' (see `memberlens privacy keys`)"
            )
        keys = {k: v for k, v in self.keys.items() if k != key_id}
        old = {k: v for k, v in self.old_index_keys.items() if k != key_id}
        return replace(self, keys=keys, old_index_keys=old)

    def to_json(self) -> str:
        data: dict[str, object] = {
            "active": self.active,
            "keys": {k: _b64e(v) for k, v in self.keys.items()},
            "index_key": _b64e(self.index_key),
        }
        if self.old_index_keys:
            data["old_index_keys"] = {k: _b64e(v) for k, v in self.old_index_keys.items()}
        return json.dumps(data, indent=2)

    @classmethod
    def from_json(cls, text: str, *, origin: str) -> KeyRing:
        try:
            data = json.loads(text)
            return cls(
                keys={k: _b64d(v) for k, v in data["keys"].items()},
                active=data["active"],
                index_key=_b64d(data["index_key"]),
                old_index_keys={k: _b64d(v) for k, v in data.get("old_index_keys", {}).items()},
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise KeyRingError(
                f"{origin} is not a valid key ring ({exc}); restore it from your key backup"
            ) from exc

    def save(self, path: Path) -> None:
        """Write the ring readable by its owner only (0600).

        Written beside the target and renamed over it, so a crash mid-write leaves the
        previous ring whole rather than a truncated file (losing keys loses the data).
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(self.to_json())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, path)

    # -- encryption ---------------------------------------------------------------
    def encrypt(self, plaintext: str, *, context: str) -> str:
        """Encrypt one value under the active key, bound to ``context`` (table.column)."""
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self.keys[self.active]).encrypt(
            nonce, plaintext.encode("utf-8"), context.encode("utf-8")
        )
        return f"{_PREFIX}.{self.active}.{_b64e(nonce + sealed)}"

    @staticmethod
    def key_id_of(token: str) -> str:
        """The id of the key a stored value was encrypted under."""
        return token.split(".", 2)[1] if token.count(".") >= 2 else ""

    def decrypt(self, token: str, *, context: str) -> str:
        """Decrypt a value written by :meth:`encrypt` under any key still in the ring."""
        try:
            prefix, kid, body = token.split(".", 2)
        except ValueError as exc:
            raise KeyRingError("value is not an encrypted memberlens value") from exc
        if prefix != _PREFIX or kid not in self.keys:
            raise KeyRingError(
                f"value was encrypted under key '{kid}', which this key ring lacks; "
                "restore the key file from backup or set MEMBERLENS_KEYS"
            )
        raw = _b64d(body)
        try:
            clear = AESGCM(self.keys[kid]).decrypt(raw[:12], raw[12:], context.encode("utf-8"))
        except InvalidTag as exc:
            raise KeyRingError(f"value does not decrypt for {context} (tampered or moved)") from exc
        return clear.decode("utf-8")

    def encrypt_many(self, values: Iterable[str | None], *, context: str) -> list[str | None]:
        """Encrypt a column; ``None`` and empty strings stay ``None``."""
        return [self.encrypt(v, context=context) if v else None for v in values]

    def blind_index(self, normalised: str, *, kind: str) -> str:
        """Return the keyed hash of a normalised value; ``kind`` separates namespaces."""
        return _keyed_hash(self.index_key, normalised, kind)

    def blind_index_many(self, values: Sequence[str | None], *, kind: str) -> list[str | None]:
        return [self.blind_index(v, kind=kind) if v else None for v in values]

    def blind_indexes(self, normalised: str, *, kind: str) -> list[str]:
        """The value's blind index under every index key in the ring, active first.

        Look-ups match any of them, so a search finds a row whether or not a key
        rotation has re-indexed it yet; after the old key is retired the list is one.
        """
        keys = [self.index_key, *self.old_index_keys.values()]
        return [_keyed_hash(key, normalised, kind) for key in keys]


def _keyed_hash(key: bytes, normalised: str, kind: str) -> str:
    return hmac.new(key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()[:32]


def default_key_file(workspace_id: str) -> Path:
    """Where a workspace's key ring lives by default: outside the workspace."""
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "memberlens" / "keys" / f"{workspace_id}.json"


def load_key_ring(key_file: Path) -> KeyRing:
    """Load the ring from ``MEMBERLENS_KEYS`` (JSON text) or else from ``key_file``."""
    env = os.environ.get(ENV_KEYS)
    if env:
        return KeyRing.from_json(env, origin=ENV_KEYS)
    if not key_file.is_file():
        raise KeyRingError(
            f"no key ring at {key_file}: personal data cannot be encrypted or read. "
            f"Restore the file from your key backup, or set {ENV_KEYS}"
        )
    return KeyRing.from_json(key_file.read_text(encoding="utf-8"), origin=str(key_file))
