"""Tags against hand-computed answers: declared rule tags, interest tags, statistics.

Interest (half-life 30 days; weights purchase 5, add_to_cart 3, favorite 2, view 1),
cut-off 2025-06-01, ages in whole half-lives so every weight is exact:

- Ann (pos/a) bought formula 90 days before (5 × 0.125 = 0.625), put toddler food in
  her cart 30 days before (3 × 0.5 = 1.5) and viewed it 60 days before (1 × 0.25):
  toddler 1.75 / 2.375 = 0.736842…, formula 0.625 / 2.375 = 0.263157…
  At a cut-off one day after the formula purchase, formula is her only interest (1.0).
- Bo (pos/b) viewed snacks 30 days before (share 1.0); his search for toddler food
  counts nothing (search has no weight) and his order 400 days before is outside the
  365-day window.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from memberlens import pipeline, profile
from memberlens.core.errors import ConfigError
from memberlens.workspace import Workspace
from tests.ingest.helpers import run, write

CUTOFF = date(2025, 6, 1)
PRODUCTS = """product_id,source,name,category,price
f1,pos,Formula,formula,120.00
t1,pos,Toddler food,toddler,8.00
s1,pos,Crisps,snacks,3.00
"""
MEMBERS = """source,source_member_key,city,signup_at
pos,a,上海,2024-01-01T00:00:00Z
pos,b,北京,2024-01-01T00:00:00Z
"""
ORDERS = """order_id,source,source_member_key,ordered_at,total_amount
o1,pos,a,2025-03-03T00:00:00Z,120.00
o2,pos,b,2024-04-27T00:00:00Z,3.00
"""
ITEMS = """source,order_id,line_no,product_id,quantity,amount
pos,o1,1,f1,1,120.00
pos,o2,1,s1,1,3.00
"""
EVENTS = """event_id,source,source_member_key,event_type,occurred_at,product_id
e1,pos,a,add_to_cart,2025-05-02T00:00:00Z,t1
e2,pos,a,view,2025-04-02T00:00:00Z,t1
e3,pos,b,view,2025-05-02T00:00:00Z,s1
e4,pos,b,search,2025-05-30T00:00:00Z,t1
"""
TAGS = """
[big]
description = "Spent 100 or more"
category = "value"
owner = "crm"
rule = "monetary >= 100"

[toddler_fan]
description = "Mostly interested in toddler food"
rule = 'interest("toddler", at_least: 0.5)'

[big_toddler]
description = "Both"
rule = "tag.big and tag.toddler_fan"

[shanghai]
description = "Lives in Shanghai"
rule = 'city = "上海"'
"""


def load_tag_base(workspace: Workspace, tmp_path: Path) -> dict[str, str]:
    """Import the base above and write its tags.toml; return member ids by source key."""
    for kind, text in (
        ("products", PRODUCTS),
        ("members", MEMBERS),
        ("orders", ORDERS),
        ("order_items", ITEMS),
        ("events", EVENTS),
    ):
        run(workspace, kind, write(tmp_path / f"{kind}.csv", text))
    (workspace.root / "tags.toml").write_text(TAGS, encoding="utf-8")
    rows = workspace.warehouse.fetch_all("SELECT source_member_key, member_id FROM member_map")
    return dict(rows)


@pytest.fixture
def ids(workspace: Workspace, tmp_path: Path) -> dict[str, str]:
    return load_tag_base(workspace, tmp_path)


def tags_at(ws: Workspace, day: date = CUTOFF) -> dict[tuple[str, str], tuple[str, float]]:
    pipeline.refresh(ws, as_of=day, only=["features", "tiers", "tags"])
    rows = ws.warehouse.fetch_all(
        "SELECT member_id, tag, kind, weight FROM member_tags WHERE snapshot_date = ?", [day]
    )
    return {(m, t): (k, w) for m, t, k, w in rows}


@pytest.mark.slow
def test_rule_tags_select_the_hand_computed_members(
    workspace: Workspace, ids: dict[str, str]
) -> None:
    tagged = tags_at(workspace)
    rules = {key for key, (kind, _) in tagged.items() if kind == "rule"}
    a = ids["a"]
    assert rules == {(a, "big"), (a, "toddler_fan"), (a, "big_toddler"), (a, "shanghai")}
    assert all(w == 1.0 for kind, w in tagged.values() if kind == "rule")


@pytest.mark.slow
def test_interest_weights_decay_and_move(workspace: Workspace, ids: dict[str, str]) -> None:
    a, b = ids["a"], ids["b"]
    now = tags_at(workspace)
    interest = {k: w for k, (kind, w) in now.items() if kind == "interest"}
    assert interest == pytest.approx(
        {
            (a, "interest:toddler"): 1.75 / 2.375,
            (a, "interest:formula"): 0.625 / 2.375,
            (b, "interest:snacks"): 1.0,
        }
    )
    before = tags_at(workspace, date(2025, 3, 4))
    # Bo's snacks order, 311 days before this cut-off, is inside the window now.
    assert {k: w for k, (kind, w) in before.items() if kind == "interest"} == {
        (a, "interest:formula"): 1.0,
        (b, "interest:snacks"): 1.0,
    }
    assert (a, "toddler_fan") not in before


@pytest.mark.slow
def test_min_share_and_top_limit_interest_tags(workspace: Workspace, ids: dict[str, str]) -> None:
    pipeline.refresh(workspace, as_of=CUTOFF, only=["features"])

    def tags_with(**changed: object) -> profile.TagRun:
        return profile.compute_member_tags(
            workspace.warehouse,
            workspace.state,
            cutoff=datetime(2025, 6, 1),
            book=workspace.tag_book(),
            settings=workspace.settings.tags.model_copy(update=changed),
        )

    run_ = tags_with(interest_min_share=0.3)
    assert run_.interest_rows == 2  # Ann's formula share 0.263 < 0.3 is dropped
    run_ = tags_with(interest_min_share=0.0, interest_top=1)
    assert run_.interest_rows == 2 and run_.members_per_tag["big"] == 1


@pytest.mark.slow
def test_a_rerun_replaces_the_snapshot(workspace: Workspace, ids: dict[str, str]) -> None:
    first = tags_at(workspace)
    assert tags_at(workspace) == first
    count = workspace.warehouse.scalar("SELECT count(*) FROM member_tags")
    assert count == len(first)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[t]\ndescription = "x"\nrule = "monetry > 1"\n',
            "tag 't': unknown name 'monetry' at line 1, column 1; did you mean monetary?",
        ),
        (
            '[t]\ndescription = "x"\nrule = "spend_365d > 1 and\\n  tier > 3"\n',
            "line 2, column 3",
        ),
        (
            '[a]\ndescription = "x"\nrule = "tag.b"\n[b]\ndescription = "y"\nrule = "tag.a"\n',
            "tag.a",
        ),
        ('[t]\nrule = "monetary > 1"\n', "needs a description"),
        ('[t]\ndescription = "x"\nrule = "monetary > 1"\ncolour = "red"\n', "unknown field"),
        ('[2t]\ndescription = "x"\nrule = "monetary > 1"\n', "tag name is letters"),
    ],
)
def test_a_bad_tag_book_says_where_and_why(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        profile.check_tag_book(profile.parse_tag_book(text))
    message = str(caught.value)
    assert expected in message, message


@pytest.mark.slow
def test_stats_and_unused_tags(workspace: Workspace, ids: dict[str, str]) -> None:
    tags_at(workspace, date(2025, 5, 1))
    tags_at(workspace)
    profile.record_usage(workspace.state, "segment", {"vip": "tag.shanghai or tag.big"})
    stats = {s.name: s for s in _stats(workspace)}
    big = stats["big"]
    assert (big.members, big.share) == (1, 0.5)
    assert [n for _, n in big.trend] == [1, 1]
    assert big.used_by == ("segment:vip", "tag:big_toddler")
    assert stats["interest:toddler"].kind == "interest"
    assert [d for d, _ in stats["interest:toddler"].trend] == [date(2025, 5, 1), CUTOFF]
    unused = profile.unused_tags(tuple(stats.values()), days=90)
    assert [s.name for s in unused] == ["big_toddler"]


def _stats(ws: Workspace) -> tuple[Any, ...]:
    return profile.tag_stats(ws.warehouse, ws.state, ws.tag_book())


@pytest.mark.slow
def test_tags_commands_answer_as_documented(workspace: Workspace, ids: dict[str, str]) -> None:
    import json

    import jsonschema
    from typer.testing import CliRunner

    from memberlens.cli._app import app
    from tests.cli.test_cli import schemas

    tags_at(workspace)
    root = str(workspace.root)
    workspace.close()  # the commands open the workspace themselves
    docs = schemas()

    def answer(*args: str, schema: str) -> Any:
        done = CliRunner().invoke(app, [*args, "--json", "-w", root])
        assert done.exit_code == 0, done.output
        data = json.loads(done.stdout)
        jsonschema.validate(data, docs[schema])
        return data

    checked = answer("tags", "check", schema="tags-check")
    assert [t["name"] for t in checked["tags"]] == ["big", "toddler_fan", "big_toddler", "shanghai"]
    listed = answer("tags", "list", schema="tags-list")
    assert {t["name"]: t["members"] for t in listed}["big"] == 1
    unused = answer("tags", "unused", schema="tags-list")
    assert sorted(t["name"] for t in unused) == ["big_toddler", "shanghai"]
    (workspace.root / "tags.toml").write_text('[x]\ndescription = "d"\nrule = "tag.x"\n')
    done = CliRunner().invoke(app, ["tags", "check", "-w", root])  # main() prints it
    assert isinstance(done.exception, ConfigError)
    assert "tag.x is defined through itself: tag.x -> tag.x" in str(done.exception)
