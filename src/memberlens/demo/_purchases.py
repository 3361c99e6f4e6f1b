"""Purchases with a known truth: BG/NBD transactions and Gamma-Gamma spend.

Transactions follow the BG/NBD story (Fader, Hardie & Lee 2005, "Counting Your
Customers the Easy Way", Marketing Science 24(2)): while alive a person buys as a
Poisson process with rate λ ~ Gamma(r, α) per week; after every purchase they drop
out with probability p ~ Beta(a, b). Order values follow the Gamma-Gamma model
(Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary Value"): a person's spend
per order is Gamma(p, ν) with ν ~ Gamma(q, γ). Seasonality (Double 11, Chinese New
Year) bends calendar time around an intensity that averages one, so the counts keep
the BG/NBD truth while the calendar shows peaks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from memberlens.demo import _texts as T
from memberlens.demo._people import WINDOW_DAYS, WINDOW_END, WINDOW_START, People

BGNBD = {"r": 2.0, "alpha": 5.5, "a": 0.8, "b": 6.0}
GAMMA_GAMMA = {"p": 6.0, "q": 4.0, "gamma": 75.0}
CHANNELS = ("store", "app", "web", "mini_program")
PRODUCTS_PER_CATEGORY = 170
WEEK = 7 * 86400


@dataclass(frozen=True)
class Orders:
    person: np.ndarray
    at: np.ndarray  # datetime64[s] UTC
    total_cents: np.ndarray
    discount_cents: np.ndarray
    coupon: np.ndarray  # bool
    channel: np.ndarray


def products(rng: np.random.Generator) -> pa.Table:
    n_cat = len(T.CATEGORIES)
    cat = np.repeat(np.arange(n_cat), PRODUCTS_PER_CATEGORY)
    n = len(cat)
    base = np.array(T.CATEGORY_PRICE)[cat]
    price = np.round(base * rng.lognormal(0.0, 0.45, n), 1) + 0.9
    idx = np.arange(n)
    zh = np.array(T.CATEGORY_ZH)[cat]
    return pa.table(
        {
            "product_id": np.char.add("SKU", np.char.zfill(idx.astype(str), 5)),
            "source": np.full(n, "catalog"),
            "name": np.char.add(np.char.add(zh, "商品 "), idx.astype(str)),
            "category": np.array(T.CATEGORIES)[cat],
            "subcategory": np.char.add(
                np.array(T.CATEGORIES)[cat], np.char.add("-", (idx % 4).astype(str))
            ),
            "brand": np.array(T.BRANDS)[rng.integers(0, len(T.BRANDS), n)],
            "price": np.char.mod("%.2f", price),
            "tags": np.where(rng.random(n) < 0.2, "new,promo", "regular"),
            "in_stock": np.where(rng.random(n) < 0.93, "true", "false"),
        }
    )


def _season_clock() -> tuple[np.ndarray, np.ndarray]:
    """Cumulative seasonal intensity per day (mean 1): calendar <-> operational time."""
    days = np.arange(WINDOW_DAYS + 1)
    doy = (days % 365).astype(float)
    peak = 0.9 * np.exp(-(((doy - 314.0) / 5.0) ** 2)) + 0.5 * np.exp(-(((doy - 30.0) / 9.0) ** 2))
    intensity = 1.0 + peak
    intensity /= intensity.mean()
    cumulative = np.concatenate([[0.0], np.cumsum(intensity[:-1])])
    return days.astype(float), cumulative


def transactions(rng: np.random.Generator, people: People) -> tuple[np.ndarray, np.ndarray]:
    """(person, time) of every purchase: the first at signup, then BG/NBD repeats."""
    n = people.n
    lam = rng.gamma(BGNBD["r"], 1.0 / BGNBD["alpha"], n)  # purchases per week
    drop = rng.beta(BGNBD["a"], BGNBD["b"], n)
    first = people.signup + rng.integers(0, 3 * 86400, n).astype("timedelta64[s]")
    first = np.minimum(first, WINDOW_END - np.timedelta64(1, "s"))
    days, clock = _season_clock()
    start_day = (first - WINDOW_START).astype(float) / 86400.0
    op_start = np.interp(start_day, days, clock)
    op_span = clock[-1] - op_start  # operational days until the window ends
    arrivals = rng.poisson(lam * op_span / 7.0)
    # Repeat purchases made before dropping out. BG/NBD lets a member drop out only
    # after a repeat purchase (FHL 2005, assumption iii; P(alive | x = 0) = 1), so the
    # count is geometric on 1, 2, ...; starting it at 0 would be the modified BG/NBD
    # (Batislam et al. 2007), whose data the BG/NBD cannot recover the truth from.
    alive_for = rng.geometric(drop)
    repeats = np.minimum(arrivals, alive_for)
    owner = np.repeat(np.arange(n), arrivals)
    u = rng.random(len(owner))
    order = np.lexsort((u, owner))
    owner, u = owner[order], u[order]
    rank = np.arange(len(owner)) - np.repeat(np.cumsum(arrivals) - arrivals, arrivals)
    keep = rank < repeats[owner]
    owner, u = owner[keep], u[keep]
    op_time = op_start[owner] + u * op_span[owner]
    cal_day = np.interp(op_time, clock, days)
    repeat_at = WINDOW_START + (cal_day * 86400).astype("timedelta64[s]")
    person = np.concatenate([np.arange(n), owner])
    at = np.concatenate([first, repeat_at])
    order = np.lexsort((person, at))
    return person[order], at[order]


def orders(rng: np.random.Generator, people: People) -> Orders:
    person, at = transactions(rng, people)
    nu = rng.gamma(GAMMA_GAMMA["q"], 1.0 / GAMMA_GAMMA["gamma"], people.n)
    value = rng.gamma(GAMMA_GAMMA["p"], 1.0 / nu[person])
    total = np.maximum(np.round(value * 100).astype(np.int64), 100)
    coupon = rng.random(len(person)) < np.where(people.coupon_lover[person], 0.6, 0.12)
    discount = np.where(coupon, np.round(total * 0.1).astype(np.int64), 0)
    preferred = people.channel[person]
    channel = np.where(rng.random(len(person)) < 0.7, preferred, rng.integers(0, 4, len(person)))
    return Orders(person, at, total, discount, coupon, channel)


def order_lines(rng: np.random.Generator, people: People, o: Orders) -> dict[str, np.ndarray]:
    """Lines whose amounts add up to the gross (total + discount) exactly, in cents."""
    n_orders = len(o.person)
    n_lines = rng.integers(1, 6, n_orders)
    order_idx = np.repeat(np.arange(n_orders), n_lines)
    line_no = np.arange(len(order_idx)) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines) + 1
    gross = (o.total_cents + o.discount_cents)[order_idx]
    weight = rng.random(len(order_idx)) + 0.2
    weight /= np.bincount(order_idx, weight)[order_idx]
    share = np.floor(gross * weight).astype(np.int64)
    last = line_no == n_lines[order_idx]
    quantity = np.where(last, 1, rng.integers(1, 4, len(order_idx)))
    unit = np.maximum(share // quantity, 1)
    amount = unit * quantity
    # The last line (quantity 1) takes whatever cents are left, so lines sum exactly.
    spent = np.bincount(order_idx, np.where(last, 0, amount), minlength=n_orders).astype(np.int64)
    leftover = (o.total_cents + o.discount_cents) - spent
    amount = np.where(last, leftover[order_idx], amount)
    unit = np.where(last, amount, unit)
    same_cat = rng.random(len(order_idx)) < 0.6
    cat = np.where(
        same_cat,
        people.fav_category[o.person][order_idx],
        rng.integers(0, len(T.CATEGORIES), len(order_idx)),
    )
    product = cat * PRODUCTS_PER_CATEGORY + rng.integers(0, PRODUCTS_PER_CATEGORY, len(cat))
    # Each share is at least 1/30 of the gross and at most 3 units are rounded down, so
    # the last line always keeps a positive remainder.
    return {
        "order": order_idx,
        "line_no": line_no,
        "product": product,
        "quantity": quantity,
        "unit": unit,
        "amount": amount,
    }


def cents(values: np.ndarray) -> np.ndarray:
    """Integer cents as exact decimal text: 1234 -> '12.34', -5 -> '-0.05'."""
    sign = np.where(values < 0, "-", "")
    absolute = np.abs(values)
    return np.char.add(
        np.char.add(sign, (absolute // 100).astype(str)),
        np.char.add(".", np.char.zfill((absolute % 100).astype(str), 2)),
    )
