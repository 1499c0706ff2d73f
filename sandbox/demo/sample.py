"""The demo's world: the organisation `acme` with the App installed, the repository
`acme/payments` (a small Python service on `main`), and a pull request whose diff carries real
defects.

The pull request adds weighted payout splits and S3 receipt archiving. It has
- a bug a model should catch: `split_by_weight` divides by the weights' sum without a guard
  (ZeroDivisionError for an empty or all-zero list) and hands out one cent too many;
- an unchecked None: `receipt_text` dereferences `find_customer(...)`, which may be None;
- committed AWS credentials in `payments/settings.py`, which the static secrets reviewer
  catches without a model.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # `run` reads the defects without loading the simulator
    from sandbox.github import GitHubState
    from sandbox.github.records import PullRequest, Repository

OWNER = "acme"
REPOSITORY = "payments"
INSTALLATION_ID = 61_000_001
REPOSITORY_ID = 61_000_101
BASE_BRANCH = "main"
AUTHOR = "dev-dana"

# Made-up credentials in AWS's formats, assembled here so this file holds no key-shaped text.
AWS_ACCESS_KEY_ID = "AKIA" + "Q4V7N2ZK8XW3RT6M"
AWS_SECRET_ACCESS_KEY = "kT9vQ2x" + "Lm4Rp8Wn6Zc3Yb1Hd5Fg7Js0Ua2Ve4Xi9"

BASE_FILES: dict[str, str] = {
    "README.md": """\
# payments

Splits, settles and refunds card payments for the Acme marketplace. Amounts are integer
cents everywhere; `payments.money` converts at the edges.

    python -m pytest
""",
    ".sentinel.yml": """\
# Sentinel's review settings for this repository (read from the base branch).
instructions: >-
  Amounts are integer cents. Flag float arithmetic on money, rounding that loses or invents a
  cent, and divisions without a guard.
path_instructions:
  - path: "payments/**"
    instructions: "Every split must add up to the original total, exactly."
""",
    "pyproject.toml": """\
[project]
name = "acme-payments"
version = "0.7.0"
requires-python = ">=3.11"
dependencies = ["boto3>=1.34"]
""",
    "payments/__init__.py": '"""Acme payments: splitting, settling and refunding."""\n',
    "payments/money.py": '''\
"""Money as integer cents: a float never holds an amount."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal


def to_cents(amount: str) -> int:
    """'12.34' -> 1234, rounding half to even as the card networks do."""
    return int((Decimal(amount) * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def format_cents(cents: int, currency: str = "USD") -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d} {currency}"
''',
    "payments/split.py": '''\
"""Splitting one payment between the sellers of an order."""

from __future__ import annotations


def split_evenly(total_cents: int, parties: int) -> list[int]:
    """Shares that differ by at most one cent and add up to `total_cents`."""
    if parties <= 0:
        raise ValueError("a payment needs at least one party")
    share, remainder = divmod(total_cents, parties)
    return [share + 1 if i < remainder else share for i in range(parties)]
''',
    "payments/customers.py": '''\
"""Customers, looked up by id."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Customer:
    id: str
    email: str
    default_card: str | None = None


_CUSTOMERS = {
    "cus_1001": Customer("cus_1001", "ada@example.com", "card_4242"),
    "cus_1002": Customer("cus_1002", "grace@example.com"),
}


def find_customer(customer_id: str) -> Customer | None:
    """The customer, or None when there is no such id."""
    return _CUSTOMERS.get(customer_id)
''',
    "payments/refunds.py": '''\
"""Refunds: never more than what was captured."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Payment:
    id: str
    captured_cents: int
    refunded_cents: int = 0


def refund(payment: Payment, amount_cents: int) -> int:
    """Refund `amount_cents` and return what is left to refund."""
    if amount_cents <= 0:
        raise ValueError("a refund must be positive")
    if payment.refunded_cents + amount_cents > payment.captured_cents:
        raise ValueError("cannot refund more than was captured")
    payment.refunded_cents += amount_cents
    return payment.captured_cents - payment.refunded_cents
''',
    "payments/settings.py": '''\
"""Settings, read from the environment."""

from __future__ import annotations

import os

DATABASE_URL = os.environ.get("PAYMENTS_DATABASE_URL", "postgresql://localhost/payments")
CURRENCY = os.environ.get("PAYMENTS_CURRENCY", "USD")
''',
    "tests/test_split.py": """\
from payments.split import split_evenly


def test_split_evenly_adds_up() -> None:
    assert split_evenly(1000, 3) == [334, 333, 333]
    assert sum(split_evenly(1001, 7)) == 1001
""",
}

PULL_TITLE = "Split payouts by item weight; archive receipts to S3"
PULL_BODY = """\
Sellers are now paid in proportion to the items they sold rather than evenly, and every
receipt is archived to S3 after settlement.

- `split_by_weight` in `payments/split.py`
- `payments/receipts.py`: receipt text and the S3 archive
- S3 settings in `payments/settings.py`
"""

HEAD_FILES: dict[str, str] = {
    "payments/split.py": BASE_FILES["payments/split.py"]
    + '''

def split_by_weight(total_cents: int, weights: list[int]) -> list[int]:
    """Shares proportional to `weights` (each seller's items), adding up to the total."""
    total_weight = sum(weights)
    shares = [total_cents * weight // total_weight for weight in weights]
    remainder = total_cents - sum(shares)
    for i in range(remainder + 1):
        shares[i % len(shares)] += 1
    return shares
''',
    "payments/receipts.py": '''\
"""Receipts: rendered after settlement and archived to S3."""

from __future__ import annotations

import boto3

from payments import settings
from payments.customers import find_customer
from payments.money import format_cents


def receipt_text(customer_id: str, shares: list[int]) -> str:
    customer = find_customer(customer_id)
    lines = [f"Receipt for {customer.email}"]
    lines += [f"  seller {i + 1}: {format_cents(share)}" for i, share in enumerate(shares)]
    lines.append(f"  total: {format_cents(sum(shares))}")
    return "\\n".join(lines)


def archive(receipt_id: str, text: str) -> None:
    s3 = boto3.client(
        "s3",
        region_name=settings.AWS_REGION,
        aws_access_key_id=settings.AWS_ACCESS_KEY_ID,
        aws_secret_access_key=settings.AWS_SECRET_ACCESS_KEY,
    )
    s3.put_object(
        Bucket=settings.RECEIPTS_BUCKET, Key=f"receipts/{receipt_id}.txt", Body=text.encode()
    )
''',
    "payments/settings.py": BASE_FILES["payments/settings.py"]
    + f"""
# Receipts archive. TODO: move the keys to the secrets manager before launch.
AWS_REGION = "eu-west-1"
RECEIPTS_BUCKET = "acme-payments-receipts"
AWS_ACCESS_KEY_ID = "{AWS_ACCESS_KEY_ID}"
AWS_SECRET_ACCESS_KEY = "{AWS_SECRET_ACCESS_KEY}"
""",
    "tests/test_split.py": BASE_FILES["tests/test_split.py"].replace(
        "from payments.split import split_evenly",
        "from payments.split import split_by_weight, split_evenly",
    )
    + """

def test_split_by_weight() -> None:
    assert split_by_weight(900, [1, 2]) == [300, 600]
""",
}


@dataclass(frozen=True)
class Defect:
    """Where the pull request is wrong, for tests and for the demo's closing note."""

    path: str
    line: int
    what: str
    found_by: str  # "static" (the secrets scanner) or "model"


def _line_of(path: str, needle: str) -> int:
    for number, line in enumerate(HEAD_FILES[path].splitlines(), start=1):
        if needle in line:
            return number
    raise ValueError(f"{needle!r} is not in {path}")


DEFECTS = (
    Defect(
        "payments/settings.py",
        _line_of("payments/settings.py", "AWS_ACCESS_KEY_ID ="),
        "a committed AWS access key ID",
        "static",
    ),
    Defect(
        "payments/settings.py",
        _line_of("payments/settings.py", "AWS_SECRET_ACCESS_KEY ="),
        "a committed AWS secret access key",
        "static",
    ),
    Defect(
        "payments/split.py",
        _line_of("payments/split.py", "// total_weight"),
        "division by zero when the weights are empty or all zero",
        "model",
    ),
    Defect(
        "payments/split.py",
        _line_of("payments/split.py", "range(remainder + 1)"),
        "off by one: hands out one cent more than the total",
        "model",
    ),
    Defect(
        "payments/receipts.py",
        _line_of("payments/receipts.py", "customer.email"),
        "find_customer may return None, which is dereferenced unchecked",
        "model",
    ),
)


def arrange_repository(state: GitHubState) -> None:
    """Install the App on `acme` and give it `acme/payments` with the service on `main`."""
    state.add_installation(INSTALLATION_ID, OWNER, account_type="Organization")
    state.add_repository(INSTALLATION_ID, OWNER, REPOSITORY, REPOSITORY_ID, BASE_BRANCH)
    for path, text in BASE_FILES.items():
        state.set_file(OWNER, REPOSITORY, BASE_BRANCH, path, text)
    base = state.git_for(_repository(state)).commits[base_sha(state)]
    base.message = "Payments service: even splits, refunds, customers"
    base.author_login = base.author_name = AUTHOR
    base.author_email = f"{AUTHOR}@users.noreply.github.com"


def base_sha(state: GitHubState) -> str:
    return state.git_for(_repository(state)).branches[BASE_BRANCH]


def open_sample_pull_request(state: GitHubState, number: int) -> PullRequest:
    """The sample pull request as #`number`, on a head commit of its own (a fresh SHA, as a
    new push would have), so every demo run is a new review."""
    return state.add_pull_request(
        OWNER,
        REPOSITORY,
        number,
        secrets.token_hex(20),
        base_sha(state),
        PULL_TITLE,
        PULL_BODY,
        AUTHOR,
        files=[{"filename": path, "content": text} for path, text in HEAD_FILES.items()],
        head_ref=f"payouts-by-weight-{number}",
        base_ref=BASE_BRANCH,
    )


def _repository(state: GitHubState) -> Repository:
    repository = state.repository(OWNER, REPOSITORY)
    if repository is None:
        raise KeyError(f"{OWNER}/{REPOSITORY} is not arranged")
    return repository
