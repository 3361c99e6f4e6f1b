"""The API's Swagger UI works without internet: every asset from the server itself."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from memberlens.service import create_app


@pytest.fixture
def client(workspace_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(workspace_dir, flush_interval=3600)) as c:
        yield c


def test_the_docs_page_loads_nothing_from_another_host(client: TestClient) -> None:
    """Issue 17: /api/v1/docs was blank offline, its Swagger UI came from a CDN."""
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "SwaggerUIBundle" in page.text
    links = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    links += re.findall(r"""url: ?["']([^"']+)["']""", page.text)
    assert links, "the page names no assets"
    assert not [u for u in links if re.match(r"(https?:)?//", u)], links
    for url in links:
        answer = client.get(url)
        assert answer.status_code == 200 and answer.content, url
    js = client.get("/api/v1/docs/assets/swagger-ui-bundle.js").text
    # OpenAPI 3.1 (what FastAPI writes) needs Swagger UI 5 or later.
    assert client.get("/api/v1/openapi.json").json()["openapi"].startswith("3.1")
    assert re.search(r'"5\.\d+\.\d+"', js), "Swagger UI 5 or later"


def test_only_the_docs_assets_are_served(client: TestClient) -> None:
    assert client.get("/api/v1/docs/assets/core.py").status_code == 404
    assert client.get("/api/v1/docs/assets/..%2F__init__.py").status_code == 404
