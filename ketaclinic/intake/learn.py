"""The education library: Markdown pages with front matter, for patients and the public.

Pages ship in ``intake/learn/*.md``; a clinic adds or replaces pages without code by putting
Markdown files in ``settings.LEARN_PAGES_DIR`` (a page there replaces the shipped page with
the same slug, the file name without ``.md``). Each file opens with YAML front matter::

    ---
    title: What a session is like
    audience: patients
    summary: One line for the index.
    topics: [iv, esketamine]        # indication and route codes the page is about
    order: 20
    sources:
      - "Murrough JW et al., 2013. American Journal of Psychiatry."
    reviewed_by: "Dr A. Example, MD"
    reviewed_on: 2026-11-01
    ---

The body is rendered with markdown-it-py (CommonMark, raw HTML off) and then sanitised with
nh3, so a page file can never put a script or an event handler on the clinic's site.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import nh3
import yaml
from django.conf import settings
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

SHIPPED = Path(__file__).parent / "learn"
REQUIRED = ("title", "audience", "sources", "reviewed_by", "reviewed_on")
ALLOWED_TAGS = {
    "p", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "a", "blockquote",
    "code", "table", "thead", "tbody", "tr", "th", "td", "br", "hr", "sup",
}  # fmt: skip


class PageError(ValueError):
    """A page file that cannot be shown: its file and what is missing."""


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    audience: str
    sources: tuple[str, ...]
    reviewed_by: str
    reviewed_on: dt.date | None
    summary: str = ""
    topics: tuple[str, ...] = ()
    order: int = 100
    html: SafeString = field(default=mark_safe(""), repr=False)


def split_front_matter(text: str) -> tuple[dict, str]:
    if not text.startswith("---"):
        return {}, text
    parts = text.split("\n---", 1)
    if len(parts) != 2:
        return {}, text
    meta = yaml.safe_load(parts[0].removeprefix("---")) or {}
    body = parts[1].split("\n", 1)[1] if "\n" in parts[1] else ""
    return (meta if isinstance(meta, dict) else {}), body


def render(markdown: str) -> SafeString:
    html = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "th": {"align"}, "td": {"align"}},
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer",
    )
    return mark_safe(clean)


@lru_cache(maxsize=256)
def load(path: Path, mtime_ns: int) -> Page:
    """One page file (cached until the file changes)."""
    meta, body = split_front_matter(path.read_text(encoding="utf-8"))
    if missing := [name for name in REQUIRED if not meta.get(name)]:
        raise PageError(f"{path.name}: front matter lacks {', '.join(missing)}")
    sources = meta["sources"]
    if isinstance(sources, str):
        sources = [sources]
    reviewed_on = meta["reviewed_on"]
    if isinstance(reviewed_on, str):
        reviewed_on = dt.date.fromisoformat(reviewed_on)
    return Page(
        slug=path.stem,
        title=str(meta["title"]),
        audience=str(meta["audience"]),
        sources=tuple(str(s) for s in sources),
        reviewed_by=str(meta["reviewed_by"]),
        reviewed_on=reviewed_on,
        summary=str(meta.get("summary", "")),
        topics=tuple(str(t) for t in meta.get("topics") or ()),
        order=int(meta.get("order", 100)),
        html=render(body),
    )


def page_files() -> dict[str, Path]:
    """Slug → file: shipped pages, then the clinic's own (which win)."""
    files = {path.stem: path for path in sorted(SHIPPED.glob("*.md"))}
    extra = getattr(settings, "LEARN_PAGES_DIR", "")
    if extra and Path(extra).is_dir():
        files.update({path.stem: path for path in sorted(Path(extra).glob("*.md"))})
    return files


def pages() -> list[Page]:
    found = [load(path, path.stat().st_mtime_ns) for path in page_files().values()]
    return sorted(found, key=lambda page: (page.order, page.title))


def pages_by_slug() -> dict[str, Page]:
    return {page.slug: page for page in pages()}


def pages_for(codes) -> list[Page]:
    """The pages about any of ``codes`` (indication or route codes, e.g. a patient's plan)."""
    wanted = set(codes or ())
    return [page for page in pages() if wanted & set(page.topics)]
