"""No dead ends (issue #13 item 4): every link a page shows answers 200 for the user who sees it.

For each role of the demo county, a crawl from the 驾驶舱 follows every same-site link of every page
it reaches (a few of each URL shape: /enterprises/{uscc} for three firms, not four thousand) and
fails on any link that answers 403, 404 or a server error. Downloads count as links too. Forms are
not followed (they are writes, which the authorization matrix covers).
"""

from __future__ import annotations

import re
from collections import defaultdict, deque
from html import unescape
from urllib.parse import urljoin, urlsplit

import pytest
from demo_store import DemoStore, client_for, demo_store

ROLES = ("admin", "analyst", "department", "town", "chain", "enterprise")
PER_SHAPE = 3  # URLs visited per shape (path with ids, codes and USCCs replaced, query keys kept)
MAX_PAGES = 400  # per role: a bound, far above what the site has today
HREF = re.compile(r'<a\b[^>]*?\bhref="([^"#]+)[^"]*"', re.I)
SKIP = ("/logout", "/static/", "/api/docs")  # logout ends the crawl; static files and the Swagger UI are not pages


@pytest.fixture(scope="module")
def demo(store_backend: str, tmp_path_factory: pytest.TempPathFactory):
    store, drop = demo_store(tmp_path_factory, "links")
    yield store
    drop()


def shape(url: str) -> str:
    parts = urlsplit(url)
    path = re.sub(r"/[0-9A-Z]{18}(?=/|$)", "/{uscc}", parts.path)
    path = re.sub(r"/\d+(?=/|$|\.)", "/{id}", path)
    keys = sorted({kv.split("=")[0] for kv in parts.query.split("&") if kv})
    return path + ("?" + "&".join(keys) if keys else "")


def crawl(client, start: str = "/") -> tuple[dict[str, int], dict[str, str]]:
    """status per visited URL, and the page each URL was first linked from"""
    seen: dict[str, int] = {}
    found_on: dict[str, str] = {start: "(start)"}
    per_shape: dict[str, int] = defaultdict(int)
    queue = deque([start])
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        r = client.get(url, follow_redirects=True)
        seen[url] = r.status_code
        if r.status_code != 200 or "text/html" not in r.headers.get("content-type", ""):
            continue
        for href in HREF.findall(r.text):
            link = urljoin(url, unescape(href))
            parts = urlsplit(link)
            if parts.netloc not in ("", "testserver") or parts.scheme not in ("", "http"):
                continue
            link = parts.path + (f"?{parts.query}" if parts.query else "")
            if link in found_on or link.startswith(SKIP):
                continue
            key = shape(link)
            if per_shape[key] >= PER_SHAPE:
                continue
            per_shape[key] += 1
            found_on[link] = url
            queue.append(link)
    return seen, found_on


@pytest.mark.parametrize("role", ROLES)
def test_every_link_opens_for_the_user_who_sees_it(demo: DemoStore, role: str):
    client = client_for(demo, demo.users[role])
    seen, found_on = crawl(client)
    assert len(seen) > 5, seen  # the crawl reached the site, not only the start page
    dead = {url: (status, found_on[url]) for url, status in seen.items() if status != 200}
    assert not dead, "\n".join(f"{status} {url}  (linked from {src})" for url, (status, src) in sorted(dead.items()))
