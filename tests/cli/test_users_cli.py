"""Users and the audit trail from the command line."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from tests import memberlens_process
from tests.cli.test_cli import cli, json_of


@pytest.mark.slow
def test_init_with_admin_never_prompts(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    done = memberlens_process.run(  # its stdin is empty: a prompt would fail
        ["init", str(ws), "--admin-email", "boss@shop.cn", "--json"],
        env={**os.environ, "MEMBERLENS_ADMIN_PASSWORD": "correct-horse-battery"},
        timeout=60,
        check=True,
    )
    assert '"admin_password": null' in done.stdout  # given, so not echoed back
    users = json_of("user", "list", "-w", str(ws), schema="user-list")
    assert [(u["email"], u["role"]) for u in users] == [("boss@shop.cn", "admin")]


@pytest.mark.slow
def test_user_lifecycle_is_audited_and_the_chain_verifies(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    made = json_of("init", str(ws), "--admin-email", "root@shop.cn", schema="init")
    assert made["admin_password"] and len(made["admin_password"]) >= 10
    added = json_of(
        "user", "add", "m@shop.cn", "--role", "marketer", "-w", str(ws), schema="user-add"
    )
    assert added["role"] == "marketer" and added["password"]
    assert cli("user", "disable", "m@shop.cn", "-w", str(ws)).returncode == 0
    reset = cli("user", "reset-password", "m@shop.cn", "-w", str(ws), check=True)
    assert "shown once" in reset.stderr
    report = json_of("audit", "verify", "-w", str(ws), schema="audit-verify")
    assert (report["ok"], report["entries"]) == (True, 4)
    bad = cli("user", "add", "x@shop.cn", "--role", "boss", "-w", str(ws))
    assert bad.returncode == 2 and "unknown role 'boss'" in bad.stderr

    with sqlite3.connect(ws / "data" / "state.db") as con:  # tamper behind its back
        con.execute("UPDATE audit_log SET action = 'nothing' WHERE seq = 2")
    broken = cli("audit", "verify", "-w", str(ws), "--json")
    assert broken.returncode == 1 and '"code": "EDITED"' in broken.stdout


@pytest.mark.slow
def test_token_create_prints_the_secret_once(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    cli("init", str(ws), check=True)
    made = json_of(
        "token", "create", "shop", "--scope", "events:write", "-w", str(ws), schema="token-create"
    )
    assert made["token"].startswith("mlt_") and made["scopes"] == ["events:write"]
    with sqlite3.connect(ws / "data" / "state.db") as con:
        stored = [r[0] for r in con.execute("SELECT token_hash FROM api_tokens")]
    assert made["token"] not in stored and len(stored) == 1
    bad = cli("token", "create", "x", "--scope", "root", "-w", str(ws))
    assert bad.returncode == 2 and "unknown scope" in bad.stderr
