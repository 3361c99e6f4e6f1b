"""The CLV model: BG/NBD for how often, Gamma-Gamma for how much, discounted by month.

Per member (Fader, Hardie & Lee 2005; Fader & Hardie 2013):

- ``p_alive`` — P(alive | x, t_x, T) (FHL 2005, eq. 11);
- ``expected_purchases_30d/90d/365d`` — E[Y(t) | x, t_x, T] (FHL 2005, eq. 10) for t
  of 30, 90 and 365 days in the model's time unit;
- ``expected_order_value`` — E[M | x, m_x] (Fader & Hardie 2013, eq. 5);
- ``clv`` — ``margin · Σ_{m=1..H} E[M] · (E[Y(t_m)] - E[Y(t_{m-1})]) / (1+d)^m`` with
  ``t_m`` = m months (a month = 365.2425/12 days), ``H`` the horizon in months and
  ``d`` the monthly discount rate: purchases expected in month m are valued at the
  expected order value and discounted to today once per month (the discrete form of
  Fader, Hardie & Lee 2005b "RFM and CLV", as in the ``lifetimes`` package);
- ``clv_percentile`` — the share (0–100] of scored members whose CLV is at most this
  member's (ties share the highest rank).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from memberlens.core.errors import InputError
from memberlens.predict._base import FloatArray, as_column
from memberlens.predict._bgnbd import BetaGeoModel
from memberlens.predict._gamma_gamma import GammaGammaModel
from memberlens.predict.contracts import UNIT_DAYS, ClvOptions

ARTIFACT_FORMAT = "memberlens.clv/1"
HORIZON_DAYS = (30, 90, 365)


class ClvModel:
    """A fitted BG/NBD (and, when order values exist, Gamma-Gamma) pair that scores members.

    Examples
    --------
    >>> published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    >>> bg = BetaGeoModel.from_dict({"params": published})
    >>> gg = GammaGammaModel.from_dict({"params": {"p": 6.25, "q": 3.74, "gamma": 15.44}})
    >>> scores = ClvModel(bg, gg).score([2], [30.43], [38.86], [22.35])
    >>> round(float(scores["p_alive"][0]), 3)
    0.727
    """

    def __init__(
        self,
        bgnbd: BetaGeoModel,
        gamma_gamma: GammaGammaModel | None = None,
        options: ClvOptions | None = None,
        *,
        version: str | None = None,
        reference: dict[str, Any] | None = None,
    ) -> None:
        self.bgnbd = bgnbd
        self.gamma_gamma = gamma_gamma
        self.options = options or ClvOptions()
        self.version = version
        # Distributions of the inputs and of the CLV at fitting time (drift compares).
        self.reference = reference or {}

    def units(self, days: float) -> float:
        """``days`` in the model's time unit."""
        return days / UNIT_DAYS[self.options.time_unit]

    def score(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        monetary_value: ArrayLike,
    ) -> dict[str, FloatArray]:
        """Every per-member prediction (module doc) as arrays aligned with the inputs."""
        x = as_column(frequency, "frequency")
        t_x, t_age = as_column(recency, "recency"), as_column(T, "T")
        out: dict[str, FloatArray] = {"p_alive": self.bgnbd.p_alive(x, t_x, t_age)}
        for days in HORIZON_DAYS:
            out[f"expected_purchases_{days}d"] = self.bgnbd.expected_purchases(
                self.units(days), x, t_x, t_age
            )
        if self.gamma_gamma is None:
            nan = np.full(len(x), np.nan)
            out.update(expected_order_value=nan, clv=nan, clv_percentile=nan)
            return out
        value = self.gamma_gamma.expected_order_value(x, monetary_value)
        out["expected_order_value"] = value
        out["clv"] = self._discounted(x, t_x, t_age) * value * self.options.margin
        from scipy.stats import rankdata  # scipy.stats costs half a second to import

        out["clv_percentile"] = 100.0 * rankdata(out["clv"], method="max") / max(len(x), 1)
        return out

    def _discounted(self, x: FloatArray, t_x: FloatArray, t_age: FloatArray) -> FloatArray:
        """Σ_m (E[Y(t_m)] - E[Y(t_{m-1})]) / (1+d)^m: discounted expected purchases."""
        month = self.units(UNIT_DAYS["month"])
        rate = self.options.monthly_discount_rate
        total = np.zeros(len(x))
        before = np.zeros(len(x))
        for m in range(1, self.options.horizon_months + 1):
            upto = self.bgnbd.expected_purchases(m * month, x, t_x, t_age)
            total += (upto - before) / (1.0 + rate) ** m
            before = upto
        return total

    def to_dict(self) -> dict[str, Any]:
        """The artifact: plain JSON, loadable with :meth:`from_dict` (never pickle)."""
        o = self.options
        return {
            "format": ARTIFACT_FORMAT,
            "options": {
                "time_unit": o.time_unit,
                "horizon_months": o.horizon_months,
                "margin": o.margin,
                "monthly_discount_rate": o.monthly_discount_rate,
                "penalizer": o.penalizer,
            },
            "bgnbd": self.bgnbd.to_dict(),
            "gamma_gamma": None if self.gamma_gamma is None else self.gamma_gamma.to_dict(),
            "reference": self.reference,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, version: str | None = None) -> ClvModel:
        if data.get("format") != ARTIFACT_FORMAT:
            raise InputError(
                f"not a CLV model artifact (format {data.get('format')!r}, expected "
                f"{ARTIFACT_FORMAT!r}); refit with `memberlens predict clv`"
            )
        gg = data.get("gamma_gamma")
        return cls(
            BetaGeoModel.from_dict(data["bgnbd"]),
            None if gg is None else GammaGammaModel.from_dict(gg),
            ClvOptions(**data["options"]),
            version=version,
            reference=data.get("reference"),
        )
