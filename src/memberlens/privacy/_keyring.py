"""Key ring: AES-256-GCM field encryption and keyed-hash blind indexes.

Every encrypted value is stored as ``v1.<key id>.<base64url(nonce || ciphertext)>``,
so values written under an old key still decrypt after a new key becomes active.
The table and column form the GCM associated data: a ciphertext copied into another
column fails to decrypt instead of leaking there. Blind indexes are HMAC-SHA256 over
the normalised value with a separate key, so equality look-ups need no decryption.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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
    """Data keys by id (the active one encrypts) and the blind-index key."""

    keys: dict[str, bytes]
    active: str
    index_key: bytes

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise KeyRingError(f"active key '{self.active}' is not in the key ring")
        for kid, key in self.keys.items():
            if len(key) != 32:
                raise KeyRingError(f"key '{kid}' is {len(key)} bytes; AES-256 needs 32")
            if "." in kid:
                raise KeyRingError(f"key id '{kid}' must not contain '.'")

    # -- construction -------------------------------------------------------------
    @classmethod
    def generate(cls) -> KeyRing:
        """Return a new ring with one random data key and a random index key."""
        kid = f"k{secrets.token_hex(3)}"
        return cls(
            keys={kid: AESGCM.generate_key(256)}, active=kid, index_key=secrets.token_bytes(32)
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "active": self.active,
                "keys": {k: _b64e(v) for k, v in self.keys.items()},
                "index_key": _b64e(self.index_key),
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str, *, origin: str) -> KeyRing:
        try:
            data = json.loads(text)
            return cls(
                keys={k: _b64d(v) for k, v in data["keys"].items()},
                active=data["active"],
                index_key=_b64d(data["index_key"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise KeyRingError(
                f"{origin} is not a valid key ring ({exc}); restore it from your key backup"
            ) from exc

    def save(self, path: Path) -> None:
        """Write the ring readable by its owner only (0600)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(self.to_json())

    # -- encryption ---------------------------------------------------------------
    def encrypt(self, plaintext: str, *, context: str) -> str:
        """Encrypt one value under the active key, bound to ``context`` (table.column)."""
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self.keys[self.active]).encrypt(
            nonce, plaintext.encode("utf-8"), context.encode("utf-8")
        )
        return f"{_PREFIX}.{self.active}.{_b64e(nonce + sealed)}"

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
        mac = hmac.new(self.index_key, f"{kind}:{normalised}".encode(), hashlib.sha256)
        return mac.hexdigest()[:32]

    def blind_index_many(self, values: Sequence[str | None], *, kind: str) -> list[str | None]:
        return [self.blind_index(v, kind=kind) if v else None for v in values]


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
