"""BG/NBD and Gamma-Gamma as estimators: known truths, hand computations, contracts."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import special

from memberlens.core.errors import InputError
from memberlens.predict import (
    BetaGeoModel,
    ClvModel,
    ClvOptions,
    GammaGammaModel,
    NotFittedError,
)
from memberlens.predict._bgnbd import bgnbd_loglik
from memberlens.predict._gamma_gamma import gamma_gamma_loglik

TRUTH = {"r": 2.0, "alpha": 5.5, "a": 0.8, "b": 6.0}


def simulate_bgnbd(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BG/NBD histories (FHL 2005, assumptions i–v): Poisson buying, dropout after repeats."""
    rng = np.random.default_rng(seed)
    t_age = rng.uniform(20, 104, n)
    lam = rng.gamma(TRUTH["r"], 1 / TRUTH["alpha"], n)
    drop = rng.beta(TRUTH["a"], TRUTH["b"], n)
    arrivals = rng.poisson(lam * t_age)
    x = np.minimum(arrivals, rng.geometric(drop))
    # The x-th of `arrivals` uniform times on [0, T]: T · Beta(x, arrivals - x + 1).
    t_x = np.where(x > 0, t_age * rng.beta(np.maximum(x, 1), arrivals - x + 1), 0.0)
    return x.astype(float), t_x, t_age


def test_bgnbd_recovers_a_known_truth() -> None:
    x, t_x, t_age = simulate_bgnbd(20_000, seed=3)
    model = BetaGeoModel().fit(x, t_x, t_age)
    assert model.params_ is not None and model.confidence_intervals_ is not None
    for name, value in TRUTH.items():
        low, high = model.confidence_intervals_[name]
        assert low < value < high or model.params_[name] == pytest.approx(value, rel=0.1), name


def test_gamma_gamma_recovers_a_known_truth() -> None:
    rng = np.random.default_rng(5)
    p, q, gamma = 6.0, 4.0, 75.0
    x = rng.integers(1, 12, 20_000)
    nu = rng.gamma(q, 1 / gamma, len(x))
    # The mean of x Gamma(p, ν) values is Gamma(p·x, ν·x).
    m = rng.gamma(p * x, 1 / (nu * x))
    model = GammaGammaModel().fit(x, m)
    assert model.params_ is not None
    mean = model.params_["p"] * model.params_["gamma"] / (model.params_["q"] - 1)
    assert mean == pytest.approx(p * gamma / (q - 1), rel=0.03)
    for name, value in {"p": p, "q": q, "gamma": gamma}.items():
        assert model.params_[name] == pytest.approx(value, rel=0.1), name


@pytest.mark.parametrize(
    ("loglik", "theta", "data"),
    [
        (
            bgnbd_loglik,
            np.log([0.7, 3.0, 0.9, 2.5]),
            (np.array([0.0, 1, 4, 9]), np.array([0.0, 5, 20, 30]), np.array([10.0, 30, 35, 31])),
        ),
        (
            gamma_gamma_loglik,
            np.log([5.0, 3.0, 12.0]),
            (np.array([1.0, 2, 6]), np.array([9.0, 30, 22])),
        ),
    ],
)
def test_analytic_gradients_match_finite_differences(loglik, theta, data) -> None:  # type: ignore[no-untyped-def]
    weights = np.arange(1.0, len(data[0]) + 1)
    _, grad = loglik(theta, data, weights)
    for k in range(len(theta)):
        step = np.zeros_like(theta)
        step[k] = 1e-6
        numeric = (
            loglik(theta + step, data, weights)[0] - loglik(theta - step, data, weights)[0]
        ) / 2e-6
        assert grad[k] == pytest.approx(numeric, rel=1e-5, abs=1e-6)


def test_one_member_by_hand() -> None:
    """FHL 2005 eq. 6 for one member, written out term by term."""
    r, alpha, a, b = 0.5, 4.0, 0.9, 2.0
    x, t_x, t_age = 2.0, 10.0, 20.0
    a1 = special.gamma(r + x) * alpha**r / special.gamma(r)
    a2 = special.beta(a, b + x) / special.beta(a, b)
    a3 = (alpha + t_age) ** -(r + x)
    a4 = a / (b + x - 1) * (alpha + t_x) ** -(r + x)
    ll, _ = bgnbd_loglik(
        np.log([r, alpha, a, b]), (np.array([x]), np.array([t_x]), np.array([t_age])), np.ones(1)
    )
    assert ll == pytest.approx(np.log(a1 * a2 * (a3 + a4)), rel=1e-12)
    model = BetaGeoModel.from_dict({"params": {"r": r, "alpha": alpha, "a": a, "b": b}})
    assert model.p_alive(x, t_x, t_age)[0] == pytest.approx(a3 / (a3 + a4), rel=1e-12)
    assert model.p_alive(0, 0, t_age)[0] == 1.0  # no repeat purchase: alive by assumption
    assert model.expected_purchases(0.0, x, t_x, t_age)[0] == pytest.approx(0.0, abs=1e-12)


def test_clv_is_the_discounted_sum_of_monthly_purchases_times_value() -> None:
    bg = BetaGeoModel.from_dict({"params": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}})
    gg = GammaGammaModel.from_dict({"params": {"p": 6.25, "q": 3.74, "gamma": 15.44}})
    options = ClvOptions(horizon_months=2, margin=0.3, monthly_discount_rate=0.05)
    clv = ClvModel(bg, gg, options)
    x, t_x, t_age, m = (
        np.array([3.0, 0.0]),
        np.array([30.0, 0.0]),
        np.array([38.0, 38.0]),
        np.array([40.0, 0.0]),
    )
    month = 365.2425 / 12 / 7
    one, two = (bg.expected_purchases(k * month, x, t_x, t_age) for k in (1, 2))
    value = (15.44 + m * x) * 6.25 / (6.25 * x + 3.74 - 1)
    expected = 0.3 * value * (one / 1.05 + (two - one) / 1.05**2)
    scores = clv.score(x, t_x, t_age, m)
    np.testing.assert_allclose(scores["clv"], expected, rtol=1e-12)
    np.testing.assert_allclose(scores["expected_order_value"], value, rtol=1e-12)
    assert value[1] == pytest.approx(6.25 * 15.44 / 2.74)  # no repeats: the population mean
    assert list(scores["clv_percentile"]) == [100.0, 50.0]
    np.testing.assert_allclose(
        scores["expected_purchases_30d"], bg.expected_purchases(30 / 7, x, t_x, t_age)
    )


def test_not_fitted_and_bad_inputs_say_what_to_do() -> None:
    with pytest.raises(NotFittedError, match="not fitted yet — call fit first"):
        BetaGeoModel().p_alive([1], [2], [3])
    with pytest.raises(NotFittedError):
        GammaGammaModel().expected_order_value([1], [2.0])
    with pytest.raises(InputError, match="recency exceeds T"):
        BetaGeoModel().fit([1, 2, 0, 1], [5, 6, 0, 9], [4, 10, 10, 10])
    with pytest.raises(InputError, match="whole numbers"):
        BetaGeoModel().fit([1.5, 2, 0, 1], [5, 6, 0, 9], [10, 10, 10, 10])
    with pytest.raises(InputError, match="missing or infinite"):
        BetaGeoModel().fit([1, np.nan, 0, 1], [5, 6, 0, 9], [10, 10, 10, 10])
    with pytest.raises(InputError, match="positive values"):
        GammaGammaModel().fit([1, 2, 3], [10.0, 0.0, 5.0])


def test_fit_returns_self_and_the_artifact_round_trips_as_json() -> None:
    x, t_x, t_age = simulate_bgnbd(3_000, seed=9)
    model = BetaGeoModel(penalizer=0.001)
    assert model.fit(x, t_x, t_age) is model
    assert model.fit_seconds_ is not None and model.loglik_ is not None
    bg_loaded = BetaGeoModel.from_dict(json.loads(json.dumps(model.to_dict())))
    np.testing.assert_array_equal(bg_loaded.p_alive(x, t_x, t_age), model.p_alive(x, t_x, t_age))
    clv = ClvModel(model, None, ClvOptions(time_unit="day"))
    again = ClvModel.from_dict(json.loads(json.dumps(clv.to_dict())))
    assert again.options == clv.options and again.gamma_gamma is None
    with pytest.raises(InputError, match="not a CLV model artifact"):
        ClvModel.from_dict({"format": "pickle"})


def test_the_penalty_shrinks_the_parameters() -> None:
    x, t_x, t_age = simulate_bgnbd(3_000, seed=9)
    plain = BetaGeoModel().fit(x, t_x, t_age).params_
    shrunk = BetaGeoModel(penalizer=0.1).fit(x, t_x, t_age).params_
    assert plain is not None and shrunk is not None
    assert sum(v**2 for v in shrunk.values()) < sum(v**2 for v in plain.values())
