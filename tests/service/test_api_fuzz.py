"""Property-based fuzzing of the whole API from its own OpenAPI document: never a 5xx."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from memberlens import accounts
from memberlens.accounts import Scope
from memberlens.privacy import KeyRing
from memberlens.workspace import Workspace, init_workspace
from tests.servers import start_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    env = {
        **os.environ,
        "MEMBERLENS_KEYS": KeyRing.generate().to_json(),
        "MEMBERLENS_SERVER__RATE_PER_TOKEN": "100000",
        "MEMBERLENS_SERVER__BURST": "100000",
    }
    root = tmp_path_factory.mktemp("fuzz") / "ws"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEMBERLENS_KEYS", env["MEMBERLENS_KEYS"])
        init_workspace(root)
        with Workspace.open(root) as ws:
            _, token = accounts.create_token(
                ws.state, name="fuzz", actor="t", scopes=[s.value for s in Scope]
            )
    proc, base = start_server(root, env, capture=False)
    try:
        yield base, token.secret
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def test_no_input_makes_the_server_fail(live: tuple[str, str]) -> None:
    """Every operation, with and without a token, on generated valid and invalid input.

    (schemathesis's own pytest plugin does not load under this pytest, so the
    operations' hypothesis strategies are driven directly.)
    """
    base, token = live
    api = schemathesis.openapi.from_url(f"{base}/openapi.json")
    operations = [result.ok() for result in api.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v1/events", "/api/v1/members"}
    for operation in operations:
        # A refresh that gets through validation runs the whole pipeline (seconds);
        # a dozen cover its body's few fields.
        examples = 12 if operation.path.endswith("/refresh") else 40

        @given(operation.as_strategy())
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            for headers in ({"Authorization": f"Bearer {token}"}, {}):
                # POST /refresh runs the pipeline while the client waits; on a machine
                # without a cached built-in sentiment model its first run fits one (~8 s)
                response = case.call(headers=headers, timeout=60)
                assert response.status_code < 500, (case.method, case.path, response.text[:300])
                if response.status_code >= 400:
                    kind = response.headers.get("content-type") or [""]
                    first = kind[0] if isinstance(kind, list) else kind
                    assert str(first).startswith("application/problem+json"), case.path

        check()
