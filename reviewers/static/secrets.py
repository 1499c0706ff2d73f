"""Committed secrets on added lines: known token formats, private keys, high-entropy assignments.

Precision matters more than recall here: every hit is a critical finding, and a noisy secret
scanner gets switched off. So known formats are matched exactly, placeholders are skipped, and
a generic assignment must look random (Shannon entropy, digits and letters) to count.

A finding never carries the secret itself, only a masked form (`AKIA…WXYZ`): findings are
stored, posted to GitHub and printed, and must not spread what they warn about.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from reviewers.config import Category, Severity
from reviewers.diff import DiffLine, FileDiff
from reviewers.findings import Finding
from reviewers.linear import LinearMatch, LinearPattern, compile_linear

REVIEWER = "static:secrets"


@dataclass(frozen=True, slots=True)
class _Detector:
    kind: str  # what the user reads: "AWS access key ID"
    pattern: LinearPattern
    shown_prefix: int  # characters of the fixed, non-secret prefix to keep in the masked form
    confidence: float
    hint: str  # lower-case text every match contains (AKIA/ASIA: "ia"); without it, skip


def _d(kind: str, regex: str, shown_prefix: int, confidence: float, hint: str) -> _Detector:
    return _Detector(kind, compile_linear(regex), shown_prefix, confidence, hint)


# Most specific first: a later detector never claims text an earlier one matched. Every
# pattern here is RE2 (linear time; see reviewers/linear.py): no look-around, so "not followed
# by a key character" is written as consuming one such character or the end of the line.
_DETECTORS: tuple[_Detector, ...] = (
    _d(
        "private key",
        r"(?P<value>-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)",
        0,
        0.99,
        "private key",
    ),
    _d("Anthropic API key", r"\b(?P<value>sk-ant-[A-Za-z0-9_\-]{20,250})", 7, 0.98, "sk-ant-"),
    _d(
        "OpenAI API key",
        r"\b(?P<value>sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,250})",
        8,
        0.97,
        "sk-",
    ),
    _d("GitHub token", r"\b(?P<value>gh[pousr]_[A-Za-z0-9]{36,251})\b", 4, 0.98, "gh"),
    _d("GitHub token", r"\b(?P<value>github_pat_[A-Za-z0-9_]{22,244})\b", 11, 0.98, "github_pat_"),
    _d("Slack token", r"\b(?P<value>xox[baprs]-[A-Za-z0-9\-]{10,250})", 5, 0.97, "xox"),
    _d("Stripe live key", r"\b(?P<value>[sr]k_live_[A-Za-z0-9]{20,247})\b", 8, 0.98, "_live_"),
    _d(
        "Google API key",
        r"\b(?P<value>AIza[0-9A-Za-z_\-]{35})(?:[^0-9A-Za-z_\-]|$)",
        4,
        0.95,
        "aiza",
    ),
    _d("AWS access key ID", r"\b(?P<value>(?:AKIA|ASIA)[A-Z0-9]{16})\b", 4, 0.97, "ia"),
    _d(
        "AWS secret access key",
        r"(?i:aws).{0,30}?(?i:secret|_sk\b).{0,20}?[=:]\s*[\"']?"
        r"(?P<value>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)",
        0,
        0.95,
        "aws",
    ),
    _d(
        "JSON Web Token",
        r"\b(?P<value>eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{16,})",
        3,
        0.9,
        "eyj",
    ),
    # Older OpenAI keys (and many compatible vendors): sk- and a long run of letters/digits.
    _d("OpenAI API key", r"\b(?P<value>sk-[A-Za-z0-9]{40,64})\b", 3, 0.9, "sk-"),
)

# Names of variables that hold credentials (a regex, not a credential).
_CREDENTIAL_NAMES = (
    r"(?:passw(?:or)?d|pwd|secret|token|api[_\-]?key|access[_\-]?key|private[_\-]?key"
    r"|auth[_\-]?key|credential)"
)
# `name = "value"`, `"name": "value"`, `name := "value"`, `name => 'value'`.
# RE2 has no back-reference to "the same quote", so each quote is its own alternative.
_QUOTED_ASSIGNMENT = compile_linear(
    rf"(?i)(?P<name>[\w.\-]*{_CREDENTIAL_NAMES}[\w.\-]*)[\"']?\s*(?::=|=>|=|:)\s*[rbuf]?"
    r"(?:\"(?P<double>[^\"'\s]{8,})\"|'(?P<single>[^\"'\s]{8,})')"
)
# Unquoted env/YAML style: `DB_PASSWORD=...`, `export API_TOKEN=...`, `client_secret: ...`.
# The value may not contain `_`, `.` or brackets, so identifiers and calls (`token = get()`,
# `secret: settings.KEY`) never match; camelCase names are ruled out by `_bare_value_ok`.
_BARE_ASSIGNMENT = compile_linear(
    rf"^\s*(?:export\s+|-\s+)?(?P<name>[\w.\-]*(?i:{_CREDENTIAL_NAMES})[\w.\-]*)\s*[=:]\s*"
    r"(?P<value>[A-Za-z0-9+/=\-~!@$%^&*]{12,})\s*(?:#.*)?$"
)
# An env/YAML assignment is a short line; on a longer one the whole-line match would hand a
# megabyte "value" to the entropy check, so such lines are left to the other detectors.
_MAX_BARE_LINE = 1024
_GENERIC_CONFIDENCE = 0.9
# A line without any of these (lower-cased) cannot match a detector: skipping it keeps a
# 300,000-line diff cheap to scan. Plain substring tests beat one big regex alternation here.
_HINTS = (
    "private key",
    "akia",
    "asia",
    "gh",
    "github_pat_",
    "xox",
    "_live_",
    "aiza",
    "sk-",
    "eyj",
    "aws",
    "passw",
    "pwd",
    "secret",
    "token",
    "key",
    "credential",
)
_PLACEHOLDER_WORDS = (
    "example",
    "changeme",
    "change_me",
    "change-me",
    "placeholder",
    "your",
    "xxxx",
    "dummy",
    "fake",
    "sample",
    "redacted",
    "replace",
    "insert",
    "****",
    "...",
    "${",
    "{{",
    "%(",
    "$(",
    "<",
    ">",
)
# Extra giveaways for free-form values only; a random token containing them is too unlikely.
_GENERIC_PLACEHOLDER_WORDS = ("test", "secret", "password", "passwd", "token", "none", "null")
# Whole runs of base64 characters: a run of exactly 40 without `=` is a candidate (the same
# as "40 characters not preceded or followed by another", without look-around).
_BASE64_RUN = compile_linear(r"[A-Za-z0-9/+=]+")
_AWS_NEARBY_LINES = 5


@dataclass(frozen=True, slots=True)
class SecretMatch:
    kind: str
    start: int  # span of the secret value in the line
    end: int
    masked: str
    confidence: float
    name: str | None = None  # the variable it is assigned to, for generic hits


def find_secrets(text: str) -> list[SecretMatch]:
    """Secrets on one line, non-overlapping, left to right."""
    lowered = text.lower()
    if not _has_hint(lowered):
        return []
    found: list[SecretMatch] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    for detector in _DETECTORS:
        if detector.hint not in lowered:
            continue
        for match in detector.pattern.finditer(text):
            start, end = match.span("value")
            value = match.group("value") or ""
            if not free(start, end) or _is_placeholder(value, detector.shown_prefix):
                continue
            taken.append((start, end))
            masked = (
                "-----BEGIN … PRIVATE KEY-----"
                if detector.kind == "private key"
                else mask(value, detector.shown_prefix)
            )
            found.append(SecretMatch(detector.kind, start, end, masked, detector.confidence))
    generic = [(_QUOTED_ASSIGNMENT, looks_random)]
    if len(text) <= _MAX_BARE_LINE:
        generic.append((_BARE_ASSIGNMENT, _bare_value_ok))
    for pattern, accept in generic:
        for match in pattern.finditer(text):
            group = _value_group(match)
            start, end = match.span(group)
            value = match.group(group) or ""
            if not free(start, end) or not accept(value):
                continue
            taken.append((start, end))
            found.append(
                SecretMatch(
                    "hard-coded credential",
                    start,
                    end,
                    mask(value),
                    _GENERIC_CONFIDENCE,
                    name=(match.group("name") or "")[:60],
                )
            )
    found.sort(key=lambda m: m.start)
    return found


def _value_group(match: LinearMatch) -> str:
    """The group holding the assigned value: `value`, or the quote-specific one."""
    for name in ("value", "double", "single"):
        if name in match.names and match.start(name) >= 0:
            return name
    return "value"


def _has_hint(lowered: str) -> bool:
    # A plain loop: it runs for every line, and is about twice as fast as any() over a
    # generator expression.
    for hint in _HINTS:
        if hint in lowered:
            return True
    return False


def _may_hold_secrets(lines: Iterable[str]) -> bool:
    """False when no line can match a detector. One check over the joined lines instead of
    one per line: hints hold no newline (and lower-casing maps to ASCII character by
    character), so a hint is in the joined text exactly when it is in one of the lines. Most
    hunks hold none at all."""
    return _has_hint("\n".join(lines).lower())


def mask(value: str, shown_prefix: int = 0) -> str:
    """The fixed prefix (not secret), an ellipsis, and at most 4 trailing characters: enough
    to find and rotate the right key, never enough to use it."""
    rest = value[shown_prefix:]
    tail = 4 if len(rest) >= 16 else 2 if len(rest) >= 10 else 0
    return f"{value[:shown_prefix]}…{rest[-tail:] if tail else ''}"


def shannon_entropy(text: str) -> float:
    """Bits per character of the string's own character distribution."""
    if not text:
        return 0.0
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


def looks_random(value: str) -> bool:
    """A free-form value that is probably a real credential rather than a word or template.

    Thresholds: the entropy bar is 80% of the maximum a string of this length can reach,
    capped at 3.5 bits/char (random base64/hex of 20+ characters scores 3.8-5.5, English words
    and identifiers 2.5-3.3); and real keys mix letters and digits.
    """
    if _is_placeholder(value, 0) or any(w in value.lower() for w in _GENERIC_PLACEHOLDER_WORDS):
        return False
    if value.startswith(("/", "http://", "https://", "./", "~")):
        return False
    if not (any(c.isdigit() for c in value) and any(c.isalpha() for c in value)):
        return False
    bar = min(3.5, 0.8 * math.log2(len(value)))
    return shannon_entropy(value) >= bar


def _bare_value_ok(value: str) -> bool:
    # Unquoted, a camelCase identifier with a trailing digit (`userToken2`) looks random
    # enough; real keys have digits spread through them.
    return looks_random(value) and sum(c.isdigit() for c in value) >= 2


def _is_placeholder(value: str, shown_prefix: int) -> bool:
    body = value[shown_prefix:]
    lowered = body.lower()
    if any(word in lowered for word in _PLACEHOLDER_WORDS):
        return True
    # `AKIAAAAAAAAAAAAAAAAA`, `sk-000000…`: too few distinct characters to be a real key.
    return len(set(body)) < 5


def redact_lines(lines: Sequence[str]) -> list[str]:
    """The lines with every secret replaced by its masked form, for text leaving the process
    (prompts): a PEM block's base64 body lines are masked whole."""
    if not _may_hold_secrets(lines):
        return list(lines)
    out: list[str] = []
    in_pem = False
    for line in lines:
        if in_pem:
            if "-----END" in line and "PRIVATE KEY" in line:
                in_pem = False
                out.append(line)
            else:
                out.append("[private key material redacted]")
            continue
        matches = find_secrets(line)
        if any(m.kind == "private key" for m in matches) and "-----END" not in line:
            in_pem = True
        out.append(_replace(line, matches) if matches else line)
    return out


def _replace(line: str, matches: Sequence[SecretMatch]) -> str:
    for match in sorted(matches, key=lambda m: m.start, reverse=True):
        line = line[: match.start] + match.masked + line[match.end :]
    return line


def scan_file(file: FileDiff) -> list[Finding]:
    added = file.added_lines()
    if not _may_hold_secrets(line.text for line in added):
        return []
    findings: list[Finding] = []
    aws_id_lines: list[int] = []
    claimed: set[tuple[int, int]] = set()
    for line in added:
        if line.new_line is None:
            continue
        for match in find_secrets(line.text):
            findings.append(_finding(file.path, line.new_line, match))
            claimed.add((line.new_line, match.start))
            if match.kind == "AWS access key ID":
                aws_id_lines.append(line.new_line)
    if aws_id_lines:
        findings.extend(_aws_secrets_near(file.path, added, aws_id_lines, claimed))
    return findings


def scan(files: Iterable[FileDiff]) -> list[Finding]:
    return [finding for file in files for finding in scan_file(file)]


def _aws_secrets_near(
    path: str, added: Sequence[DiffLine], id_lines: list[int], claimed: set[tuple[int, int]]
) -> list[Finding]:
    """A 40-character base64 string within a few lines of an access key ID is almost always
    its secret key, whatever the variable is called."""
    findings: list[Finding] = []
    for line in added:
        new_line, text = line.new_line, line.text
        if new_line is None or not any(abs(new_line - i) <= _AWS_NEARBY_LINES for i in id_lines):
            continue
        for match in _BASE64_RUN.finditer(text):
            value = match.group() or ""
            if len(value) != 40 or "=" in value:
                continue
            if (new_line, match.start()) in claimed or not _mixed_base64(value):
                continue
            if _is_placeholder(value, 0):
                continue
            secret = SecretMatch(
                "AWS secret access key", match.start(), match.end(), mask(value), 0.95
            )
            findings.append(_finding(path, new_line, secret))
    return findings


def _mixed_base64(value: str) -> bool:
    return (
        any(c.islower() for c in value)
        and any(c.isupper() for c in value)
        and any(c.isdigit() for c in value)
        and shannon_entropy(value) >= 4.0
    )


def _finding(path: str, line: int, match: SecretMatch) -> Finding:
    what = f"a {match.kind}" if match.kind[0].lower() not in "aeiou" else f"an {match.kind}"
    if match.name:
        what += f" assigned to `{match.name}`"
    body = (
        f"Line {line} adds what looks like {what} (`{match.masked}`). A secret committed to "
        "git stays in the repository's history after the line is removed, and anyone who can "
        "read the repository or a fork of it can use it.\n\n"
        "**Revoke or rotate it now**, then load it at run time from the environment or a "
        "secret manager instead of the source."
    )
    return Finding(
        path=path,
        line_start=line,
        line_end=line,
        severity=Severity.CRITICAL,
        category=Category.SECURITY,
        title=f"Committed secret: {match.kind} ({match.masked})",
        body=body,
        confidence=match.confidence,
        source="static",
        reviewer=REVIEWER,
        extra={"detector": match.kind},
    )
