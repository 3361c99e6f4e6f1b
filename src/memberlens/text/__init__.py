"""Text: sentiment, pain points and surveys from members' feedback (docs/text.md).

Chinese (Simplified and Traditional, normalised to Simplified) and English. A
built-in sentiment model works with nothing to download; ``train`` fits one on a
business's own labelled feedback, kept in the model registry as ``sentiment``.
"""

from memberlens.text._aspects import (
    DEFAULT_ASPECTS,
    Aspect,
    AspectSummary,
    Quote,
    aspect_sentiment,
    default_aspects_text,
    load_aspects,
    per_text_aspects,
)
from memberlens.text._builtin import BUILTIN_PARAMS
from memberlens.text._labelled import Labelled, label_of, read_labelled
from memberlens.text._models import SENTIMENT_MODEL, load_model, production_model, register_trained
from memberlens.text._ngram import NgramParams
from memberlens.text._report import feedback_report
from memberlens.text._script import language, normalise, to_simplified
from memberlens.text._sentiment import (
    BUILTIN,
    SentimentModel,
    builtin_model,
    cross_validate,
    scores,
    train,
)
from memberlens.text._signals import signal_detectors
from memberlens.text._step import TABLE as INSIGHTS_TABLE
from memberlens.text._step import InsightOptions, compute_insights

__all__ = [
    "BUILTIN",
    "BUILTIN_PARAMS",
    "DEFAULT_ASPECTS",
    "INSIGHTS_TABLE",
    "SENTIMENT_MODEL",
    "Aspect",
    "AspectSummary",
    "InsightOptions",
    "Labelled",
    "NgramParams",
    "Quote",
    "SentimentModel",
    "aspect_sentiment",
    "builtin_model",
    "compute_insights",
    "cross_validate",
    "default_aspects_text",
    "feedback_report",
    "label_of",
    "language",
    "load_aspects",
    "load_model",
    "normalise",
    "per_text_aspects",
    "production_model",
    "read_labelled",
    "register_trained",
    "scores",
    "signal_detectors",
    "to_simplified",
    "train",
]
