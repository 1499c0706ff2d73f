"""Untrusted Markdown, read the way GitHub reads it, and written back with nothing active in it.

Deciding by regex what counts as code gets CommonMark wrong at the edges (an escaped backtick,
a fence indented four spaces, a backtick in an info string, a longer closing fence), and each
such edge lets raw HTML through. So the text is parsed with markdown-it-py (CommonMark with
raw HTML recognised, plus GFM strikethrough) and a new document is written from the syntax
tree: prose comes out as escaped literal text, code comes out as code with fences longer than
anything inside it, and only the structure below survives.

What GitHub would make active is neutralised on the way: raw HTML is shown as text, images
become their alt text, links off `allowed_host` become their label, GFM's bare autolinks
(`https://…`, `www.…`, e-mail addresses) to elsewhere become "(link removed)", and @mentions
become inline code (shown, never notifying). `unsafe_parts` parses the result again and
lists anything active that is left, so a writer mistake fails closed instead of reaching a PR.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

import cmarkgfm
from cmarkgfm.cmark import Options
from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from reviewers.linear import compile_linear

LINK_REMOVED = "(link removed)"

# GFM's extended autolinks (https://github.github.com/gfm/#autolinks-extension-), matched a
# little more widely than GitHub does: a stray match costs a word, a missed one a live link.
_AUTOLINK = compile_linear(
    r"(?i)(?:(?:https?|ftp)://|www\.)[^\s<]*"
    r"|(?:\b(?:mailto|xmpp):)?[a-z0-9._+-]+@[a-z0-9_-]+(?:\.[a-z0-9_-]+)+"
)
_TRAILING_PUNCTUATION = ".,:;!?*_~'\")"
# A GitHub user or team mention: `@name` or `@org/team`, not preceded by a word character.
_MENTION = compile_linear(r"(?:^|[^A-Za-z0-9_`])(@[A-Za-z0-9][A-Za-z0-9-]*(?:/[A-Za-z0-9_.-]+)?)")
# Backslash-escaping ASCII punctuation is a no-op in CommonMark, so escaping every mark that
# can open syntax turns text into exactly itself. Some marks open syntax anywhere (emphasis,
# code, links, HTML, entities, tables, strikethrough, GitHub math); others only where a line
# starts (lists, headings, quotes, setext underlines), which a text piece may do. The rest stay
# readable: "rejected (401)" is posted as written.
_ESCAPED_ANYWHERE = frozenset("\\`*_[]<&|~$")
_ESCAPED_AT_LINE_START = frozenset("-+=#>")
_ORDERED_MARKER = compile_linear(r"^[ \t]*[0-9]{1,9}[.)]")
_INFO_WORD = compile_linear(r"[A-Za-z0-9_+#.-]{1,40}")


def parser() -> MarkdownIt:
    # Raw HTML on, as GitHub has it, so that it is seen (and neutralised), not mistaken
    # for text that GitHub would then render as HTML.
    return MarkdownIt("commonmark", {"html": True}).enable("strikethrough")


_PARSER = parser()


# A URL kept on the page is plain: scheme, the allowed host, a path and query of ordinary
# characters. No "@" (GFM may read part of it as an e-mail address), no "&" (an entity could
# spell one), no brackets, quotes, backslashes or angle brackets (each ends or escapes
# something in Markdown). Anything else on the allowed host is shown as "(link removed)".
_PLAIN_URL = compile_linear(
    r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:[/?#][A-Za-z0-9._~/?#=%+:,;!*$-]*)?"
)


def _is_allowed_link(url: str, allowed_host: str) -> bool:
    if _PLAIN_URL.fullmatch(url) is None:
        return False
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    return host == allowed_host.lower()


def _trim_autolink(text: str) -> str:
    while text and text[-1] in _TRAILING_PUNCTUATION:
        text = text[:-1]
    return text


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
_TEAM_CHARS = _NAME_CHARS | frozenset("_.")


def _at_signs(text: str) -> Iterator[tuple[int, int]]:
    """Spans of "@" plus the user or team name after it, for each "@" GitHub could read as
    a mention: not inside a word, or last in the text (the next piece may be a word)."""
    index = text.find("@")
    previous_end = 0  # text right after inline code starts afresh, as if a line began
    while index >= 0:
        before = text[index - 1] if index > previous_end else ""
        if index == len(text) - 1 or not (before.isalnum() or (before and before in "_`")):
            end = index + 1
            while end < len(text) and text[end] in _NAME_CHARS:
                end += 1
            if end < len(text) - 1 and text[end] == "/" and text[end + 1] in _TEAM_CHARS:
                end += 1
                while end < len(text) and text[end] in _TEAM_CHARS:
                    end += 1
            yield index, end
            previous_end = end
            index = text.find("@", end)
        else:
            index = text.find("@", index + 1)


def _autolinks(text: str) -> Iterator[tuple[int, int]]:
    for match in _AUTOLINK.finditer(text):
        start, end = match.span()
        trimmed = _trim_autolink(text[start:end])
        if trimmed:
            yield start, start + len(trimmed)


def _escape(text: str) -> str:
    """`text` as Markdown source that renders as exactly `text`. A piece of text may begin a
    line (after a soft break), so its first mark is treated as if it did."""
    out: list[str] = []
    lead = len(text) - len(text.lstrip(" \t"))
    marker = _ORDERED_MARKER.match(text)
    for index, char in enumerate(text):
        if (
            char in _ESCAPED_ANYWHERE
            or (index == lead and char in _ESCAPED_AT_LINE_START)
            or (marker is not None and index == marker.end() - 1)
            or (char == "!" and index == len(text) - 1)  # "!" + a link after it = an image
        ):
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def without_foreign_links(text: str, *, allowed_host: str) -> str:
    """Plain `text` with every URL or address off `allowed_host` replaced by LINK_REMOVED."""
    out: list[str] = []
    position = 0
    for start, end in _autolinks(text):
        url = text[start:end]
        out.append(text[position:start])
        out.append(url if _is_allowed_link(url, allowed_host) else LINK_REMOVED)
        position = end
    out.append(text[position:])
    return "".join(out)


def code_span(content: str) -> str:
    """`content` as inline code, whatever backticks it holds."""
    longest = _longest_run(content, "`")
    fence = "`" * (longest + 1)
    padded = f" {content} " if content[:1] in ("`", " ") or content[-1:] in ("`", " ") else content
    return f"{fence}{padded}{fence}"


def code_fence(content: str, info: str = "") -> list[str]:
    """Lines of a fenced code block holding `content` exactly; no line of it can close it."""
    fence = "`" * max(3, _longest_run(content, "`") + 1)
    body = content[:-1] if content.endswith("\n") else content
    return [f"{fence}{info}", *body.split("\n"), fence] if body else [f"{fence}{info}", fence]


def _longest_run(text: str, char: str) -> int:
    longest = run = 0
    for c in text:
        run = run + 1 if c == char else 0
        longest = max(longest, run)
    return longest


@dataclass(frozen=True)
class _Code:
    """Inline code still to be written: side by side, two spans would share one backtick run
    (`a` + `b` is "`a``b`", one broken span), so neighbours are written as one."""

    content: str


_Piece = str | _Code


def _join(pieces: Iterable[_Piece]) -> str:
    out: list[str] = []
    code: list[str] = []
    for piece in pieces:
        if isinstance(piece, _Code):
            code.append(piece.content)
        elif piece:
            if code:
                out.append(code_span("".join(code)))
                code = []
            out.append(piece)
    if code:
        out.append(code_span("".join(code)))
    return "".join(out)


@dataclass(frozen=True)
class _Writer:
    allowed_host: str

    def text(self, text: str) -> list[_Piece]:
        """Literal text: escaped, foreign autolinks removed, mentions made inert."""
        out: list[_Piece] = []
        position = 0
        for start, end in _autolinks(text):
            out.extend(self._mentions(text[position:start]))
            url = text[start:end]
            # A bare URL would be extended by GitHub's autolinker over the backslash of the
            # next escape (`…/r1)\\<img>` links `…/r1)\\` and leaves `<img>` raw): an allowed
            # one is written as a CommonMark autolink, which ends where it says.
            allowed = _is_allowed_link(url, self.allowed_host)
            out.append(f"<{url}>" if allowed else LINK_REMOVED)
            position = end
        out.extend(self._mentions(text[position:]))
        return out

    def _mentions(self, text: str) -> list[_Piece]:
        """Escaped text in which every mention, and every "@" that the next piece of text
        could complete into one ("@" + a link label "octocat"), is inline code."""
        out: list[_Piece] = []
        position = 0
        for start, end in _at_signs(text):
            out.append(_escape(text[position:start]))
            out.append(_Code(text[start:end]))
            position = end
        out.append(_escape(text[position:]))
        return out

    # Inline content -------------------------------------------------------------------

    def inline(self, nodes: Iterable[SyntaxTreeNode]) -> str:
        return _join(piece for node in nodes for piece in self._inline(node))

    def _inline(self, node: SyntaxTreeNode) -> list[_Piece]:
        kind = node.type
        if kind in ("text", "html_inline"):
            return self.text(node.content)
        if kind == "code_inline":
            return [_Code(node.content)]
        if kind == "softbreak":
            return ["\n"]
        if kind == "hardbreak":
            return ["\\\n"]
        if kind == "em":
            return [f"*{self.inline(node.children)}*"]
        if kind == "strong":
            return [f"**{self.inline(node.children)}**"]
        if kind == "s":
            return [f"~~{self.inline(node.children)}~~"]
        if kind == "link":
            href = str(node.attrs.get("href", ""))
            if _is_allowed_link(href, self.allowed_host) and node.children:
                return [f"[{self.inline(node.children)}]({_escape_destination(href)})"]
            return [piece for child in node.children for piece in self._inline(child)]
        if kind == "image":
            alt = _join(self.text(_plain(node.children)))
            return [f"(image: {alt})" if alt else "(image)"]
        return self.text(_plain(node.children) if node.children else node.content)

    # Blocks ---------------------------------------------------------------------------

    def document(self, root: SyntaxTreeNode) -> str:
        return "\n".join(self._blocks(root.children))

    def _blocks(self, nodes: Iterable[SyntaxTreeNode], *, tight: bool = False) -> list[str]:
        lines: list[str] = []
        for node in nodes:
            if lines and not tight:
                lines.append("")
            lines.extend(self._block(node))
        return lines

    def _block(self, node: SyntaxTreeNode) -> list[str]:
        kind = node.type
        if kind == "paragraph":
            return self._inline_lines(node)
        if kind == "heading":
            level = int(node.tag[1:]) if node.tag[1:].isdigit() else 1
            return ["#" * level + " " + " ".join(self._inline_lines(node))]
        if kind in ("fence", "code_block"):
            info = _INFO_WORD.match(node.info.strip()) if kind == "fence" else None
            language = (info.group() or "") if info else ""
            # A suggestion block is Sentinel's own (render.py); one in model prose is code.
            return code_fence(node.content, "" if language == "suggestion" else language)
        if kind == "hr":
            return ["---"]
        if kind == "blockquote":
            return [f"> {line}" if line else ">" for line in self._blocks(node.children)]
        if kind in ("bullet_list", "ordered_list"):
            return self._list(node)
        if kind == "html_block":
            text = [line.strip() for line in node.content.strip("\n").split("\n")]
            return [_join(self.text(line)) for line in text if line]
        return [_join(self.text(line)) for line in _plain(node.children).split("\n") if line]

    def _inline_lines(self, node: SyntaxTreeNode) -> list[str]:
        inline = node.children[0].children if node.children else []
        return self.inline(inline).split("\n")

    def _list(self, node: SyntaxTreeNode) -> list[str]:
        lines: list[str] = []
        start = int(str(node.attrs.get("start", 1)))
        for index, item in enumerate(node.children):
            marker = "-" if node.type == "bullet_list" else f"{start + index}."
            indent = " " * (len(marker) + 1)
            # A tight list's paragraphs are hidden; keep it tight (no blank lines) when written.
            tight = any(child.type == "paragraph" and child.hidden for child in item.children)
            body = self._blocks(item.children, tight=tight) or [""]
            lines.append(f"{marker} {body[0]}".rstrip())
            lines.extend(f"{indent}{line}" if line else "" for line in body[1:])
        return lines


def _plain(nodes: Iterable[SyntaxTreeNode]) -> str:
    parts: list[str] = []
    for node in nodes:
        if node.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif node.children:
            parts.append(_plain(node.children))
        else:
            parts.append(node.content)
    return "".join(parts)


def _escape_destination(href: str) -> str:
    return "".join("\\" + c if c in "()<>\\" else c for c in href)


def rewrite(text: str, *, allowed_host: str) -> str:
    """`text` as Markdown that renders the same words with nothing active in it."""
    return _Writer(allowed_host).document(SyntaxTreeNode(_PARSER.parse(text)))


# What CommonMark makes of the writer's own output; any other tag is raw HTML from the text.
_STRUCTURE_TAGS = frozenset(
    "p em strong del s code pre ul ol li blockquote hr br h1 h2 h3 h4 h5 h6 a".split()
)


class _RenderedPage(HTMLParser):
    """GitHub's rendering of a body, taken apart: tags, comments, and the text a reader
    sees (all of it, and the part outside code and links, where GitHub finds mentions)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.comments: list[str] = []
        self.text: list[str] = []
        self.prose: list[str] = []
        self._inert = 0  # inside <code>, <pre> or <a>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._inert += tag in ("code", "pre", "a")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        self._inert -= tag in ("code", "pre", "a")
        if tag in ("p", "li", "pre", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6"):
            self.text.append("\n")
            self.prose.append("\n")

    def handle_comment(self, data: str) -> None:
        self.comments.append(f"<!--{data}-->")

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        self.prose.append(" " if self._inert else data)


def _render_as_github(body: str) -> _RenderedPage:
    # cmark-gfm is the parser GitHub itself uses, with its autolink extension; raw HTML is
    # kept (CMARK_OPT_UNSAFE) so that any left in the body is seen here.
    html = cmarkgfm.github_flavored_markdown_to_html(body, options=Options.CMARK_OPT_UNSAFE)
    page = _RenderedPage()
    page.feed(html)
    page.close()
    return page


def unsafe_parts(body: str, *, allowed_host: str, own_html: Iterable[str] = ()) -> list[str]:
    """What GitHub would make active in `body` beyond Sentinel's own `own_html` markup:
    raw HTML, images, links and autolinks off `allowed_host`, @mentions. Empty when safe.
    It reads the body with GitHub's own parser (cmark-gfm), not the one the writer used."""
    allowed = {piece.strip() for piece in own_html}
    page = _render_as_github(body)
    found = [f"an HTML comment {c[:40]!r}" for c in page.comments if c not in allowed]
    for tag, attrs in page.tags:
        if tag == "img":
            found.append("an image")
        elif tag == "a":
            href = attrs.get("href") or ""
            if not _is_allowed_link(href, allowed_host):
                found.append(f"a link to {href[:60]!r}")
        elif tag not in _STRUCTURE_TAGS and (attrs or f"<{tag}>" not in allowed):
            found.append(f"raw HTML <{tag}>")
    if _MENTION.search("".join(page.prose)):
        found.append("an @mention")
    return found


def rendered_text(body: str) -> str:
    """The words a reader of `body` sees once GitHub renders it: escapes resolved, emphasis
    markers gone, code as its content. A secret check must look here too, since `ghs\\_…`
    in the source reads as `ghs_…` on the page."""
    return "".join(_render_as_github(body).text)
