"""Script and language: Traditional Chinese to Simplified, Chinese or English.

Every text is normalised before anything reads it — Traditional characters become
Simplified (OpenCC's ``t2s`` tables, the reference converter), full-width letters and
digits become ASCII, letters lower case — so a review scores alike in either script
and one model serves both.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Literal

Language = Literal["zh", "en"]
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


@functools.cache
def _t2s() -> object:
    import opencc  # its conversion tables ship in the wheel: nothing is downloaded

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """``text`` with Traditional Chinese characters converted to Simplified."""
    return str(_t2s().convert(text)) if _CJK.search(text) else text  # type: ignore[attr-defined]


def normalise(text: str) -> str:
    """The form every model reads: NFKC (full-width to ASCII), Simplified, lower case,
    runs of white space as one space."""
    text = unicodedata.normalize("NFKC", text or "")
    return " ".join(to_simplified(text).lower().split())


def language(text: str) -> Language:
    """``zh`` when Chinese characters make up at least a fifth of the letters, else ``en``
    (the two languages memberlens reads; anything else is scored as English)."""
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    return "zh" if cjk and cjk * 5 >= cjk + latin else "en"
