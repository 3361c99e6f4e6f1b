"""Scenarios from ``recommend.toml``: where a list is shown, how it is made, its rules.

A *member* scenario (home page, cross-sell, e-mail) has one list per member; an
*item* scenario (similar items) has one list per product. Every scenario names its
algorithm (``"auto"``: the one chosen on a validation split) and the rules that shape
its lists: bought items dropped unless their category is repurchasable, excluded
categories, a price band, pinned and boosted editor picks, maximal-marginal-relevance
diversity (``mmr_lambda``) and a novelty share. A missing file means the shipped
defaults (the template ``memberlens init`` writes).
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from memberlens.core import i18n
from memberlens.core.errors import ConfigError

TEMPLATE = "recommend.toml.template"
AUTO = "auto"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Defaults(_Strict):
    half_life_days: float = Field(90.0, ge=0, description="0: no decay")
    candidates: int = Field(40, ge=1, le=500)
    repurchasable: tuple[str, ...] = ()
    exclude_categories: tuple[str, ...] = ()
    # a city's or region's fallback list needs this many members with interactions
    min_audience: int = Field(20, ge=1)


class Scenario(_Strict):
    name: str = ""
    title: str = ""
    title_zh: str = ""  # the title in Chinese; unset: the catalogue's for a shipped name
    anchor: Literal["member", "item"] = "member"
    algorithm: str = AUTO
    k: int = Field(10, ge=1, le=200)
    mmr_lambda: float = Field(1.0, ge=0, le=1)
    novelty_share: float = Field(0.0, ge=0, le=1)
    price_min: float | None = Field(None, ge=0)
    price_max: float | None = Field(None, ge=0)
    pins: tuple[str, ...] = ()
    boosts: dict[str, float] = Field(default_factory=dict)
    # per-scenario overrides of [defaults]
    repurchasable: tuple[str, ...] | None = None
    exclude_categories: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _band(self) -> Scenario:
        low, high = self.price_min, self.price_max
        if low is not None and high is not None and low > high:
            raise ValueError(f"price_min {low} is above price_max {high}")
        if any(v <= 0 for v in self.boosts.values()):
            raise ValueError("boosts multiply scores: give each a factor above 0 (1.5 = +50%)")
        return self

    def title_in(self, locale: str) -> str:
        """What people read for this scenario in ``locale``: in Chinese its ``title_zh``,
        else the catalogue's words for a shipped scenario whose title is unchanged,
        else its title; in English its title.

        >>> Scenario(name="home", title="Home page").title_in("zh-CN")
        '首页推荐'
        >>> Scenario(name="home", title="Our picks").title_in("zh-CN")
        'Our picks'
        """
        if i18n.locale_of(locale) != "zh-CN":
            return self.title
        if self.title_zh:
            return self.title_zh
        shipped = i18n.has_label("scenario", self.name)
        if shipped and self.title in ("", i18n.label("scenario", self.name, "en")):
            return i18n.label("scenario", self.name, locale)
        return self.title


class Scenarios(_Strict):
    defaults: Defaults = Defaults()
    scenarios: dict[str, Scenario] = Field(default_factory=dict)
    origin: str = ""

    def get(self, name: str) -> Scenario:
        try:
            return self.scenarios[name]
        except KeyError:
            known = ", ".join(self.scenarios) or "none"
            raise ConfigError(
                f"no recommendation scenario {name!r} in {self.origin or 'recommend.toml'}; "
                f"the scenarios are: {known}"
            ) from None

    def repurchasable(self, scenario: Scenario) -> frozenset[str]:
        chosen = scenario.repurchasable
        return frozenset(self.defaults.repurchasable if chosen is None else chosen)

    def excluded(self, scenario: Scenario) -> frozenset[str]:
        chosen = scenario.exclude_categories
        return frozenset(self.defaults.exclude_categories if chosen is None else chosen)


def default_scenarios_text() -> str:
    return resources.files("memberlens.recommend").joinpath(TEMPLATE).read_text(encoding="utf-8")


def parse_scenarios(text: str, *, origin: str = "recommend.toml") -> Scenarios:
    """Scenarios from TOML text; a clear :class:`ConfigError` says what is wrong where."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: not valid TOML ({exc}); fix the line it names") from exc
    unknown = sorted(set(raw) - {"defaults", "scenarios"})
    if unknown:
        raise ConfigError(
            f"{origin}: unknown table {', '.join(unknown)}; use [defaults] and [scenarios.NAME]"
        )
    scenarios = raw.get("scenarios", {})
    try:
        return Scenarios(
            defaults=Defaults(**raw.get("defaults", {})),
            scenarios={name: Scenario(name=name, **body) for name, body in scenarios.items()},
            origin=origin,
        )
    except (ValidationError, TypeError) as exc:
        raise ConfigError(f"{origin}: {_first_problem(exc)}") from exc


def _first_problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        return f"{where}: {error['msg']}" if where else str(error["msg"])
    return str(exc)


def load_scenarios(path: Path) -> Scenarios:
    """The scenarios declared at ``path``, or the shipped defaults when there is none."""
    if not path.is_file():
        return parse_scenarios(default_scenarios_text(), origin=f"{path} (shipped defaults)")
    return parse_scenarios(path.read_text(encoding="utf-8"), origin=str(path))
