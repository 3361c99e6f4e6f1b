"""Console recommendations: the evaluation report (what ``auto`` stands for, the
algorithms compared with their intervals, each scenario and its lists), the
similar-items explorer, and a member's lists for the member page; and their JSON
twins under the API. Product ids only: no personal data on these pages.

Lists come from the online tables (the state database: what the API serves now, with
the request-time rules applied); the registry says what ``auto`` stands for; the list
counts and the starting points come from recommend's views of the warehouse's
newest ``recommendations`` snapshot, under the gate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse

from memberlens import online, recommend, registry
from memberlens.accounts import Permission
from memberlens.core.errors import ConfigError
from memberlens.service._deps import LocaleDep, WorkspaceDep
from memberlens.service._problems import Problem
from memberlens.service.console import _i18n
from memberlens.service.console._auth import Viewer, need
from memberlens.service.console._routes import render
from memberlens.workspace import Workspace

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["console"])
Reader = Annotated[Viewer, Depends(need(Permission.DATA_READ))]
ProductArg = Annotated[
    str, Query(max_length=128, description="A product id: the items similar to it.")
]
ScenarioArg = Annotated[
    str, Query(max_length=64, description="An item scenario (default: `similar`, else the first).")
]
# The report's columns, in the order `memberlens recommend evaluate` prints them.
METRICS_SHOWN = ("ndcg", "precision", "recall", "f1", "map", "hit_rate", "coverage",
                 "diversity", "novelty", "personalization")  # fmt: skip
STARTERS = 10  # most-recommended products offered as starting points


@dataclass(frozen=True)
class MemberLists:
    """The member page's section: each member scenario's list as served now."""

    lists: dict[str, dict[str, Any]] = field(default_factory=dict)  # Served.to_json()
    titles: dict[str, str] = field(default_factory=dict)
    problem: str | None = None  # recommend.toml cannot be read


def member_lists(ws: Workspace, member_id: str, locale: str = "en") -> MemberLists:
    """What the API would serve ``member_id`` now in each member scenario (first ``k``
    items; consent, stock and just bought applied), reasons and titles in ``locale``.
    Reads the state database only."""
    try:
        scenarios = ws.scenarios()
    except ConfigError as exc:  # a broken recommend.toml must not hide the member
        return MemberLists(problem=exc.message)
    chosen = {n: s for n, s in scenarios.scenarios.items() if s.anchor == "member"}
    lists = {
        name: online.recommendations_now(
            ws.state,
            scenarios,
            scenario=name,
            member_id=member_id,
            consent=ws.settings.consent,
            locale=locale,
        ).to_json()
        for name in chosen
    }
    return MemberLists(lists, {n: s.title_in(locale) for n, s in chosen.items()})


def _scenarios(ws: Workspace) -> recommend.Scenarios:
    try:
        return ws.scenarios()
    except ConfigError as exc:
        raise Problem(422, "Cannot read the scenarios", exc.message, code=exc.code) from exc


# -- the evaluation report ---------------------------------------------------------------


def _finite(value: Any) -> Any:
    """NaN and infinities as None, in nested dicts and lists too (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _simplest_first(by_name: dict[str, Any]) -> dict[str, Any]:
    """``by_name`` in the catalogue's order (the registry keeps its JSON sorted by key)."""
    order = {name: i for i, name in enumerate(recommend.ALGORITHMS)}
    return dict(sorted(by_name.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


def _clean(answer: dict[str, Any]) -> dict[str, Any]:
    """``answer`` with every NaN or infinity, however deep, as None."""
    return {k: _finite(v) for k, v in answer.items()}


def _registered(ws: Workspace) -> registry.RegisteredModel | None:
    """The production ``recommender`` entry (what ``auto`` stands for), if any."""
    try:
        return registry.get_model(ws.state, recommend.MODEL)
    except registry.ModelNotFoundError:
        return None


def _auto(entry: registry.RegisteredModel | None, locale: str) -> dict[str, Any] | None:
    """Which algorithm ``auto`` stands for, with its settings, and who chose it; its
    ``label`` in ``locale``."""
    if entry is None:
        return None
    metrics = entry.metrics
    algorithm = str(entry.params.get("algorithm", ""))
    evaluation = metrics.get("evaluation") or {}
    if metrics.get("chosen_by") == "evaluate":
        validation, k = (evaluation.get("validation") or {}).get("ndcg"), evaluation.get("k")
    else:
        validation, k = metrics.get("validation_ndcg_at_10"), 10
    return {
        "algorithm": algorithm,
        "version": entry.version,
        "label": _i18n.algorithm_label(f"{algorithm} v{entry.version}", locale),
        "chosen_by": metrics.get("chosen_by"),
        "params": {k: v for k, v in entry.params.items() if k != "algorithm"},
        "created_at": entry.created_at.isoformat() + "Z",
        "training_window_end": (
            entry.training_window_end.isoformat() if entry.training_window_end else None
        ),
        "validation_k": k,
        "validation_ndcg": _simplest_first(validation or {}),
    }


def _evaluation(entry: registry.RegisteredModel | None) -> dict[str, Any] | None:
    """The registered ``memberlens recommend evaluate`` report, one row per algorithm."""
    if entry is None or entry.metrics.get("chosen_by") != "evaluate":
        return None
    report = entry.metrics.get("evaluation")
    if not report:
        return None
    versus = report.get("versus_popularity") or {}
    tuned = (report.get("validation") or {}).get("ndcg") or {}
    rows = [
        {
            "name": name,
            "default": name == report["default"],
            "metrics": {m: s.get(m) for m in METRICS_SHOWN},
            "ci": {m: (s.get("ci") or {}).get(m) for m in METRICS_SHOWN},
            "fit_seconds": s.get("fit_seconds"),
            "params": s.get("params") or {},
            "validation_ndcg": tuned.get(name),
            "versus_popularity": versus.get(name),
        }
        for name, s in _simplest_first(report["algorithms"]).items()
    ]
    return {
        "k": report["k"],
        "split": report.get("split") or {},
        "default": report["default"],
        "metrics": list(METRICS_SHOWN),
        "algorithms": rows,
    }


def _report(request: Request, ws: Workspace, locale: str) -> dict[str, Any]:
    entry = _registered(ws)
    auto = _auto(entry, locale)
    scenarios = _scenarios(ws)
    day, counts = recommend.list_counts(ws.warehouse)
    shown = []
    for name, s in scenarios.scenarios.items():
        lists = counts.get(name, {"member": 0, "fallback": 0, "item": 0, "algorithms": []})
        shown.append(
            {
                "name": name,
                "title": s.title,
                "label": s.title_in(locale),
                "anchor": s.anchor,
                "algorithm": s.algorithm,
                "serves": s.algorithm if s.algorithm != "auto" else auto and auto["label"],
                "k": s.k,
                "mmr_lambda": s.mmr_lambda,
                "novelty_share": s.novelty_share,
                "lists": lists["member"] + lists["fallback"] + lists["item"],
                "member_lists": lists["member"],
                "fallback_lists": lists["fallback"],
                "item_lists": lists["item"],
                "snapshot_algorithms": lists["algorithms"],
            }
        )
    return _clean(
        {
            "auto": auto,
            "evaluation": _evaluation(entry),
            "snapshot_date": day.isoformat() if day else None,
            "scenarios": shown,
        }
    )


@pages.get("/recommendations")
def recommendations_page(request: Request, ws: WorkspaceDep, who: Reader) -> HTMLResponse:
    title = _i18n.translate("recommendations", who.user.locale)
    try:
        data = _report(request, ws, who.user.locale)
    except Problem as exc:
        return render(request, "recommendations.html", who, status=exc.status, title=title,
                      data=None, problem=exc)  # fmt: skip
    return render(request, "recommendations.html", who, title=title, data=data, problem=None)


@api.get(
    "/recommendations",
    summary="What `auto` stands for, the registered evaluation (metrics at k with 95% "
    "intervals, NDCG versus popularity) and each scenario with its lists in the newest "
    "snapshot (console session)",
)
def recommendations_json(
    request: Request, ws: WorkspaceDep, _: Reader, locale: LocaleDep
) -> dict[str, Any]:
    return _report(request, ws, locale)


# -- the similar-items explorer ----------------------------------------------------------


def _similar(
    request: Request, ws: Workspace, product: str, scenario: str, locale: str
) -> dict[str, Any]:
    """The item scenario's list for ``product`` as served now (reasons in ``locale``),
    the product's catalogue facts and the starting points; a :class:`Problem` for a
    wrong scenario."""
    scenarios = _scenarios(ws)
    items = [n for n, s in scenarios.scenarios.items() if s.anchor == "item"]
    if scenario and scenario not in items:
        if scenario in scenarios.scenarios:
            raise Problem(422, "Wrong kind of scenario",
                          f"{scenario} is a member scenario; choose one of: "
                          f"{', '.join(items) or 'none'}", code="SCENARIO_KIND")  # fmt: skip
        raise Problem(404, "Unknown scenario",
                      f"no recommendation scenario {scenario!r}; the item scenarios are: "
                      f"{', '.join(items) or 'none'}", code="UNKNOWN_SCENARIO")  # fmt: skip
    chosen = scenario or ("similar" if "similar" in items else (items[0] if items else None))
    day: Any = None
    starters: list[dict[str, Any]] = []
    facts: dict[str, dict[str, Any]] = {}
    if chosen is not None:
        day, starters = recommend.most_recommended(ws.warehouse, chosen, STARTERS)
        facts = recommend.product_facts(ws.warehouse, [product]) if product else {}
    served = None
    if chosen is not None and product:
        served = online.similar_now(
            ws.state, scenarios, scenario=chosen, product_id=product, k=None, locale=locale
        ).to_json()
    return _clean(
        {
            "scenario": chosen,
            "scenarios": items,
            "titles": {n: scenarios.scenarios[n].title_in(locale) for n in items},
            "product": product or None,
            "anchor": facts.get(product),
            "snapshot_date": day.isoformat() if day else None,
            "starters": starters,
            "similar": served,
        }
    )


@pages.get("/recommendations/similar")
def similar_page(
    request: Request,
    ws: WorkspaceDep,
    who: Reader,
    product: ProductArg = "",
    scenario: ScenarioArg = "",
) -> HTMLResponse:
    title = _i18n.translate("similar_items", who.user.locale)
    try:
        data = _similar(request, ws, product.strip(), scenario.strip(), who.user.locale)
    except Problem as exc:
        empty: dict[str, Any] = {
            "scenario": None,
            "scenarios": [],
            "titles": {},
            "product": product,
            "starters": [],
        }
        return render(
            request, "similar.html", who, status=exc.status, title=title, data=empty, problem=exc
        )
    return render(request, "similar.html", who, title=title, data=data, problem=None)


@api.get(
    "/recommendations/similar",
    summary="An item scenario's list for a product as served now (out-of-stock items "
    "left out), its catalogue facts and the most-recommended products (console session)",
)
def similar_json(
    request: Request,
    ws: WorkspaceDep,
    _: Reader,
    locale: LocaleDep,
    product: ProductArg = "",
    scenario: ScenarioArg = "",
) -> dict[str, Any]:
    return _similar(request, ws, product.strip(), scenario.strip(), locale)


def install(app: FastAPI, api_prefix: str) -> None:
    app.include_router(pages)
    app.include_router(api, prefix=api_prefix + "/console")
