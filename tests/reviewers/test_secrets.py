"""Every credential below is fake and assembled at run time, so this file itself holds nothing
a secret scanner (ours, or GitHub's push protection) would flag."""

from __future__ import annotations

import pytest

from reviewers.config import Category, Severity
from reviewers.static.secrets import (
    find_secrets,
    looks_random,
    mask,
    redact_lines,
    scan,
    scan_file,
    shannon_entropy,
)
from tests.reviewers.helpers import file_diff, new_file

B62 = "A1b2C3d4E5f6G7h8J9k0L1m2N3p4Q5r6S7t8U9v0W1x2Y3z4"  # varied, not a real key


def _k(*parts: str) -> str:
    return "".join(parts)


AWS_ID = _k("AKIA", "Q3ZT7XK2M9PL4RWN")
AWS_SECRET = _k("wJa1rXUtnFEMIK7MDENGbPxRfiCY", "Hq9Zs2LmT4vB")
GH_PAT_CLASSIC = _k("gh", "p_", B62[:36])
GH_FINE = _k("github", "_pat_", B62[:22], "_", (B62 * 2)[:59])
SLACK = _k("xo", "xb-", "2049381123-5529381123-", B62[:24])
STRIPE = _k("sk", "_live_", B62[:24])
GOOGLE = _k("AI", "za", "Sy", B62[:33])
ANTHROPIC = _k("sk-", "ant-api03-", (B62 * 3)[:95], "AA")
OPENAI_PROJ = _k("sk-", "proj-", (B62 * 3)[:120])
OPENAI_LEGACY = _k("sk-", B62[:20], "T3Blbk", "FJ", B62[20:42])
JWT = _k(
    "eyJ",
    "hbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
    ".eyJ",
    "zdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ",
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
)


@pytest.mark.parametrize(
    ("line", "kind", "secret"),
    [
        ("-----BEGIN RSA PRIVATE KEY-----", "private key", "-----BEGIN RSA PRIVATE KEY-----"),
        (
            "key = '''-----BEGIN OPENSSH PRIVATE KEY-----",
            "private key",
            "-----BEGIN OPENSSH PRIVATE KEY-----",
        ),
        (f'aws_access_key_id = "{AWS_ID}"', "AWS access key ID", AWS_ID),
        (f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}", "AWS secret access key", AWS_SECRET),
        (f'token = "{GH_PAT_CLASSIC}"', "GitHub token", GH_PAT_CLASSIC),
        (f"GH_TOKEN={GH_FINE}", "GitHub token", GH_FINE),
        (f'slack = "{SLACK}"', "Slack token", SLACK),
        (f"stripe.api_key = '{STRIPE}'", "Stripe live key", STRIPE),
        (f'maps_key: "{GOOGLE}"', "Google API key", GOOGLE),
        (f'client = Anthropic(api_key="{ANTHROPIC}")', "Anthropic API key", ANTHROPIC),
        (f"OPENAI_API_KEY={OPENAI_PROJ}", "OpenAI API key", OPENAI_PROJ),
        (f'openai.api_key = "{OPENAI_LEGACY}"', "OpenAI API key", OPENAI_LEGACY),
        (f"Authorization: Bearer {JWT}", "JSON Web Token", JWT),
        ('db_password = "Xy7kP2qL9mN4zR8w"', "hard-coded credential", "Xy7kP2qL9mN4zR8w"),
        (
            '"api_key": "f3a9c2e8b7d14a6e9c0b5d2f8a1e4c7b",',
            "hard-coded credential",
            "f3a9c2e8b7d14a6e9c0b5d2f8a1e4c7b",
        ),
        ("export DB_PASSWORD=Tq8vN2xR5mK9pL3w", "hard-coded credential", "Tq8vN2xR5mK9pL3w"),
        ("  client_secret: 9fK2mQ7xL4pR8vN3tZ6w", "hard-coded credential", "9fK2mQ7xL4pR8vN3tZ6w"),
    ],
)
def test_detects_known_formats_and_random_assignments(line: str, kind: str, secret: str) -> None:
    (match,) = find_secrets(line)
    assert match.kind == kind
    assert line[match.start : match.end] == secret
    if kind != "private key":
        assert secret not in match.masked


@pytest.mark.parametrize(
    "line",
    [
        'password = "changeme"',
        'password = "xxxxxxxxxxxx"',
        'password: "${DB_PASSWORD}"',
        'api_key = "<token>"',
        'api_key = "<your-api-key-here>"',
        'secret = "{{ vault_secret }}"',
        'PASSWORD = "password123"',
        "token = get_token(user)",
        "SECRET = base64.b64decode(ENCODED_VALUE_2)",
        "password = some_function_name_v2",
        "  token: refreshTokenValue1",
        "  token: userToken2,",
        'api_key = os.environ["API_KEY"]',
        "api_key = settings.OPENAI_API_KEY",
        'token_url = "https://auth.example.com/oauth/token"',
        'password_field = "password"',
        'if token == "abc":',
        'secret_path = "/etc/app/secret.key"',
        'label = "Enter your password"',
        "AKIAIOSFODNN7EXAMPLE",  # the access key id in AWS's own documentation
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        _k("sk-", "x" * 48),
        _k("gh", "p_", "0" * 36),
        "AKIAAAAAAAAAAAAAAAAA",
        'session_token = "dummy-session-token-for-tests"',
        'TOKEN_HEADER = "X-Auth-Token"',
        "secret_name = 'prod/db/credentials'",
        "commit = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'",
        "# see https://docs.example.com for your api key",
        "",
    ],
)
def test_no_false_positives_on_placeholders_and_code(line: str) -> None:
    assert find_secrets(line) == []


@pytest.mark.parametrize(
    "secret",
    [
        AWS_ID,
        GH_PAT_CLASSIC,
        GH_FINE,
        SLACK,
        STRIPE,
        GOOGLE,
        ANTHROPIC,
        OPENAI_PROJ,
        OPENAI_LEGACY,
        JWT,
    ],
)
def test_known_formats_are_found_whatever_the_variable_is_called(secret: str) -> None:
    (match,) = find_secrets(f"x = ({secret})")
    assert match.kind != "hard-coded credential"


def test_aws_secret_key_near_an_access_key_id_whatever_its_name() -> None:
    file = new_file(
        "deploy/config.py", [f'ID = "{AWS_ID}"', "REGION = 'eu-west-1'", f'K = "{AWS_SECRET}"']
    )
    findings = scan_file(file)
    assert [(f.line_start, f.title.split(":")[1].split("(")[0].strip()) for f in findings] == [
        (1, "AWS access key ID"),
        (3, "AWS secret access key"),
    ]


def test_findings_are_critical_security_static_and_never_carry_the_secret() -> None:
    lines = [
        f"KEY_{i} = '{value}'"
        for i, value in enumerate((AWS_ID, GH_PAT_CLASSIC, STRIPE, JWT, ANTHROPIC))
    ]
    file = new_file("src/settings.py", ["import os", *lines])
    findings = scan_file(file)
    assert len(findings) == 5
    for finding, secret in zip(
        findings, (AWS_ID, GH_PAT_CLASSIC, STRIPE, JWT, ANTHROPIC), strict=True
    ):
        assert finding.severity is Severity.CRITICAL
        assert finding.category is Category.SECURITY
        assert finding.source == "static"
        assert finding.reviewer == "static:secrets"
        assert 0.9 <= finding.confidence <= 0.99
        assert finding.suggestion is None
        text = " ".join([finding.title, finding.body, finding.path, *finding.extra.values()])
        assert secret not in text
        assert secret[-12:] not in text
        assert "…" in finding.title
    assert [f.line_start for f in findings] == [2, 3, 4, 5, 6]
    assert findings[0].title == f"Committed secret: AWS access key ID (AKIA…{AWS_ID[-4:]})"
    assert "Revoke or rotate it now" in findings[0].body


def test_only_added_lines_are_scanned() -> None:
    patch = (
        "@@ -1,3 +1,3 @@\n"
        f' OLD_CONTEXT = "{GH_PAT_CLASSIC}"\n'
        f'-REMOVED = "{STRIPE}"\n'
        f'+ADDED = "{AWS_ID}"\n'
        " end = True"
    )
    findings = scan([file_diff("a.py", patch)])
    assert [f.extra["detector"] for f in findings] == ["AWS access key ID"]


def test_distinct_secrets_have_distinct_fingerprints() -> None:
    other = _k("AKIA", "Z9Y8X7W6V5U4T3S2")
    findings = scan([new_file("a.py", [f"a = '{AWS_ID}'", f"b = '{other}'", f"c = '{AWS_ID}'"])])
    assert len(findings) == 3
    assert len({f.fingerprint for f in findings}) == 2  # the repeated key is one finding to post


@pytest.mark.parametrize(
    ("value", "prefix", "masked"),
    [
        (AWS_ID, 4, f"AKIA…{AWS_ID[-4:]}"),
        ("abcdefghij", 0, "…ij"),
        ("short", 0, "…"),
        (GH_PAT_CLASSIC, 4, f"ghp_…{GH_PAT_CLASSIC[-4:]}"),
    ],
)
def test_mask(value: str, prefix: int, masked: str) -> None:
    assert mask(value, prefix) == masked


def test_entropy_and_randomness() -> None:
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == 2.0
    assert looks_random("Xy7kP2qL9mN4zR8w")
    assert not looks_random("hunter2hunter2")
    assert not looks_random("correcthorsebatterystaple")


def test_redact_lines_masks_the_one_line_with_a_secret() -> None:
    lines = ["def settings():", f'    key = "{AWS_ID}"', "    return key", "-----BEGIN"]
    redacted = redact_lines(lines)
    assert redacted[0] == lines[0]
    assert redacted[1] == f'    key = "AKIA…{AWS_ID[-4:]}"'
    assert redacted[2:] == lines[2:]
    clean = ["def f():", "    return 1"]
    assert redact_lines(clean) == clean


def test_a_hint_spelled_with_unicode_still_reaches_the_detectors() -> None:
    # The only hint here is "key", spelled with a KELVIN SIGN that lower-cases to "k": the
    # check over a whole hunk must let it through, as the check per line does.
    lines = ["x = 1", 'api_\u212aey = "h7Gk29xQpL0zVb4q"']
    assert redact_lines(lines) == ["x = 1", 'api_\u212aey = "…Vb4q"']
    assert [f.line_start for f in scan([new_file("a.py", lines)])] == [2]
