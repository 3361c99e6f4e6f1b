"""Key ring: encryption round trips, binding to the column, rotation, blind indexes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memberlens.core.errors import KeyRingError
from memberlens.privacy import KeyRing, load_key_ring


@given(st.text(min_size=1, max_size=200))
def test_encrypt_round_trip(text: str) -> None:
    ring = KeyRing.generate()
    token = ring.encrypt(text, context="members.email")
    if len(text) >= 12:  # short texts may occur in base64 by chance
        assert text not in token
    assert ring.decrypt(token, context="members.email") == text


def test_same_value_encrypts_differently_each_time() -> None:
    ring = KeyRing.generate()
    assert ring.encrypt("a@b.cn", context="c") != ring.encrypt("a@b.cn", context="c")


def test_ciphertext_moved_to_another_column_does_not_decrypt() -> None:
    ring = KeyRing.generate()
    token = ring.encrypt("13800138000", context="members.phone")
    with pytest.raises(KeyRingError, match="tampered or moved"):
        ring.decrypt(token, context="members.name")


def test_values_under_a_retired_active_key_still_decrypt() -> None:
    old = KeyRing.generate()
    token = old.encrypt("secret", context="c")
    new_key = KeyRing.generate()
    rotated = KeyRing(
        keys={**old.keys, **new_key.keys}, active=new_key.active, index_key=old.index_key
    )
    assert rotated.decrypt(token, context="c") == "secret"
    assert rotated.encrypt("x", context="c").split(".")[1] == new_key.active


def test_missing_key_names_the_fix() -> None:
    token = KeyRing.generate().encrypt("x", context="c")
    with pytest.raises(KeyRingError, match="restore the key file"):
        KeyRing.generate().decrypt(token, context="c")


def test_blind_index_is_keyed_and_deterministic() -> None:
    a, b = KeyRing.generate(), KeyRing.generate()
    assert a.blind_index("a@b.cn", kind="email") == a.blind_index("a@b.cn", kind="email")
    assert a.blind_index("a@b.cn", kind="email") != b.blind_index("a@b.cn", kind="email")
    assert a.blind_index("x", kind="email") != a.blind_index("x", kind="phone")


def test_key_file_is_private_and_env_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ring = KeyRing.generate()
    path = tmp_path / "keys" / "ring.json"
    ring.save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_key_ring(path).active == ring.active
    other = KeyRing.generate()
    monkeypatch.setenv("MEMBERLENS_KEYS", other.to_json())
    assert load_key_ring(path).active == other.active


def test_missing_key_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KeyRingError, match="Restore the file from your key backup"):
        load_key_ring(tmp_path / "nope.json")
