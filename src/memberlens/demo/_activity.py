"""Behaviour around the purchases: events, feedback, consents and campaign touches."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from memberlens.demo import _texts as T
from memberlens.demo._people import WINDOW_DAYS, WINDOW_START, People, iso
from memberlens.demo._purchases import CHANNELS, PRODUCTS_PER_CATEGORY, Orders

FUNNEL = ("view", "view", "add_to_cart", "checkout", "purchase")
BROWSE = ("view", "view", "view", "search", "favorite", "login", "open", "click", "share")


def source_of(people: People, person: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Which record a row of ``person`` belongs to: their only one, or either of two."""
    pick_app = np.where(
        people.has_pos[person] & people.has_app[person],
        rng.random(len(person)) < 0.5,
        people.has_app[person],
    )
    return np.where(pick_app, "app", "pos")


def member_key(people: People, person: np.ndarray, source: np.ndarray) -> np.ndarray:
    return np.where(source == "pos", people.key("pos", person), people.key("app", person))


def events(rng: np.random.Generator, people: People, o: Orders) -> pa.Table:
    """A funnel before every order, plus browsing sessions and app opens."""
    n_orders = len(o.person)
    f_person = np.repeat(o.person, len(FUNNEL))
    f_type = np.tile(np.array(FUNNEL), n_orders)
    lead = np.tile(np.array([3600, 1800, 600, 120, 0]), n_orders)
    f_at = np.repeat(o.at, len(FUNNEL)) - (lead * rng.uniform(0.5, 1.5, len(lead))).astype(
        "timedelta64[s]"
    )
    # Browsing: people who buy more also browse more.
    orders_per_person = np.bincount(o.person, minlength=people.n)
    sessions = rng.poisson(3 + 3 * orders_per_person)
    b_person = np.repeat(np.arange(people.n), sessions)
    b_type = np.array(BROWSE)[rng.integers(0, len(BROWSE), len(b_person))]
    span = WINDOW_START + np.timedelta64(WINDOW_DAYS * 86400, "s") - people.signup[b_person]
    b_at = people.signup[b_person] + (rng.random(len(b_person)) * span.astype(float)).astype(
        "timedelta64[s]"
    )
    person = np.concatenate([f_person, b_person])
    kind = np.concatenate([f_type, b_type])
    at = np.concatenate([f_at, b_at])
    at = np.maximum(at, WINDOW_START)
    n = len(person)
    cat = np.where(
        rng.random(n) < 0.7, people.fav_category[person], rng.integers(0, len(T.CATEGORIES), n)
    )
    product = cat * PRODUCTS_PER_CATEGORY + rng.integers(0, PRODUCTS_PER_CATEGORY, n)
    has_product = ~np.isin(kind, ("search", "login", "open", "click"))
    source = source_of(people, person, rng)
    key = member_key(people, person, source)
    # Some app events arrive before login: only the device id is known.
    anonymous = (rng.random(n) < 0.05) & people.has_app[person]
    order = np.lexsort((person, at))
    query = np.array(T.SEARCH_TERMS)[rng.integers(0, len(T.SEARCH_TERMS), n)]
    return pa.table(
        {
            "event_id": [f"ev{i:08d}" for i in range(n)],
            "source": np.where(anonymous, "app", source)[order],
            "source_member_key": pa.array(key[order], pa.string(), mask=anonymous[order]),
            "anonymous_id": pa.array(
                people.device[person][order], pa.string(), mask=~anonymous[order]
            ),
            "event_type": kind[order],
            "occurred_at": pa.array(at[order], pa.timestamp("s", tz="UTC")),
            "product_id": pa.array(_sku(product)[order], pa.string(), mask=~has_product[order]),
            "category": np.array(T.CATEGORIES)[cat][order],
            "query": pa.array(query[order], pa.string(), mask=(kind != "search")[order]),
            "channel": np.where(source == "pos", "store", "app")[order],
            "device": np.where(source == "pos", "pos", "mobile")[order],
            "properties": pa.nulls(n, pa.string()),
        }
    )


def _sku(product: np.ndarray) -> np.ndarray:
    return np.char.add("SKU", np.char.zfill(product.astype(str), 5))


def feedback(
    rng: np.random.Generator, people: People, o: Orders, first_line_product: np.ndarray
) -> dict[str, list[object]]:
    """Reviews after some orders, complaints, surveys with NPS, consultations."""
    locale = people.locale()
    picked = np.flatnonzero(rng.random(len(o.person)) < 0.15)
    rows: dict[str, list[object]] = {
        k: []
        for k in (
            "source",
            "source_member_key",
            "kind",
            "occurred_at",
            "rating",
            "nps",
            "text",
            "product_id",
            "channel",
        )
    }
    kinds = rng.choice(4, len(picked), p=[0.8, 0.1, 0.07, 0.03])
    for i, kind in zip(picked, kinds, strict=True):
        person = int(o.person[i])
        lang = str(locale[person])
        src = "app" if people.has_app[person] and (not people.has_pos[person] or i % 2) else "pos"
        at = o.at[i] + np.timedelta64(int(rng.integers(86400, 10 * 86400)), "s")
        rating = nps = None
        if kind == 0:
            rating = int(rng.choice(5, p=[0.06, 0.06, 0.13, 0.3, 0.45]) + 1)
            text = _review(rng, lang, rating)
        elif kind == 1:
            text = _complaint(rng, lang)
        elif kind == 2:
            nps = int(rng.integers(0, 11))
            text = _review(rng, lang, 5 if nps >= 9 else (3 if nps >= 7 else 1))
        else:
            text = {
                "zh-CN": "请问什么时候发货？",
                "zh-TW": "請問什麼時候發貨？",
                "en": "When will my order ship?",
            }[lang]
        rows["source"].append(src)
        rows["source_member_key"].append(str(people.key(src, np.array([person]))[0]))
        rows["kind"].append(("review", "complaint", "survey", "consult")[kind])
        rows["occurred_at"].append(str(iso(at)) + "Z")
        rows["rating"].append(rating)
        rows["nps"].append(nps)
        rows["text"].append(text)
        rows["product_id"].append(
            str(_sku(first_line_product[i : i + 1])[0]) if kind == 0 else None
        )
        rows["channel"].append(CHANNELS[int(o.channel[i])])
    return rows


def _review(rng: np.random.Generator, lang: str, rating: int) -> str:
    if rating >= 4:
        return str(rng.choice(T.POSITIVE[lang]))
    if rating == 3:
        return str(rng.choice(T.NEUTRAL[lang]))
    return _complaint(rng, lang)


def _complaint(rng: np.random.Generator, lang: str) -> str:
    return str(rng.choice(T.PAIN_POINTS[lang])) + T.NEGATIVE_TAIL[lang]


def consents(rng: np.random.Generator, people: People) -> dict[str, np.ndarray]:
    """Grants at signup for each record; about 8% later withdraw marketing."""
    parts = []
    for source, has in (("pos", people.has_pos), ("app", people.has_app)):
        person = np.flatnonzero(has)
        for purpose, channel, share in (
            ("marketing", "email", 0.7),
            ("marketing", "sms", 0.6),
            ("personalisation", "*", 0.9),
            ("analytics", "*", 0.95),
        ):
            who = person[rng.random(len(person)) < share]
            at = people.signup[who]
            parts.append((source, who, purpose, channel, at, "true"))
            quit_ = who[rng.random(len(who)) < (0.08 if purpose == "marketing" else 0.02)]
            later = people.signup[quit_] + rng.integers(30, 400, len(quit_)).astype(
                "timedelta64[D]"
            ).astype("timedelta64[s]")
            parts.append((source, quit_, purpose, channel, later, "false"))
    return {
        "source": np.concatenate([np.full(len(p[1]), p[0]) for p in parts]),
        "source_member_key": np.concatenate([people.key(p[0], p[1]) for p in parts]),
        "purpose": np.concatenate([np.full(len(p[1]), p[2]) for p in parts]),
        "channel": np.concatenate([np.full(len(p[1]), p[3]) for p in parts]),
        "recorded_at": np.concatenate([np.char.add(iso(p[4]), "Z") for p in parts]),
        "granted": np.concatenate([np.full(len(p[1]), p[5]) for p in parts]),
        "policy_version": np.concatenate([np.full(len(p[1]), "2024-01") for p in parts]),
    }


def touches(rng: np.random.Generator, people: People, n: int) -> dict[str, np.ndarray]:
    """Past campaign messages with delivery, opens, clicks and conversions."""
    person = rng.integers(0, people.n, n)
    source = source_of(people, person, rng)
    sent = WINDOW_START + rng.integers(0, WINDOW_DAYS * 86400, n).astype("timedelta64[s]")
    channel = np.array(["email", "sms", "push", "wechat"])[rng.integers(0, 4, n)]
    bounced = rng.random(n) < 0.03
    opened = ~bounced & (rng.random(n) < 0.35)
    clicked = opened & (rng.random(n) < 0.25)
    converted = clicked & (rng.random(n) < 0.2)

    def stamp(mask: np.ndarray, delay: int) -> np.ndarray:
        text = np.char.add(iso(sent + np.timedelta64(delay, "s")), "Z")
        return np.where(mask, text, "")

    return {
        "touch_id": np.char.add("t", np.char.zfill(np.arange(n).astype(str), 7)),
        "source": source,
        "source_member_key": member_key(people, person, source),
        "campaign_id": np.char.add("C", rng.integers(1, 13, n).astype(str)),
        "variant": np.where(rng.random(n) < 0.5, "A", "B"),
        "channel": channel,
        "sent_at": np.char.add(iso(sent), "Z"),
        "delivered_at": stamp(~bounced, 30),
        "opened_at": stamp(opened, 3600),
        "clicked_at": stamp(clicked, 3700),
        "converted_at": stamp(converted, 7200),
        "bounced": np.where(bounced, "true", "false"),
        "cost": np.where(channel == "sms", "0.05", "0.01"),
    }
