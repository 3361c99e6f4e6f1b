"""Synthetic persons and their member records in one or two source systems."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from memberlens.demo import _texts as T

WINDOW_START = np.datetime64("2024-01-01T00:00:00", "s")
WINDOW_DAYS = 731  # 2024-01-01 .. 2025-12-31 inclusive (2024 is a leap year)
WINDOW_END = WINDOW_START + np.timedelta64(WINDOW_DAYS * 86400, "s")
SHARED_SHARE = 0.15  # persons registered in both sources
APP_ONLY_SHARE = 0.35


def iso(times: np.ndarray, unit: str = "s") -> np.ndarray:
    """ISO 8601 text of datetime64 values (seconds or days)."""
    stamps = times.astype(f"datetime64[{unit}]")
    text: np.ndarray = np.datetime_as_string(stamps, unit=unit)  # type: ignore[call-overload]
    return text


@dataclass(frozen=True)
class People:
    """One row per person (index = person id) plus the records that name them."""

    n: int
    signup: np.ndarray  # datetime64[s], UTC
    city: np.ndarray  # index into T.CITIES
    fav_category: np.ndarray  # index into T.CATEGORIES
    channel: np.ndarray  # preferred channel index
    coupon_lover: np.ndarray  # bool
    has_pos: np.ndarray  # bool: a record in the till system
    has_app: np.ndarray  # bool: a record in the app
    phone: np.ndarray  # 11-digit mobile, str
    email: np.ndarray  # str ('' = none)
    device: np.ndarray  # device id, str

    def key(self, source: str, person: np.ndarray) -> np.ndarray:
        """Source member keys of ``person`` in ``source`` (pos: P000123, app: A700024x)."""
        keys: np.ndarray
        if source == "pos":
            keys = np.char.add("P", np.char.zfill(person.astype(str), 6))
        else:
            keys = np.char.add(np.char.add("A", (person * 7 + 100003).astype(str)), "x")
        return keys

    def locale(self) -> np.ndarray:
        locales: np.ndarray = np.array([c[3] for c in T.CITIES])[self.city]
        return locales


def make_people(rng: np.random.Generator, n: int) -> People:
    # Most members join in the first year, so that purchase histories have depth.
    first_year = rng.random(n) < 0.7
    day = np.where(first_year, rng.integers(0, 366, n), rng.integers(366, WINDOW_DAYS - 30, n))
    seconds = day * 86400 + rng.integers(8 * 3600, 22 * 3600, n) - 8 * 3600  # 8-22h local
    signup = WINDOW_START + seconds.astype("timedelta64[s]")
    roll = rng.random(n)
    has_pos = roll >= APP_ONLY_SHARE
    has_app = (roll < APP_ONLY_SHARE) | (roll >= 1 - SHARED_SHARE)
    prefixes = rng.choice(
        np.array(
            [
                130,
                131,
                133,
                135,
                136,
                137,
                138,
                139,
                150,
                151,
                152,
                158,
                159,
                177,
                186,
                187,
                188,
                189,
                199,
            ]
        ),
        n,
    )
    # Unique eight-digit tails: a permutation, so no two persons share a phone.
    tails = rng.choice(10**8, n, replace=False)
    phone = np.char.add(prefixes.astype(str), np.char.zfill(tails.astype(str), 8))
    city = rng.choice(len(T.CITIES), n, p=np.array(T.CITY_WEIGHTS) / sum(T.CITY_WEIGHTS))
    return People(
        n=n,
        signup=signup,
        city=city,
        fav_category=rng.integers(0, len(T.CATEGORIES), n),
        channel=rng.integers(0, 4, n),
        coupon_lover=rng.random(n) < 0.25,
        has_pos=has_pos,
        has_app=has_app,
        phone=phone,
        email=_emails(rng, n),
        device=np.char.add("dev-", rng.integers(10**9, 10**10, n).astype(str)),
    )


def _emails(rng: np.random.Generator, n: int) -> np.ndarray:
    sur = np.array(T.SURNAMES_PINYIN)[rng.integers(0, len(T.SURNAMES_PINYIN), n)]
    giv = np.array(T.GIVEN_PINYIN)[rng.integers(0, len(T.GIVEN_PINYIN), n)]
    dom = np.array(T.EMAIL_DOMAINS)[rng.integers(0, len(T.EMAIL_DOMAINS), n)]
    handle = np.char.add(np.char.add(sur, "."), np.char.add(giv, np.arange(n).astype(str)))
    email = np.char.add(np.char.add(handle, "@"), dom)
    return np.where(rng.random(n) < 0.12, "", email)  # some members give no e-mail


def _names(rng: np.random.Generator, people: People) -> np.ndarray:
    n = people.n
    zh = np.char.add(
        np.array(T.SURNAMES)[rng.integers(0, len(T.SURNAMES), n)],
        np.array(T.GIVEN)[rng.integers(0, len(T.GIVEN), n)],
    )
    en = np.char.add(
        np.char.add(np.array(T.EN_FIRST)[rng.integers(0, len(T.EN_FIRST), n)], " "),
        np.array(T.EN_LAST)[rng.integers(0, len(T.EN_LAST), n)],
    )
    return np.where(people.locale() == "en", en, zh)


def _phone_spelling(phone: np.ndarray, style: int) -> np.ndarray:
    """The same number as different systems write it."""
    if style == 0:
        return phone
    spaced = np.char.add(
        np.char.add(
            np.char.add(
                np.char.add(np.array([p[:3] for p in phone]), " "),
                np.array([p[3:7] for p in phone]),
            ),
            " ",
        ),
        np.array([p[7:] for p in phone]),
    )
    if style == 1:
        return np.char.add("+86 ", spaced)
    return np.char.add("0086-", np.char.replace(spaced, " ", "-"))


def member_tables(rng: np.random.Generator, people: People) -> tuple[pa.Table, pa.Table]:
    """(pos records, app records) with canonical column names."""
    names = _names(rng, people)
    age = rng.integers(16, 72, people.n)
    birth = (
        np.datetime64("2025-06-30", "D")
        - (age * 365.25).astype("timedelta64[D]")
        - rng.integers(0, 365, people.n).astype("timedelta64[D]")
    )
    gender = np.array(["female", "male", "other", "unknown"])[
        rng.choice(4, people.n, p=[0.52, 0.44, 0.01, 0.03])
    ]
    cities = np.array(T.CITIES)
    common = {
        "name": names,
        "gender": gender,
        "birth_date": iso(birth, "D"),
        "address": np.char.add(
            cities[people.city, 0], np.char.add("路", rng.integers(1, 999, people.n).astype(str))
        ),
        "city": cities[people.city, 0],
        "region": cities[people.city, 1],
        "occupation": np.array(T.OCCUPATIONS)[rng.integers(0, len(T.OCCUPATIONS), people.n)],
        "education": np.array(T.EDUCATION)[rng.integers(0, len(T.EDUCATION), people.n)],
        "timezone": cities[people.city, 2],
        "locale": cities[people.city, 3],
    }
    signup_text = np.char.add(iso(people.signup + np.timedelta64(8, "h")), "+08:00")
    pos = np.flatnonzero(people.has_pos)
    app = np.flatnonzero(people.has_app)
    both = people.has_pos & people.has_app
    pos_cols = {
        "source": np.full(len(pos), "pos"),
        "source_member_key": people.key("pos", pos),
        **{k: v[pos] for k, v in common.items()},
        "phone": _phone_spelling(people.phone[pos], 0),
        "email": people.email[pos],
        "signup_at": signup_text[pos],
        "signup_channel": np.full(len(pos), "store"),
        "crm_id": np.char.add("CRM", np.char.zfill(pos.astype(str), 7)),
    }
    app_email = np.where(both[app], np.char.upper(people.email[app]), people.email[app])
    app_cols = {
        "source": np.full(len(app), "app"),
        "source_member_key": people.key("app", app),
        **{k: v[app] for k, v in common.items()},
        "phone": _phone_spelling(people.phone[app], int(rng.integers(1, 3))),
        "email": app_email,
        "signup_at": signup_text[app],
        "signup_channel": np.full(len(app), "app"),
        "wechat_openid": np.char.add("oWx", rng.integers(10**11, 10**12, len(app)).astype(str)),
        "device_id": people.device[app],
    }
    return _table(pos_cols), _table(app_cols)


def _table(cols: dict[str, np.ndarray]) -> pa.Table:
    """Arrow table; empty strings become nulls (a missing value, as a CSV shows it)."""
    arrays = {}
    for name, values in cols.items():
        arr = pa.array(values.tolist())
        if pa.types.is_string(arr.type):
            arr = pa.array([v if v != "" else None for v in values.tolist()], pa.string())
        arrays[name] = arr
    return pa.table(arrays)


def identity_clusters(people: People) -> list[list[list[str]]]:
    """For each two-source person, the records that are one member (the truth)."""
    both = np.flatnonzero(people.has_pos & people.has_app)
    pos, app = people.key("pos", both), people.key("app", both)
    return [[["pos", str(p)], ["app", str(a)]] for p, a in zip(pos, app, strict=True)]
