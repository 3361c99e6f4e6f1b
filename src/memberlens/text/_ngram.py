"""A linear sentiment model over character n-grams, stored as plain JSON.

TF-IDF of character n-grams of the normalised text (sublinear term frequency, rows
scaled to unit length), then logistic regression. Character n-grams need no word
segmentation, so one model reads Chinese in either script and English alike.

The artifact holds, per n-gram, its idf and its weight, and the intercept: scoring
rebuilds the vectoriser from them, so a registered model loads without pickle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from memberlens.text._script import normalise

KIND = "char-ngram-lr"
_DIGITS = 6  # significant digits kept in the artifact: scores move < 1e-5


@dataclass(frozen=True)
class NgramParams:
    """``ngram``: shortest and longest n-gram; ``c``: inverse regularisation strength;
    ``min_df``: documents an n-gram must occur in to be kept."""

    ngram: tuple[int, int] = (1, 3)
    c: float = 4.0
    min_df: int = 1

    def to_json(self) -> dict[str, Any]:
        return {"ngram": list(self.ngram), "c": self.c, "min_df": self.min_df}


class NgramModel:
    """P(positive | text) from character n-grams; ``fit`` or ``from_artifact``."""

    def __init__(self, params: NgramParams, vectorizer: Any, weights: np.ndarray, bias: float):
        self.params, self._vectorizer = params, vectorizer
        self._weights, self._bias = weights, bias

    @classmethod
    def fit(
        cls, texts: Sequence[str], labels: Sequence[int], params: NgramParams | None = None
    ) -> NgramModel:
        from sklearn.linear_model import LogisticRegression

        params = params or NgramParams()
        vectorizer = _vectorizer(params)
        x = vectorizer.fit_transform([normalise(t) for t in texts])
        y = np.asarray(labels, dtype=np.int8)
        if len(np.unique(y)) < 2:
            raise ValueError("training needs both positive and negative examples")
        fitted = LogisticRegression(C=params.c, max_iter=5000).fit(x, y)
        return cls(params, vectorizer, fitted.coef_.ravel(), float(fitted.intercept_[0]))

    def positive(self, texts: Sequence[str]) -> np.ndarray:
        """P(positive) for each text."""
        x = self._vectorizer.transform([normalise(t) for t in texts])
        logit = np.asarray(x @ self._weights + self._bias, dtype=np.float64)
        positive: np.ndarray = 1.0 / (1.0 + np.exp(-logit))
        return positive

    def to_artifact(self) -> dict[str, Any]:
        vocabulary = self._vectorizer.vocabulary_
        terms = sorted(vocabulary, key=vocabulary.__getitem__)
        idf = self._vectorizer.idf_
        return {
            "kind": KIND,
            "params": self.params.to_json(),
            "intercept": _round(self._bias),
            "terms": {t: [_round(idf[i]), _round(self._weights[i])] for i, t in enumerate(terms)},
        }

    @classmethod
    def from_artifact(cls, artifact: dict[str, Any]) -> NgramModel:
        if artifact.get("kind") != KIND:
            raise ValueError(f"not a {KIND} model: {artifact.get('kind')!r}")
        raw = artifact["params"]
        low, high = (int(n) for n in raw["ngram"])
        params = NgramParams((low, high), float(raw["c"]), int(raw["min_df"]))
        terms = artifact["terms"]
        vectorizer = _vectorizer(params, vocabulary={t: i for i, t in enumerate(terms)})
        values = np.asarray(list(terms.values()), dtype=np.float64).reshape(-1, 2)
        vectorizer.idf_ = values[:, 0]
        return cls(params, vectorizer, values[:, 1], float(artifact["intercept"]))


def _vectorizer(params: NgramParams, vocabulary: dict[str, int] | None = None) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        analyzer="char",
        ngram_range=params.ngram,
        min_df=params.min_df if vocabulary is None else 1,
        sublinear_tf=True,
        lowercase=False,  # normalise() did it
        vocabulary=vocabulary,
        dtype=np.float64,
    )


def _round(value: float) -> float:
    return float(f"{value:.{_DIGITS}g}")
