"""Segment sync: after each refresh, POST each configured segment's changes to a webhook.

The body is JSON ``{"delivery_id", "segment", "snapshot_date", "members", "entered",
"exited"}`` (member ids). It is signed with HMAC-SHA256 over the exact body bytes and
the timestamp: ``X-Memberlens-Signature: t=<unix seconds>,sha256=<hex of
HMAC(secret, "<t>." + body)>`` — the receiver recomputes it and rejects old
timestamps. A connection error, a 429 or a 5xx is retried (``attempts`` in all, waiting
``backoff``, 2 × ``backoff``, ... seconds); any other answer ends the delivery. A
failed delivery never fails the refresh: it is reported in the step's summary.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from memberlens.core.errors import ConfigError
from memberlens.segment._compute import CHANGES_TABLE, RUNS_TABLE
from memberlens.store import Warehouse

TIMEOUT = 10.0
USER_AGENT = "memberlens-segment-sync/1"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``.

    >>> sign("s3cret", 1700000000, b'{"a":1}')[:42]
    't=1700000000,sha256=1698a50bc74d1ff1db85c4'
    """
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},sha256={mac.hexdigest()}"


def _payload(warehouse: Warehouse, name: str, snapshot: date) -> dict[str, Any]:
    members = warehouse.scalar(
        f"SELECT members FROM {RUNS_TABLE} WHERE segment = ? AND snapshot_date = ?",
        [name, snapshot],
    )
    changes: dict[str, list[str]] = {"entered": [], "exited": []}
    for change, member_id in warehouse.fetch_all(
        f"SELECT change, member_id FROM {CHANGES_TABLE} WHERE segment = ? AND snapshot_date = ? "
        "ORDER BY change, member_id",
        [name, snapshot],
    ):
        changes[change].append(member_id)
    return {
        "delivery_id": f"{name}:{snapshot.isoformat()}",
        "segment": name,
        "snapshot_date": snapshot.isoformat(),
        "members": None if members is None else int(members),
        **changes,
    }


def deliver(
    url: str,
    body: bytes,
    secret: str,
    *,
    attempts: int,
    backoff: float,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """POST ``body`` until it is taken or the attempts are spent; what happened."""
    last = ""
    for attempt in range(1, attempts + 1):
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Memberlens-Signature": sign(secret, int(time.time()), body),
        }
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
                return {"status": "delivered", "http": answer.status, "attempts": attempt}
        except urllib.error.HTTPError as refused:
            last = f"HTTP {refused.code}"
            if refused.code != 429 and refused.code < 500:
                return {"status": "refused", "http": refused.code, "attempts": attempt}
        except (urllib.error.URLError, TimeoutError, ConnectionError) as failed:
            last = str(getattr(failed, "reason", failed))
        if attempt < attempts:
            sleep(backoff * 2 ** (attempt - 1))
    return {"status": "failed", "error": last, "attempts": attempts}


def sync_segments(
    warehouse: Warehouse,
    snapshot: date,
    *,
    webhooks: Mapping[str, str],
    secret: str,
    attempts: int = 3,
    backoff: float = 1.0,
) -> dict[str, Any]:
    """Deliver each configured segment's snapshot; segment name -> outcome."""
    if not webhooks:
        return {}
    if not secret:
        raise ConfigError(
            "[segments.webhooks] is set but no signing secret is: set the environment "
            "variable MEMBERLENS_SEGMENTS__WEBHOOK_SECRET (a long random string the "
            "receiver also knows)"
        )
    outcome: dict[str, Any] = {}
    for name, url in sorted(webhooks.items()):
        if (
            not warehouse.has_table(RUNS_TABLE)
            or warehouse.scalar(
                f"SELECT count(*) FROM {RUNS_TABLE} WHERE segment = ? AND snapshot_date = ?",
                [name, snapshot],
            )
            == 0
        ):
            outcome[name] = {"status": "skipped", "reason": "not computed in this snapshot"}
            continue
        body = json.dumps(_payload(warehouse, name, snapshot), sort_keys=True).encode()
        outcome[name] = deliver(url, body, secret, attempts=attempts, backoff=backoff)
    return outcome
