"""Which encoding a text file is in, or a refusal that names the candidates.

Exports from Chinese systems come in UTF-8 (with or without a BOM), UTF-16 (Excel's
"Unicode text"), GBK/GB18030 (mainland Windows) or Big5 (Taiwan, Hong Kong). A BOM
settles it; so does valid UTF-8 (other text is almost never valid UTF-8). Otherwise
every legacy candidate is tried on a sample, strictly: a candidate that cannot decode
it is out. GB18030 decodes nearly any byte string, and GBK and Big5 share their byte
ranges, so decoding alone does not decide: a reading is *plausible* when most of its
letters beyond ASCII are common Chinese characters of either script — the 3,755 of
GB 2312 level 1 and the 5,401 of Big5's frequently used block — and it holds no
control, private-use or unassigned characters. Big5 read as GBK gives private-use and
rare characters (臺北 → 籓\\ue665); GBK read as Big5 gives rare ones.

The file loads when exactly one candidate is plausible (and decodes the whole file).
Two plausible readings happen on very short files (好吃 in GBK is 疑勛 in Big5): the
import is refused, naming both and the ``--encoding`` flag. When none is plausible
the file is in some other encoding; charset-normalizer's guesses are named.
charset-normalizer's own ranking is not used for the Chinese candidates: on a few
lines it cannot part GBK from Big5 (both score no mess), and its mess measure flags
the repeated punctuation of real reviews (。。 ！！！ ～～).
"""

from __future__ import annotations

import codecs
import unicodedata
from functools import cache
from pathlib import Path

import charset_normalizer

from memberlens.core.errors import InputError

SAMPLE = 64 * 1024
PLAUSIBLE = 0.75  # share of common characters; wrong readings of a few lines score < 0.6
_CHUNK = 1 << 20
NEWLINE = b"\n"
# (codec, name shown, the flag value suggested). Big5 is decoded as cp950, the Windows
# Big5 that most Big5 files come from (a superset of the standard table).
CANDIDATES = (
    ("gb18030", "GBK/GB18030", "gb18030"),
    ("cp950", "Big5", "big5"),
    ("utf-16-le", "UTF-16 LE", "utf-16-le"),
    ("utf-16-be", "UTF-16 BE", "utf-16-be"),
)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_FLAG = "pass --encoding NAME (or set read.encoding in a mapping file)"


def detect_encoding(path: Path) -> str:
    """Return the codec to read ``path`` with; see the module docstring.

    Raises
    ------
    InputError
        When no candidate, or more than one, reads the file plausibly.
    """
    with path.open("rb") as fh:
        head = fh.read(SAMPLE)
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return codec
    if decodes(path, "utf-8"):
        return "utf-8"
    whole = len(head) < SAMPLE
    scores = {}
    for codec, _name, _flag in CANDIDATES:
        text = _strict(head, codec, final=whole)
        if text is not None:
            scores[codec] = plausibility(text)
    plausible = [c for c in CANDIDATES if scores.get(c[0], 0.0) >= PLAUSIBLE]
    if len(plausible) > 1:
        named = " or ".join(f"{name} (--encoding {flag})" for _, name, flag in plausible)
        raise InputError(
            f"{path}: cannot tell the encoding: the text reads as {named}, too little "
            f"of it to choose; {_FLAG}",
            code="AMBIGUOUS_ENCODING",
        )
    if plausible and (whole or decodes(path, plausible[0][0])):
        return plausible[0][0]
    if plausible:
        codec, name, flag = plausible[0]
        raise InputError(
            f"{path}: reads as {name} at first, but later bytes are not {name}: the file "
            f"mixes encodings; convert it to UTF-8, or pass --encoding {flag} to find where"
        )
    guesses = [m.encoding for m in charset_normalizer.from_bytes(head)][:3]
    maybe = f" (it may be {', '.join(guesses)})" if guesses else ""
    raise InputError(
        f"{path}: the text is not UTF-8, GBK/GB18030, Big5 or UTF-16{maybe}; convert it to "
        f"UTF-8 or {_FLAG}",
        code="UNKNOWN_ENCODING",
    )


def decodes(path: Path, codec: str) -> bool:
    """Whether the whole file decodes with ``codec`` without an error."""
    return decode_error(path, codec) is None


def decode_error(path: Path, codec: str) -> str | None:
    """Where the file stops being ``codec`` text ("line N"), or None if it never does."""
    decoder = codecs.getincrementaldecoder(codec)()
    lines = 1
    with path.open("rb") as fh:
        try:
            while chunk := fh.read(_CHUNK):
                lines += decoder.decode(chunk).count("\n")
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            # The lines decoded before the bad byte within this chunk (close enough for
            # multi-byte encodings, whose line breaks are the ASCII byte).
            before = exc.object[: exc.start]
            return f"line {lines + before.count(NEWLINE)}"
    return None


def check_codec(codec: str) -> str:
    """``codec`` if Python knows it, else an error naming the usual ones."""
    try:
        codecs.lookup(codec)
    except LookupError:
        raise InputError(
            f"unknown encoding '{codec}'; use utf-8, utf-8-sig, gb18030 (GBK), big5, "
            "utf-16 or another Python codec name"
        ) from None
    return codec


def _strict(sample: bytes, codec: str, *, final: bool) -> str | None:
    """The sample decoded, or None; a sample cut inside a character is not an error."""
    try:
        return codecs.getincrementaldecoder(codec)().decode(sample, final=final)
    except UnicodeDecodeError:
        return None


def plausibility(text: str) -> float:
    """Share of the letters beyond ASCII that are common Chinese characters (either
    script); control, private-use and unassigned characters count thrice against.

    >>> plausibility("kind,text\\nreview,好吃，下次還來")
    1.0
    >>> plausibility("\\ue77b,籓\\ue665") < 0.2
    True
    """
    common, letters = _common_han(), 0
    hits = 0
    for ch in text:
        if ch < "\x80" and (ch >= " " or ch in "\t\r\n"):
            continue
        kind = unicodedata.category(ch)
        if kind in ("Cc", "Co", "Cn"):
            letters += 3
        elif kind[0] in "LN":
            letters += 1
            hits += ch in common
    return hits / letters if letters else 1.0


@cache
def _common_han() -> frozenset[str]:
    """GB 2312 level 1 (rows 16-55) and Big5's frequently used block (A440-C67E)."""
    found: set[str] = set()
    for lead in range(0xB0, 0xD8):
        found.update(_chars("gb2312", lead, range(0xA1, 0xFF)))
    for lead in range(0xA4, 0xC7):
        trail = [*range(0x40, 0x7F), *([] if lead == 0xC6 else range(0xA1, 0xFF))]
        found.update(_chars("big5", lead, trail))
    return frozenset(found)


def _chars(codec: str, lead: int, trails: range | list[int]) -> list[str]:
    out = []
    for trail in trails:
        try:
            out.append(bytes((lead, trail)).decode(codec))
        except UnicodeDecodeError:
            continue
    return out
