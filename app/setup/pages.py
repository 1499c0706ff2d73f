"""The setup pages' HTML: Jinja templates with autoescaping on, so every value rendered is
escaped unless a template says otherwise (none does), and headers that keep the pages (which
carry a one-time `state`, or say where credentials are) out of caches, frames and referrers."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from fastapi.responses import HTMLResponse

from app.setup.errors import SetupError

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

HEADERS = {
    "Cache-Control": "no-store",
    # No script, no external asset, no framing (a framed "Register" button invites clickjacking).
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
    ),
    # The callback's address holds GitHub's code and the state: links must not pass it on.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def page(template: str, status: int = 200, **values: Any) -> HTMLResponse:
    html = _ENV.get_template(template).render(**values)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def error_page(error: SetupError) -> HTMLResponse:
    link = error.link if error.link and linkable(error.link[1]) else None
    return page("error.html", error.status, title=error.title, detail=error.detail, link=link)


def linkable(url: str) -> bool:
    """Escaping keeps a URL inside its attribute; only the scheme keeps `javascript:` out."""
    return urlsplit(url).scheme in {"", "http", "https"}
