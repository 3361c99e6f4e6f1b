"""The built-in Chinese model is fitted once per machine and then read from the cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from memberlens.text import _builtin

pytestmark = pytest.mark.slow

TEXTS = ["送餐很快，味道不错", "太慢了，菜都凉了", "還可以吧"]


def test_an_unreadable_cache_entry_is_refitted_and_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = _builtin.chinese_model().positive(TEXTS)  # from the checkout's cache, or fitted
    whole = _builtin._cache_path().read_bytes()

    monkeypatch.setenv("MEMBERLENS_CACHE_DIR", str(tmp_path))
    path = _builtin._cache_path()
    assert path.parent == tmp_path
    path.write_bytes(whole[: len(whole) // 2])  # cut short, as by a full disk
    _builtin.chinese_model.cache_clear()
    try:
        refitted = _builtin.chinese_model().positive(TEXTS)
        assert path.stat().st_size > 100_000  # replaced by the fitted model
        _builtin.chinese_model.cache_clear()
        reread = _builtin.chinese_model().positive(TEXTS)
    finally:
        _builtin.chinese_model.cache_clear()
    np.testing.assert_array_equal(refitted, reread)
    np.testing.assert_array_equal(refitted, cached)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
