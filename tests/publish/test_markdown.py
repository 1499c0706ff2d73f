"""Posted bodies, read as GitHub reads them: a real CommonMark renderer decides what is code,
and nothing active (raw HTML, images, foreign links, mentions) survives sanitising."""

from __future__ import annotations

import re
import uuid
from html.parser import HTMLParser
from urllib.parse import urlsplit

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from app.publish.markdown import rendered_text, rewrite, unsafe_parts
from app.publish.render import Placed, comment_body
from app.publish.sanitize import (
    SecretInOutput,
    assert_no_secrets,
    plain_text,
    sanitize_markdown,
    strip_invisible,
)
from reviewers.findings import Category, Finding, Severity

HOST = "github.com"
# The writer's parser, and GitHub's own (cmark-gfm with its extensions, raw HTML kept so
# that any left is seen): the output is read by both.
RENDERER = MarkdownIt("commonmark", {"html": True}).enable("strikethrough")


def github_html(body: str) -> str:
    return cmarkgfm.github_flavored_markdown_to_html(body, options=Options.CMARK_OPT_UNSAFE)


# The strings that got `<img>` past the regex sanitiser, one per CommonMark rule it missed.
BYPASSES = {
    "backslash before a backtick": '\\`<img src="https://t.example/a.png">`',
    "fence indented four spaces": '    ```\n<img src="https://t.example/b.png">\n    ```',
    "backtick in a fence's info string": '```a`b\n<img src="https://t.example/c.png">\n```',
    "longer closing fence": '```\ncode\n`````\n<img src="https://t.example/d.png">\n```',
    "shorter closing fence": '````\ncode\n```\n<img src="https://t.example/e.png">\n````\n'
    '<img src="https://t.example/f.png">',
    "html comment": '<!-- x --><img src="https://t.example/g.png">',
    "entity-encoded mention": "&#64;octocat please look",
    "autolink": "<https://t.example/h>",
    "reference link": '[click][r]\n\n[r]: https://t.example/i "t"',
    "image": "![pixel](https://t.example/j.png)",
    "link to elsewhere": "[docs](https://t.example/k)",
    "bare url": "see https://t.example/l.",
    "www autolink": "see www.t.example",
    "email autolink": "mail ops@t.example",
    "raw html block": '<details><summary>x</summary>\n\n<img src="https://t.example/m.png">',
    "javascript link": "[x](javascript:alert(1))",
}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._in_code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_code += tag == "code"

    def handle_endtag(self, tag: str) -> None:
        self._in_code -= tag == "code"

    def handle_data(self, data: str) -> None:
        if not self._in_code:
            self.text.append(data)


# What CommonMark (from our own writer) may render; everything else would be model-made HTML.
_STRUCTURE = {"p", "em", "strong", "s", "del", "code", "pre", "ul", "ol", "li", "blockquote", "hr",
              "br", "h1", "h2", "h3", "h4", "h5", "h6", "a"}  # fmt: skip


def assert_inert(body: str) -> None:
    """`body` as rendered HTML: structure only, links on HOST, no mention outside code."""
    assert unsafe_parts(body, allowed_host=HOST) == []
    parsed = _Tags()
    parsed.feed(github_html(body))
    for tag, attrs in parsed.tags:
        assert tag in _STRUCTURE, (tag, body)
        if tag == "a":
            assert re.match(rf"https?://{re.escape(HOST)}(/|$)", attrs.get("href") or ""), attrs
    prose = "".join(parsed.text)
    for html in (RENDERER.render(body),):
        assert "<img" not in html.replace("&lt;img", ""), html
    assert not re.search(r"(^|[^\w`])@[A-Za-z0-9]", prose), prose
    for url in re.findall(r"(?:(?:https?|ftp)://|www\.)[^\s<]*", prose):
        assert urlsplit(url).hostname == HOST, (url, prose)  # GFM would autolink it
    assert "@t.example" not in prose  # nor an e-mail address


@pytest.mark.parametrize("text", BYPASSES.values(), ids=BYPASSES.keys())
def test_each_known_bypass_renders_inert(text: str) -> None:
    out = sanitize_markdown(text, allowed_host=HOST)
    assert_inert(out)
    assert "t.example" not in rendered_text(out).replace("(link removed)", "") or (
        "<code>" in RENDERER.render(out)
    )


def test_the_regex_sanitiser_bypass_really_renders_an_image() -> None:
    # The reason for this module: the input is raw HTML to CommonMark, not code.
    assert "<img" in RENDERER.render(BYPASSES["backslash before a backtick"])


def test_code_keeps_its_bytes_and_prose_its_words() -> None:
    text = (
        "Call `@decorator` and `a ``b`` c`.\n\n```python\nx = '<b>@y</b>'\n```\n\n"
        "rejected (401): fix it"
    )
    out = sanitize_markdown(text, allowed_host=HOST)
    assert_inert(out)
    html = RENDERER.render(out)
    assert "<code>@decorator</code>" in html
    assert "<code>a ``b`` c</code>" in html
    assert "x = '&lt;b&gt;@y&lt;/b&gt;'" in html
    assert '<pre><code class="language-python">' in html
    assert "rejected (401): fix it" in out  # prose stays readable as written


def test_allowed_links_stay_links() -> None:
    out = sanitize_markdown("[the PR](https://github.com/o/r/pull/1)", allowed_host=HOST)
    assert '<a href="https://github.com/o/r/pull/1">the PR</a>' in RENDERER.render(out)


def test_bidirectional_and_invisible_controls_are_removed() -> None:
    text = "a\u202eb\u2066c\u2067d\u2068e\u2069f\u061cg\u200bh\ufeffi\x00j"
    assert sanitize_markdown(text, allowed_host=HOST) == "abcdefghij"
    assert plain_text(text, allowed_host=HOST, limit=100) == "abcdefghij"


def test_shortening_never_leaves_a_fence_open() -> None:
    text = "intro\n\n```\n" + "x = 1\n" * 5000 + "```\n\nafter <img src=x>"
    out = sanitize_markdown(text, allowed_host=HOST, limit=2000)
    assert len(out) <= 2000
    assert out.endswith("… (truncated)")
    tokens = RENDERER.parse(out)
    assert tokens[-1].type == "paragraph_close"  # the note is prose, after a closed fence
    assert_inert(out)


def _placed(suggestion: str, body: str = "b") -> Placed:
    finding = Finding(path="a.py", line_start=3, line_end=3, severity=Severity.WARNING,
                      category=Category.BUG, title="t", body=body, suggestion=suggestion,
                      confidence=0.9)  # fmt: skip
    return Placed(finding_id=uuid.uuid4(), finding=finding, inline=True, line=3,
                  start_line=None, suggestion_allowed=True, reason="")  # fmt: skip


@pytest.mark.parametrize(
    "suggestion",
    ["x = 1", "```\n<img src=x>\n```", "`````\n@octocat <img src=x>", "a\n    ````\nb"],
)
def test_a_suggestion_is_posted_byte_for_byte_in_a_fence_it_cannot_leave(suggestion: str) -> None:
    body = comment_body(_placed(suggestion), allowed_host=HOST)
    fences = [t for t in RENDERER.parse(body) if t.type == "fence"]
    assert [(t.info, t.content) for t in fences] == [("suggestion", suggestion + "\n")]
    assert unsafe_parts(body, allowed_host=HOST, own_html=[body.rsplit("\n", 1)[1]]) == []


def test_a_suggestion_with_bidi_controls_is_withheld() -> None:
    body = comment_body(_placed("if ok:\u202e  # check"), allowed_host=HOST)
    assert "suggestion withheld" in body
    assert "```suggestion" not in body


def test_a_suggestion_in_the_models_prose_is_only_code() -> None:
    body = comment_body(_placed("y", body="```suggestion\nrm -rf /\n```"), allowed_host=HOST)
    infos = [t.info for t in RENDERER.parse(body) if t.type == "fence"]
    assert infos == ["", "suggestion"]


@pytest.mark.parametrize(
    "secret",
    [
        "ghs_" + "a" * 36,
        "ghp_" + "B" * 36,
        "gho_" + "c1" * 18,
        "github_pat_" + "11" + "A" * 20 + "_" + "b" * 30,
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        "-----BEGIN PRIVATE KEY-----",
    ],
)
def test_github_tokens_and_private_keys_never_pass(secret: str) -> None:
    with pytest.raises(SecretInOutput) as raised:
        assert_no_secrets(f"here: {secret} ok", [])
    assert secret not in str(raised.value)


def test_this_deployments_secrets_never_pass() -> None:
    with pytest.raises(SecretInOutput):
        assert_no_secrets("the secret is hunter2-webhook", ["hunter2-webhook"])
    assert_no_secrets("ghs_short and a public key -----BEGIN PUBLIC KEY-----", ["unrelated1"])


# Pieces from which hostile bodies are built: every syntax that can turn text active, and
# the characters that decide where code starts and ends.
_PIECES = st.sampled_from([
    "`", "``", "```", "````", "~~~", "\\", "\n", "\n\n", "    ", " ", "<", ">", "[", "]", "(",
    ")", "!", "*", "_", "&#64;", "&lt;", "@octocat", "@org/team", "<img src=x>",
    "<img src=\"https://t.example/p.png\">", "<a href=https://t.example>", "</a>", "<!--",
    "-->", "https://t.example/x", "https://github.com/o/r", "www.t.example", "ops@t.example",
    "[a](https://t.example)", "[a](https://github.com/x)", "![i](https://t.example/i.png)",
    "<https://t.example>", "[r]: https://t.example", "[r]", "- ", "1. ", "> ", "# ", "---",
    "|", "~~", "$", "word", "x", "\u202e", "\u2066", "```suggestion\n", "<details>",
    "javascript:alert(1)", "\t", "1)", "&",
])  # fmt: skip


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=40))
def test_every_body_we_could_post_renders_inert(pieces: list[str]) -> None:
    text = "".join(pieces)
    # The writer alone must be right: the fail-closed fallback (all as code) is not the answer.
    assert unsafe_parts(rewrite(strip_invisible(text), allowed_host=HOST), allowed_host=HOST) == []
    out = sanitize_markdown(text, allowed_host=HOST)
    assert_inert(out)
    assert "\u202e" not in out
    assert "\u2066" not in out


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["alpha", "beta", "gamma", " ", "\n"]), max_size=30))
def test_plain_words_survive_unchanged(pieces: list[str]) -> None:
    text = "".join(pieces)
    out = sanitize_markdown(text, allowed_host=HOST)
    assert rendered_text(out).split() == text.split()
