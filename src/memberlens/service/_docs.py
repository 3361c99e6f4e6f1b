"""The API's interactive docs (Swagger UI), served from an installed package.

FastAPI's default page loads Swagger UI from a CDN: blank without internet, and
unreliable in mainland China. The ``fastapi-offline`` package carries Swagger UI's
JavaScript, stylesheet and icon in its wheel; they are served from here, like the
console's Plotly, and nothing is fetched from elsewhere.
"""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response

ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.png": "image/png",
}


def install(app: FastAPI, prefix: str) -> None:
    """Swagger UI at ``{prefix}/docs`` for the app's OpenAPI document."""
    assets = f"{prefix}/docs/assets"

    @app.get(f"{prefix}/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=str(app.openapi_url),
            title=f"{app.title} API",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon.png",
        )

    @app.get(f"{assets}/{{name}}", include_in_schema=False)
    def asset(name: str) -> Response:
        media = ASSETS.get(name)
        if media is None:
            return Response(status_code=404)
        path = resources.files("fastapi_offline") / "static" / name
        return FileResponse(
            str(path), media_type=media, headers={"Cache-Control": "public, max-age=86400"}
        )
