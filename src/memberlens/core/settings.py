"""One typed settings tree: ``memberlens.toml`` overridden by ``MEMBERLENS_*`` variables.

Nested settings use a double underscore in the environment, e.g.
``MEMBERLENS_WAREHOUSE__MEMORY_LIMIT=4GB`` overrides ``[warehouse] memory_limit``.
"""

from __future__ import annotations

import itertools
import os
import re
import tomllib
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from memberlens.core.errors import ConfigError, WorkspaceError

CONFIG_FILE = "memberlens.toml"


class WorkspaceSettings(BaseModel):
    id: str = Field("", description="Random id of this workspace; names its key file.")
    name: str = Field("memberlens", description="Display name.")
    default_timezone: str = Field(
        "Asia/Shanghai",
        description=(
            "Time zone for naive timestamps in source files, and the one the console "
            "shows every time in (named beside it)."
        ),
    )
    currency: str = Field(
        "CNY",
        pattern=r"^[A-Z]{3}$",
        description="ISO 4217 code of the money in the data; the console shows its sign (¥).",
    )


class WarehouseSettings(BaseModel):
    engine: Literal["duckdb"] = Field("duckdb", description="Analytical engine.")
    path: str = Field("data/warehouse.duckdb", description="DuckDB file, relative to workspace.")
    memory_limit: str = Field("", description="DuckDB memory_limit, e.g. 8GB; empty = default.")
    threads: int = Field(0, description="DuckDB threads; 0 = all cores.")


class StateSettings(BaseModel):
    url: str = Field(
        "", description="SQLAlchemy URL; empty = sqlite at data/state.db in the workspace."
    )


class PrivacySettings(BaseModel):
    key_file: str = Field(
        "",
        description=(
            "Key ring file, outside the workspace. Empty = "
            "~/.config/memberlens/keys/<workspace id>.json. MEMBERLENS_KEYS overrides it."
        ),
    )


class ServerSettings(BaseModel):
    rate_per_token: float = Field(100.0, description="API requests a second per token.")
    burst: int = Field(200, description="Requests a token may send at once above its rate.")
    flush_interval_seconds: float = Field(
        2.0, description="How often the job runner flushes the ingest buffer."
    )
    console_wait_seconds: float = Field(
        5.0,
        gt=0,
        description="Seconds a console page waits for the warehouse while a job holds it.",
    )
    threads: int = Field(
        16,
        ge=1,
        le=256,
        description="Threads that run request handlers; requests beyond them queue in order.",
    )


def _as_of_setting(value: str) -> str:
    if value in ("now", "data"):
        return value
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError(f'\'{value}\' is not "now", "data" or a date YYYY-MM-DD') from None
    return value


class RefreshSettings(BaseModel):
    """The workspace's clock: the day a refresh sees data before (docs/configuration.md)."""

    as_of: Annotated[str, AfterValidator(_as_of_setting)] = Field(
        "data",
        description=(
            '"data": the day after the newest order or event (for historical files and '
            'live shops alike); "now": the current time; or a fixed date YYYY-MM-DD. '
            "`refresh --as-of` overrides it for one run."
        ),
    )
    stale_after_days: int = Field(
        30,
        ge=1,
        le=3650,
        description=(
            "Warn when the newest order or event is more than this many days older than "
            "the as-of (members would look lapsed)."
        ),
    )


class JobsSettings(BaseModel):
    refresh_at: str = Field(
        "",
        pattern=r"^$|^([01]\d|2[0-3]):[0-5]\d$",
        description="Daily refresh time HH:MM in the workspace time zone; empty = none.",
    )
    watch_folder: str = Field(
        "",
        description=(
            "Folder (relative to the workspace) watched for files to import, one "
            "subfolder per kind (inbox/orders/...); empty = no watching."
        ),
    )
    watch_interval_seconds: float = Field(30.0, gt=0, description="How often to look.")
    presets: dict[str, str] = Field(
        default_factory=dict,
        description=(
            'Preset per kind for watched files, e.g. {orders = "cdnow"}; a '
            "mapping.toml in the kind's folder wins."
        ),
    )


class IdentitySettings(BaseModel):
    max_records_per_identifier: int = Field(
        10,
        ge=2,
        description=(
            "An identifier shared by more source records than this (a shop's phone, a "
            "test e-mail) is flagged and not used for matching."
        ),
    )
    source_priority: list[str] = Field(
        default_factory=list,
        description=(
            "Sources in order of trust for a merged member's attributes (first wins); "
            "unlisted sources come after; ties go to the most recent record."
        ),
    )


ConsentDefault = Literal["opt_in", "opt_out"]
ConsentPurpose = Literal["marketing", "personalisation", "analytics", "profiling"]


def _per_channel() -> list[ConsentPurpose]:
    return ["marketing"]


class ConsentSettings(BaseModel):
    marketing: ConsentDefault = Field(
        "opt_in", description="Marketing: not allowed until the member grants it."
    )
    personalisation: ConsentDefault = Field(
        "opt_out", description="Personalisation: allowed until the member refuses it."
    )
    analytics: ConsentDefault = Field(
        "opt_out", description="Analytics: allowed until the member refuses it."
    )
    profiling: ConsentDefault = Field(
        "opt_in", description="Profiling (automated decisions): not allowed until granted."
    )
    per_channel: list[ConsentPurpose] = Field(
        default_factory=_per_channel,
        description="Purposes decided per channel; the others are decided once, on channel *.",
    )


class TierLevel(BaseModel):
    """One rung of the tier ladder: reached when the qualifying metric is >= threshold."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=32, description="Tier name shown to people.")
    threshold: Decimal = Field(ge=0, description="Qualifying value that reaches this tier.")


def _ladder() -> list[TierLevel]:
    return [
        TierLevel(name="Silver", threshold=Decimal(0)),
        TierLevel(name="Gold", threshold=Decimal(2000)),
        TierLevel(name="Platinum", threshold=Decimal(8000)),
    ]


def _new_year() -> list[str]:
    return ["01-01"]


class TiersSettings(BaseModel):
    """The tier ladder (docs/tiers-and-points.md)."""

    metric: Literal["spend_365d", "points_365d"] = Field(
        "spend_365d",
        description="What qualifies: spend or points earned in the 365 days before the date.",
    )
    levels: list[TierLevel] = Field(
        default_factory=_ladder,
        description="The ladder, lowest first, thresholds strictly rising; empty = no tiers.",
    )
    evaluation: Literal["fixed", "anniversary"] = Field(
        "fixed",
        description=(
            "When a member may move down: on evaluation_dates every year (fixed), or on "
            "each anniversary of the day the member reached the current tier."
        ),
    )
    evaluation_dates: list[str] = Field(
        default_factory=_new_year, description="MM-DD days of the year for fixed evaluation."
    )
    max_steps_down: int = Field(
        1, ge=0, description="Steps a member may fall per evaluation date; 0 = never down."
    )

    @model_validator(mode="after")
    def _check(self) -> TiersSettings:
        names = [level.name for level in self.levels]
        if len(set(names)) != len(names):
            raise ValueError(f"tier names must be unique (got {names})")
        limits = [level.threshold for level in self.levels]
        if any(b <= a for a, b in itertools.pairwise(limits)):
            raise ValueError("tier thresholds must rise strictly from the lowest tier up")
        for day in self.evaluation_dates:
            _month_day(day)
        return self


def _month_day(text: str) -> tuple[int, int]:
    """Parse MM-DD; 02-29 is refused because most years have no such day."""
    try:
        moment = datetime.strptime(f"2001-{text}", "%Y-%m-%d")
    except ValueError:
        raise ValueError(f"evaluation date {text!r} is not MM-DD (e.g. 01-01)") from None
    return moment.month, moment.day


def _actions() -> dict[str, int]:
    return {"review": 10, "share": 5}


class PointsSettings(BaseModel):
    """Points: earning, actions and expiry (docs/tiers-and-points.md)."""

    per_currency_unit: Decimal = Field(
        Decimal(1), ge=0, description="Points per currency unit paid; rounded down per order."
    )
    actions: dict[str, int] = Field(
        default_factory=_actions,
        description=(
            "Points per action: review = a feedback row of kind review; any other name "
            "is an event_type (e.g. share)."
        ),
    )
    expire_after_months: int = Field(
        12, ge=0, description="Months after earning before points expire; 0 = never."
    )
    expire_at: Literal["day", "month_end", "year_end"] = Field(
        "year_end",
        description="Round the expiry up to the end of that day, month or year.",
    )
    expiring_signal_days: int = Field(
        30, ge=1, description="points_expiring is signalled this many days before expiry."
    )


def _interest_weights() -> dict[str, float]:
    return {"purchase": 5.0, "add_to_cart": 3.0, "favorite": 2.0, "view": 1.0}


class TagsSettings(BaseModel):
    """Tags: where they are declared, and how interest tags weigh behaviour (docs/tags.md)."""

    file: str = Field(
        "tags.toml", description="The tag definitions, relative to the workspace folder."
    )
    interest_half_life_days: float = Field(
        30.0, gt=0, description="An interaction counts half as much after this many days."
    )
    interest_weights: dict[str, float] = Field(
        default_factory=_interest_weights,
        description=(
            "Weight per interaction: purchase = an order line; any other name is an "
            "event_type of events that name a product. Types not listed count nothing."
        ),
    )
    interest_window_days: int = Field(
        365, ge=1, description="Only interactions in this many days before the refresh."
    )
    interest_min_share: float = Field(
        0.1,
        ge=0,
        le=1,
        description="A category becomes an interest tag at this share of the member's weight.",
    )
    interest_top: int = Field(5, ge=1, description="At most this many interest tags per member.")

    @model_validator(mode="after")
    def _weights_valid(self) -> TagsSettings:
        bad = [k for k, v in self.interest_weights.items() if v < 0]
        if bad:
            raise ValueError(f"interest_weights must not be negative: {', '.join(bad)}")
        return self


def _lifecycle_rules() -> dict[str, str]:
    return {
        "new": "tenure_days <= 90 and frequency <= 1",
        "lapsed": "recency_days > 365 or (frequency = 0 and tenure_days > 365)",
        "at_risk": (
            "recency_days > 90 and (interval_mean_days is null or "
            "recency_days > 2 * interval_mean_days) or (frequency = 0 and tenure_days > 90)"
        ),
        "mature": "frequency >= 4 and tenure_days >= 365",
        "growing": "true",
    }


def _cluster_features() -> list[str]:
    return [
        "recency_days",
        "frequency",
        "monetary",
        "avg_order_value",
        "coupon_share",
        "active_days_90d",
        "favourite_category_share",
    ]


class SegmentsSettings(BaseModel):
    """Segmentation: RFM scoring and lifecycle stages (docs/segments.md)."""

    rfm_bins: int = Field(
        5, ge=2, le=10, description="Score bins for recency, frequency and monetary."
    )
    lifecycle: dict[str, str] = Field(
        default_factory=_lifecycle_rules,
        description=(
            "Lifecycle stages in order, each a rule; a member is in the first stage whose "
            "rule is true, else in none."
        ),
    )

    cluster_features: list[str] = Field(
        default_factory=_cluster_features,
        description="Member features K-Means clusters on (numbers; standardised first).",
    )
    cluster_k_min: int = Field(2, ge=2, le=30, description="Fewest clusters tried.")
    cluster_k_max: int = Field(8, ge=2, le=30, description="Most clusters tried.")
    cluster_seed: int = Field(7, description="Seed of K-Means and of the silhouette sample.")
    webhooks: dict[str, str] = Field(
        default_factory=dict,
        description="Saved segment -> URL that receives its changes after every refresh.",
    )
    webhook_secret: SecretStr = Field(
        SecretStr(""),
        description="HMAC key that signs webhook bodies; set it through the environment.",
    )
    webhook_attempts: int = Field(3, ge=1, le=10, description="Tries per delivery.")
    webhook_backoff_seconds: float = Field(
        1.0, ge=0, le=60, description="Wait before the first retry; doubled each time."
    )

    @model_validator(mode="after")
    def _stages_named(self) -> SegmentsSettings:
        bad = [k for k in self.lifecycle if not k.isidentifier()]
        if bad:
            raise ValueError(
                f"lifecycle stage names must be letters, digits and _: {', '.join(bad)}"
            )
        if self.cluster_k_min > self.cluster_k_max:
            raise ValueError("cluster_k_min must not exceed cluster_k_max")
        return self


class PredictSettings(BaseModel):
    """Predictions: churn training, risk bands, alerts and drift (docs/predictions.md)."""

    churn_horizon_days: int | None = Field(
        None,
        ge=1,
        le=730,
        description=(
            "Churn = no purchase within this many days; unset: the 90th percentile of "
            "the gaps between members' purchase days. A member who has not bought for "
            "longer has lapsed."
        ),
    )
    churn_cutoffs: int = Field(
        4, ge=2, le=24, description="Training cut-offs (the latest one validates)."
    )
    churn_step_days: int = Field(30, ge=1, le=365, description="Days between training cut-offs.")
    churn_bands: tuple[float, float] = Field(
        (0.4, 0.7),
        description="Risk from which a member is in the medium and the high band.",
    )
    churn_alert: float = Field(
        0.7,
        gt=0,
        lt=1,
        description="Churn risk whose crossing (from below) emits churn_risk_crossed.",
    )
    drift_threshold: float = Field(
        0.2,
        gt=0,
        description="PSI above which a model is flagged and the next refresh retrains it.",
    )

    @model_validator(mode="after")
    def _bands_ordered(self) -> PredictSettings:
        low, high = self.churn_bands
        if not 0 < low < high < 1:
            raise ValueError("churn_bands must be two risks with 0 < medium < high < 1")
        return self


_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}  # fmt: skip
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]I?B|B)?\s*$", re.IGNORECASE)


def parse_bytes(text: str) -> int:
    """A size such as ``4GB``, ``512MB``, ``1.5GiB`` or ``1000000`` (bytes), in bytes.

    >>> parse_bytes("4GB"), parse_bytes("1.5 GiB"), parse_bytes("2048")
    (4000000000, 1610612736, 2048)
    """
    found = _SIZE.match(text)
    if not found:
        raise ValueError(f"{text!r} is not a size; write it like 4GB, 512MB or 1.5GiB")
    number, unit = found.groups()
    return int(float(number) * _UNITS[(unit or "").upper()])


def machine_memory() -> int:
    """Bytes of memory this process may use: the machine's, or its control group's
    limit when that is lower."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    limit = Path("/sys/fs/cgroup/memory.max")
    try:
        text = limit.read_text(encoding="ascii").strip()
    except OSError:
        return int(total)
    return int(min(total, int(text))) if text.isdigit() else int(total)


class RecommendSettings(BaseModel):
    """Recommendations: where the scenarios are declared, and how much memory one
    algorithm may take (docs/recommendations.md)."""

    file: str = Field(
        "recommend.toml",
        description="The recommendation scenarios and their rules, relative to the workspace.",
    )
    memory_budget: str = Field(
        "",
        description="Most memory one algorithm may need in `recommend evaluate` and in the "
        "refresh, e.g. 4GB or 512MB; one whose estimate is above it is skipped, with the "
        "reason in the report. Empty = a quarter of the machine's memory.",
    )

    @model_validator(mode="after")
    def _size(self) -> RecommendSettings:
        if self.memory_budget.strip():
            parse_bytes(self.memory_budget)
        return self

    def budget_bytes(self) -> int:
        """The memory budget in bytes (a quarter of the machine's memory by default)."""
        if self.memory_budget.strip():
            return parse_bytes(self.memory_budget)
        return machine_memory() // 4


class TextSettings(BaseModel):
    """Feedback text analytics (docs/text.md)."""

    aspects_file: str = Field(
        "aspects.toml",
        description="The aspect lexicon (delivery, taste, service…), relative to the workspace.",
    )
    neutral_band: float = Field(
        0.2,
        ge=0,
        lt=1,
        description="Sentiment scores (-1…1) closer to 0 than this are labelled neutral.",
    )
    complaint_below: float = Field(
        -0.7,
        ge=-1,
        le=1,
        description="Feedback of another kind whose sentiment is below this counts as a "
        "complaint too (kind complaint always does).",
    )
    complaint_signal_days: int = Field(
        7,
        ge=1,
        le=365,
        description="A complaint emits complaint_received when it is at most this many days "
        "old at the refresh (older ones, e.g. a first import's history, do not).",
    )


class Settings(BaseSettings):
    """The whole settings tree of one workspace."""

    model_config = SettingsConfigDict(
        env_prefix="MEMBERLENS_", env_nested_delimiter="__", extra="forbid"
    )

    workspace: WorkspaceSettings = WorkspaceSettings()
    warehouse: WarehouseSettings = WarehouseSettings()
    state: StateSettings = StateSettings()
    privacy: PrivacySettings = PrivacySettings()
    server: ServerSettings = ServerSettings()
    jobs: JobsSettings = JobsSettings()
    refresh: RefreshSettings = RefreshSettings()
    consent: ConsentSettings = ConsentSettings()
    identity: IdentitySettings = IdentitySettings()
    tiers: TiersSettings = TiersSettings()
    points: PointsSettings = PointsSettings()
    tags: TagsSettings = TagsSettings()
    segments: SegmentsSettings = SegmentsSettings()
    predict: PredictSettings = PredictSettings()
    recommend: RecommendSettings = RecommendSettings()
    text: TextSettings = TextSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment wins over the file (passed as init values), as documented.
        return (env_settings, init_settings)


def load_settings(workspace: Path) -> Settings:
    """Read ``workspace/memberlens.toml`` and apply ``MEMBERLENS_*`` overrides."""
    config = workspace / CONFIG_FILE
    if not config.is_file():
        raise WorkspaceError(
            f"{workspace} is not a memberlens workspace (no {CONFIG_FILE}); "
            f"create one with `memberlens init {workspace}` or pass --workspace DIR"
        )
    try:
        data: dict[str, Any] = tomllib.loads(config.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config}: {exc}; fix the TOML syntax") from exc
    try:
        return Settings(**data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"{config}: setting '{where}': {first['msg']}; "
            f"see docs/configuration.md for the valid settings"
        ) from exc
