"""Why an item is on a list, as a code with parameters — never as a sentence.

A model's ``explain`` says ``reason("because_you_liked", item="Dune")``: the compact
JSON of a :class:`memberlens.core.i18n.Message`, which the ``reason`` column of the
``recommendations`` snapshot and of the online table stores as it is. Whoever shows
it renders it in the reader's language (:func:`reason_text`): the API by the request's
``Accept-Language``, the console by the viewer's language, the CLI in English.

The codes (their words are in ``core/messages.toml``):

- ``because_you_liked`` {item} (item-kNN), ``similar_to_what_you_looked_at``
- ``favourite_in_category`` {category} (category), ``popular_with_members``
- ``bought_together_with`` {item} (association), ``bought_together_with_yours``
- ``like`` {item} (content), ``like_what_you_chose``
- ``members_with_your_taste`` (user-kNN), ``members_with_tastes_like_yours`` (ALS, BPR)
- ``popular_with_count`` {count} (popularity), ``recommended`` (any other model)
- item lists: ``often_chosen_with`` / ``bought_together_with`` / ``similar_to`` {item}
- ``new_item`` {reason} (a new item, with its content reason), ``editors_pick`` (pins)
- fallbacks: ``popular_now`` (everyone), ``popular_in`` {place} (a city or region)
"""

from __future__ import annotations

import functools
from typing import Any

from memberlens.core.i18n import Message, render


@functools.lru_cache(maxsize=65_536)
def reason(code: str, **params: Any) -> str:
    """A reason as its column stores it (cached: lists repeat the same few reasons).

    >>> reason("because_you_liked", item="Dune")
    '{"code":"because_you_liked","params":{"item":"Dune"}}'
    """
    return Message(code, params).encode()


def new_item(stored: str) -> str:
    """A new item's reason: ``stored`` (its content reason) marked as new."""
    return Message("new_item", {"reason": Message.decode(stored)}).encode()


@functools.lru_cache(maxsize=65_536)
def reason_text(stored: str, locale: str = "en") -> str:
    """A stored reason in ``locale``'s words; a sentence stored before codes as written.
    Cached: the request path renders the same few thousand reasons again and again.

    >>> reason_text(reason("bought_together_with", item="豆浆"), "zh-CN")
    '常与“豆浆”一起购买'
    >>> reason_text("popular right now", "zh-CN")
    'popular right now'
    """
    return render(Message.decode(stored), locale)


@functools.lru_cache(maxsize=65_536)
def reason_code(stored: str) -> Message:
    """A stored reason's message (code and parameters) for answers that carry both."""
    return Message.decode(stored)
