"""What the adapters share when a call fails: the admin-facing wording of each error kind,
`retry-after` parsing, and keeping keys and request content out of messages.

A ProviderError message ends up in the run's failure reason, the check run and the logs, so it
is written for the workspace admin ("replace it in workspace settings"), names the provider,
the model or the endpoint host when that is what needs fixing, and never carries the API key,
the prompt or the diff. Provider wording is quoted only for bad requests (where it says what
was wrong, e.g. "prompt is too long") and only after redaction.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from reviewers.providers.base import ProviderError, ProviderErrorKind

LABELS = {"anthropic": "Anthropic", "openai": "OpenAI"}

# Long enough that a match is a quotation, not a coincidence ("the", "model").
_QUOTE_WINDOW = 24
_DETAIL_LIMIT = 200
# Key-shaped tokens from any provider, redacted even when they are not this request's key.
_KEY_LIKE = re.compile(r"\b(?:sk|pk|rk)-[A-Za-z0-9_\-*.]{6,}")


def parse_retry_after(
    headers: Mapping[str, str] | None, *, now: float | None = None
) -> float | None:
    """Seconds to wait, from `retry-after-ms` (OpenAI, Anthropic) or `retry-after` as delta
    seconds or an HTTP date (RFC 9110 allows both). None when absent or unreadable."""
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    return max(0.0, email.utils.mktime_tz(parsed) - (time.time() if now is None else now))


def endpoint_label(base_url: str) -> str:
    """scheme://host[:port] of a base URL: enough for an admin to spot a wrong endpoint, and
    free of the user-info or path segments some gateways put credentials in."""
    parts = urlsplit(base_url)
    host = parts.hostname or base_url
    if parts.hostname and ":" in parts.hostname:
        host = f"[{host}]"  # an IPv6 literal keeps its brackets, or the port runs into it
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}" if parts.scheme else host


def safe_detail(
    detail: str | None, *, secrets: Iterable[str], request_texts: Iterable[str]
) -> str | None:
    """The provider's own explanation, made safe to show: keys redacted, and dropped entirely
    when it quotes the request (a provider may echo part of the prompt back)."""
    if not detail:
        return None
    text = " ".join(detail.split())
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    text = _KEY_LIKE.sub("[redacted]", text)[:_DETAIL_LIMIT]
    haystacks = [t for t in request_texts if t]
    for start in range(max(0, len(text) - _QUOTE_WINDOW) + 1):
        window = text[start : start + _QUOTE_WINDOW]
        if len(window) == _QUOTE_WINDOW and any(window in h for h in haystacks):
            return None
    return text or None


class ErrorWording:
    """Builds the ProviderError for one provider and model, in one consistent voice."""

    def __init__(self, provider: str, model: str, base_url: str, timeout: float) -> None:
        self.provider = provider
        self.label = LABELS.get(provider, provider)
        self.model = model
        self.endpoint = endpoint_label(base_url)
        self.timeout = timeout

    def _error(
        self,
        kind: ProviderErrorKind,
        message: str,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> ProviderError:
        return ProviderError(
            kind,
            message,
            provider=self.provider,
            status_code=status,
            retry_after=retry_after,
        )

    def rejected_key(self, status: int) -> ProviderError:
        if status == 403:
            message = (
                f"the {self.label} key is not permitted to use model '{self.model}' (403): "
                "grant it access or replace it in workspace settings"
            )
        else:
            message = (
                f"the {self.label} key was rejected ({status}): replace it in workspace settings"
            )
        return self._error(ProviderErrorKind.AUTH, message, status)

    def out_of_credit(self, status: int, reason: str = "has no credit left") -> ProviderError:
        message = (
            f"the {self.label} account {reason} ({status}): add credit or raise the spend "
            f"limit in the {self.label} console, then re-run the review"
        )
        return self._error(ProviderErrorKind.QUOTA, message, status)

    def unknown_model(self, status: int) -> ProviderError:
        message = (
            f"the {self.label} API does not offer model '{self.model}' to this key ({status}): "
            "choose another model, or check the base URL, in workspace settings"
        )
        return self._error(ProviderErrorKind.BAD_REQUEST, message, status)

    def bad_request(self, status: int, detail: str | None) -> ProviderError:
        said = f": {detail}" if detail else ""
        message = (
            f"the {self.label} API rejected the review request for '{self.model}' ({status}){said}"
        )
        return self._error(ProviderErrorKind.BAD_REQUEST, message, status)

    def too_long(self, status: int, detail: str | None) -> ProviderError:
        said = f": {detail}" if detail else ""
        message = (
            f"the {self.label} API rejected a review request as longer than '{self.model}' "
            f"accepts ({status}){said}"
        )
        return self._error(ProviderErrorKind.TOO_LONG, message, status)

    def rate_limited(self, status: int, retry_after: float | None) -> ProviderError:
        when = f" in {retry_after:g} s" if retry_after is not None else ""
        message = (
            f"the {self.label} API is rate-limiting this key ({status}): "
            f"Sentinel will retry{when}; raise the key's rate limits with {self.label} "
            "if this keeps happening"
        )
        return self._error(ProviderErrorKind.RATE_LIMITED, message, status, retry_after)

    def overloaded(self, status: int, retry_after: float | None) -> ProviderError:
        message = f"the {self.label} API is overloaded ({status}): Sentinel will retry"
        return self._error(ProviderErrorKind.OVERLOADED, message, status, retry_after)

    def server_error(self, status: int, retry_after: float | None) -> ProviderError:
        message = f"the {self.label} API failed with a server error ({status}): Sentinel will retry"
        return self._error(ProviderErrorKind.SERVER, message, status, retry_after)

    def timed_out(self, status: int | None = None) -> ProviderError:
        message = (
            f"the {self.label} API did not answer within {self.timeout:g} s: Sentinel will retry"
        )
        return self._error(ProviderErrorKind.TIMEOUT, message, status)

    def not_public(self) -> ProviderError:
        message = (
            f"the {self.label} base URL {self.endpoint} leads to an address that is not public "
            "(loopback, private network or cloud metadata), where Sentinel never sends a key: "
            "set a public endpoint in workspace settings"
        )
        return self._error(ProviderErrorKind.BAD_REQUEST, message)

    def unreachable(self) -> ProviderError:
        message = (
            f"could not connect to the {self.label} API at {self.endpoint}: "
            "Sentinel will retry; check the base URL in workspace settings if this persists"
        )
        return self._error(ProviderErrorKind.CONNECTION, message)
