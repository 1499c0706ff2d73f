"""`python -m sandbox.demo run`: one end-to-end review against running processes.

With the sandbox (`serve-github`), `sentinel api` and `sentinel worker` up, it drives GitHub's
side through the sandbox's control API and reads Sentinel's side through Sentinel's REST API:

1. deliver `installation.created`, so Sentinel provisions the `acme` workspace, and mint an
   admin and a billing token with `sentinel token create`;
2. save `ANTHROPIC_API_KEY` (or `OPENAI_API_KEY`) as the workspace's provider key through
   `PUT /v1/workspaces/acme/provider-keys/{provider}`, or, with neither set, make sure the
   workspace has no key, so the static reviewer reviews alone;
3. open the sample pull request and deliver `pull_request.opened`;
4. wait for the run to end (`GET /v1/workspaces/acme/runs`), then print what GitHub received
   (inline comments, check run, summary) and the run's usage records
   (`GET /v1/workspaces/acme/usage/records`, with the billing token).

Exit status 0 when the review completed, 1 otherwise (with the reason).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import httpx

from sandbox.demo import sample
from sandbox.demo.statefiles import SandboxInfo, read_info

TERMINAL = {"completed", "failed", "skipped", "superseded", "cancelled"}
STATIC_TIMEOUT = 120.0
MODEL_TIMEOUT = 600.0
POLL_SECONDS = 0.5
USAGE_WAIT = 60.0


class DemoError(Exception):
    """The demo cannot go on; the message says why and where to look."""


@dataclass(frozen=True)
class RunOptions:
    state_dir: Path
    sentinel_url: str = "http://127.0.0.1:8000"
    timeout: float | None = None  # None: STATIC_TIMEOUT, or MODEL_TIMEOUT with a model
    logs_hint: str = ".data/logs/"


@dataclass(frozen=True)
class ModelKey:
    provider: str
    api_key: str
    variable: str  # where it came from
    base_url: str | None
    model: str | None


def model_key_from_environment(environ: dict[str, str] | None = None) -> ModelKey | None:
    """The key a model review uses, read as `sentinel review` reads it (Anthropic first)."""
    env = os.environ if environ is None else environ
    for provider, key_var, url_var in (
        ("anthropic", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"),
        ("openai", "OPENAI_API_KEY", "OPENAI_BASE_URL"),
    ):
        key = (env.get(key_var) or "").strip()
        if key:
            return ModelKey(
                provider=provider,
                api_key=key,
                variable=key_var,
                base_url=(env.get(url_var) or "").strip() or None,
                model=(env.get("SENTINEL_REVIEW_MODEL") or "").strip() or None,
            )
    return None


# -- talking to the sandbox and to Sentinel ----------------------------------------------


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return f"HTTP {response.status_code}: {error['message']}"
        if body.get("detail"):
            return f"HTTP {response.status_code}: {body['detail']}"
    return f"HTTP {response.status_code}: {str(body)[:200]}"


class Api:
    def __init__(self, client: httpx.Client, what: str) -> None:
        self.client = client
        self.what = what

    def call(self, method: str, path: str, *, token: str | None = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            response = self.client.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as error:
            raise DemoError(f"{self.what} did not answer {method} {path}: {error}") from None
        if response.status_code >= 400:
            raise DemoError(f"{self.what}: {method} {path}: {_error_message(response)}")
        return response.json() if response.content else None


def wait_until_ready(client: httpx.Client, url: str, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            response = client.get(url, timeout=2)
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}"
        except httpx.HTTPError as error:
            last = type(error).__name__
        time.sleep(0.25)
    raise DemoError(f"{what} is not ready at {url} after {timeout:.0f} s ({last})")


def sentinel_binary() -> str:
    beside = Path(sys.executable).with_name("sentinel")
    if beside.exists():
        return str(beside)
    found = shutil.which("sentinel")
    if found is None:
        raise DemoError("the `sentinel` command is not installed (run ./scripts/quickstart)")
    return found


def mint_tokens(workspace: str, roles: list[str], *, wait: float) -> list[str]:
    """`sentinel token create` for each role, side by side (the CLI takes seconds to start),
    retried while the worker is still provisioning the workspace."""
    binary = sentinel_binary()
    deadline = time.monotonic() + wait
    tokens: dict[str, str] = {}
    while True:
        pending = [role for role in roles if role not in tokens]
        processes = {
            role: subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
                [binary, "token", "create", "--workspace", workspace, "--role", role,
                 "--name", f"sandbox demo ({role})"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            for role in pending
        }  # fmt: skip
        failures = []
        for role, process in processes.items():
            stdout, stderr = process.communicate()
            if process.returncode == 0 and stdout.strip():
                tokens[role] = stdout.strip().splitlines()[-1]
            else:
                failures.append((stderr.strip().splitlines() or ["no output"])[-1])
        if not failures:
            return [tokens[role] for role in roles]
        if any("no workspace" not in f for f in failures):
            raise DemoError(
                f"`sentinel token create --workspace {workspace}` failed: {failures[0]}"
            )
        if time.monotonic() > deadline:
            raise DemoError(
                f"no workspace {workspace!r} {wait:.0f} s after the installation: is "
                "`sentinel worker` running? (its log says why not)"
            )
        time.sleep(0.5)


# -- the demo -----------------------------------------------------------------------------


class Out:
    """The demo's story on stdout, flushed as it goes."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, text: str = "", end: str = "\n") -> None:
        self.stream.write(text + end)
        self.stream.flush()


@dataclass
class Demo:
    options: RunOptions
    info: SandboxInfo
    sandbox: Api
    sentinel: Api
    out: Out
    model: ModelKey | None
    clock: Callable[[], float] = time.monotonic

    @property
    def workspace(self) -> str:
        return self.info.owner.lower()

    @property
    def repository(self) -> str:
        return f"{self.info.owner}/{self.info.repository}"

    def ws(self, path: str) -> str:
        return f"/v1/workspaces/{self.workspace}{path}"

    # 1 --------------------------------------------------------------------------------
    def install(self) -> tuple[str, str]:
        delivered = self.sandbox.call("POST", "/install")["delivery"]
        _check_delivery(delivered, "installation.created")
        self.out(
            f"1. Installed the App on {self.info.owner}: installation.created delivered, "
            f"Sentinel answered {delivered['status_code']}"
        )
        admin, billing = mint_tokens(self.workspace, ["admin", "billing"], wait=60)
        self.out(
            f'   workspace "{self.workspace}" provisioned; API tokens (admin, billing) minted '
            "with `sentinel token create`"
        )
        return admin, billing

    # 2 --------------------------------------------------------------------------------
    def configure_model(self, admin: str) -> None:
        keys = self.sentinel.call("GET", self.ws("/provider-keys"), token=admin)["provider_keys"]
        saved: dict[str, Any] | None = None
        if self.model is not None:
            body: dict[str, Any] = {"api_key": self.model.api_key}
            if self.model.base_url:
                body["base_url"] = self.model.base_url
            if self.model.model:
                body["model"] = self.model.model
            saved = self.sentinel.call(
                "PUT", self.ws(f"/provider-keys/{self.model.provider}"), token=admin, json=body
            )
        # Only the demo's key stays: with none, the static reviewer reviews alone; with two
        # and no policy naming one, Sentinel would use neither.
        stale = [
            k["provider"]
            for k in keys
            if self.model is None or k["provider"] != self.model.provider
        ]
        for provider in stale:
            self.sentinel.call("DELETE", self.ws(f"/provider-keys/{provider}"), token=admin)
        if self.model is None or saved is None:
            self.out(
                "2. No model key (ANTHROPIC_API_KEY and OPENAI_API_KEY are unset): the "
                "workspace has"
            )
            self.out("   no provider key, so the static reviewer reviews alone")
        else:
            where = f", base URL {saved['base_url']}" if saved.get("base_url") else ""
            model = saved.get("model") or "the provider's default model"
            self.out(
                f"2. Saved {self.model.variable} as the workspace's {self.model.provider} key, "
                f"…{saved['key_last4']} ({model}{where}),"
            )
            self.out(
                f"   with PUT /v1/workspaces/{self.workspace}/provider-keys/{self.model.provider}"
            )
        for provider in stale:
            self.out(f"   (removed the {provider} key an earlier demo run saved)")

    # 3 --------------------------------------------------------------------------------
    def open_pull_request(self, admin: str) -> dict[str, Any]:
        runs = self.sentinel.call("GET", self.ws("/runs"), token=admin, params={"limit": 200})
        numbers = [
            r["pull_request_number"] for r in runs["runs"] if r.get("repository") == self.repository
        ]
        opened = self.sandbox.call(
            "POST", "/open-pull-request", json={"at_least": max(numbers, default=0) + 1}
        )
        files = opened["files"]
        added = sum(f["additions"] or 0 for f in files)
        removed = sum(f["deletions"] or 0 for f in files)
        self.out(f'3. Opened {self.repository}#{opened["number"]} "{opened["title"]}"')
        self.out(
            f"   {opened['user']} wants to merge {opened['head_ref']} "
            f"({opened['head_sha'][:7]}) into {opened['base_ref']}: {len(files)} files, "
            f"+{added} -{removed}"
        )
        width = max(len(f["filename"]) for f in files)
        for f in files:
            counts = f"+{f['additions']} -{f['deletions']}"
            self.out(f"     {f['status']:<8} {f['filename']:<{width}}  {counts}")
        _check_delivery(opened["delivery"], "pull_request.opened")
        self.out(
            f"   pull_request.opened delivered, Sentinel answered "
            f"{opened['delivery']['status_code']}"
        )
        return opened

    # 4 --------------------------------------------------------------------------------
    def wait_for_run(self, admin: str, number: int, head_sha: str) -> dict[str, Any]:
        timeout = self.options.timeout or (MODEL_TIMEOUT if self.model else STATIC_TIMEOUT)
        started = self.clock()
        self.out("4. Waiting for the review ", end="")
        status = "not created yet"
        while self.clock() - started < timeout:
            runs = self.sentinel.call("GET", self.ws("/runs"), token=admin, params={"limit": 50})
            mine = [
                r
                for r in runs["runs"]
                if r["pull_request_number"] == number
                and r["head_sha"] == head_sha
                and r.get("repository") == self.repository
            ]
            if mine:
                status = mine[0]["status"]
                if status in TERMINAL:
                    self.out(f" {status} in {self.clock() - started:.1f} s")
                    return dict(mine[0])
            self.out(".", end="")
            time.sleep(POLL_SECONDS)
        self.out(" timed out")
        raise DemoError(
            f"the review of {self.repository}#{number} did not finish within {timeout:.0f} s "
            f"(run status: {status}); see the worker's log in {self.options.logs_hint}"
        )

    def usage_of(self, billing: str, run: dict[str, Any]) -> list[dict[str, Any]]:
        """The run's usage records from the feed. The feed shows a record once every
        transaction older than it has ended (on the whole Postgres server), so a completed
        run's records may take a moment to appear: the feed's cursor is followed until they
        do, or until USAGE_WAIT seconds have passed."""
        records: list[dict[str, Any]] = []
        after: str | None = None
        expected = run["status"] == "completed"  # it wrote a `review` record, at least
        started = self.clock()
        waited = False
        while True:
            params: dict[str, Any] = {"limit": 5000}
            if after:
                params["after"] = after
            page = self.sentinel.call(
                "GET", self.ws("/usage/records"), token=billing, params=params
            )
            records += [r for r in page["records"] if r["run_id"] == str(run["id"])]
            after = page["next"]
            if page["has_more"]:
                continue
            if records or not expected or self.clock() - started > USAGE_WAIT:
                break
            if not waited:
                self.out("5. Waiting for the usage feed to show the run's records ", end="")
                waited = True
            self.out(".", end="")
            time.sleep(POLL_SECONDS)
        if waited:
            self.out(f" {len(records)} record(s) after {self.clock() - started:.1f} s")
        return records

    # the report -------------------------------------------------------------------------
    def report(
        self,
        run: dict[str, Any],
        detail: dict[str, Any],
        published: dict[str, Any],
        usage: list[dict[str, Any]],
    ) -> None:
        out = self.out
        number = published["pull_request"]["number"]
        out()
        out(f"What Sentinel posted on {self.repository}#{number}")
        reviewer_of = _reviewers_by_comment(detail)
        comments = [c for c in published["review_comments"] if c["user"].endswith("[bot]")]
        reviews = [r for r in published["reviews"] if r["user"].endswith("[bot]")]
        if reviews:
            review = reviews[-1]
            out(f"  Review ({review['state']}) with {len(comments)} inline comment(s):")
        else:
            out("  No review with inline comments")
        places = [_place(c) for c in comments]
        width = max((len(p) for p in places), default=0)
        for comment, place in zip(comments, places, strict=True):
            by = reviewer_of.get((str(comment["path"]), int(comment["line"])))
            out(f"    {place:<{width}}  {_title(comment['body'])}" + (f"  [{by}]" if by else ""))

        checks = [c for c in published["check_runs"] if c["name"] == "Sentinel"]
        if checks:
            check = checks[-1]
            out(
                f'  Check run "Sentinel" on {check["head_sha"][:12]}: {check["status"]}, '
                f"conclusion: {check['conclusion'] or '(none yet)'}, "
                f"{len(check['annotations'])} annotation(s)"
            )
            if check.get("title"):
                out(f"    title: {check['title']}")
            if check["conclusion"] == "neutral" and "critical" in (check.get("title") or ""):
                out(
                    "    (critical findings fail the check only under a policy that sets "
                    "fail_on_critical)"
                )
        else:
            out('  No check run named "Sentinel"')

        summaries = [c for c in published["issue_comments"] if "sentinel:summary" in c["body"]]
        if summaries:
            out("  Summary comment (one per pull request, updated in place on later pushes):")
            for line in _without_markers(summaries[-1]["body"]):
                out(f"    │ {line}".rstrip())
        else:
            out("  No summary comment")

        out()
        out(
            f"Usage records of this run (GET /v1/workspaces/{self.workspace}/usage/records, "
            "billing token):"
        )
        if usage:
            out(f"    {'type':<20} {'quantity':>9}  model")
            for record in usage:
                out(f"    {record['type']:<20} {record['quantity']:>9}  {record['model'] or '-'}")
        elif run["status"] == "completed":
            out(
                "    (none visible yet: the feed shows a record once every older transaction "
                "on the Postgres server has ended)"
            )
        else:
            out("    (none)")

        out()
        self._verdict(run, detail)

    def _verdict(self, run: dict[str, Any], detail: dict[str, Any]) -> None:
        out = self.out
        metrics = run.get("metrics") or {}
        findings = detail.get("findings") or []
        by_reviewer: dict[str, int] = {}
        for finding in findings:
            who = (finding.get("metadata") or {}).get("reviewer") or "?"
            by_reviewer[who] = by_reviewer.get(who, 0) + 1
        found = ", ".join(f"{n} by {who}" for who, n in sorted(by_reviewer.items())) or "none"
        if run["status"] != "completed":
            out(f"The run ended {run['status']}: {run.get('status_reason') or 'no reason given'}")
            return
        if metrics.get("provider"):
            out(
                f"Reviewed by the static reviewer and {metrics['provider']} "
                f"{metrics.get('model')} ({metrics.get('model_calls', 0)} model call(s), "
                f"{metrics.get('input_tokens', 0)} input / {metrics.get('output_tokens', 0)} "
                f"output tokens). Findings: {found}."
            )
            return
        out(f"Reviewed by the static reviewer alone (no model call). Findings: {found}.")
        missed = [d for d in sample.DEFECTS if d.found_by == "model"]
        out("The pull request's other defects need a model to be found:")
        width = max(len(f"{d.path}:{d.line}") for d in missed)
        for defect in missed:
            out(f"    {f'{defect.path}:{defect.line}':<{width}}  {defect.what}")
        out("Set ANTHROPIC_API_KEY or OPENAI_API_KEY and run the demo again for a model review.")


def _check_delivery(delivery: dict[str, Any], what: str) -> None:
    if not 200 <= int(delivery["status_code"]) < 300:
        hint = (
            " (the webhook secrets of the sandbox and of Sentinel differ)"
            if delivery["status_code"] == 401
            else ""
        )
        raise DemoError(
            f"GitHub's {what} delivery failed: {delivery['status']}{hint} "
            f"{delivery.get('response', '')}".strip()
        )


def _place(comment: dict[str, Any]) -> str:
    if comment.get("start_line") and comment["start_line"] != comment["line"]:
        return f"{comment['path']}:{comment['start_line']}-{comment['line']}"
    return f"{comment['path']}:{comment['line']}"


def _title(body: str) -> str:
    first = body.strip().splitlines()[0] if body.strip() else ""
    return first.strip().strip("*").strip()


def _without_markers(body: str) -> list[str]:
    return [line for line in body.rstrip().splitlines() if not line.startswith("<!-- sentinel:")]


def _reviewers_by_comment(detail: dict[str, Any]) -> dict[tuple[str, int], str]:
    """(path, last line) of each inline comment -> which reviewer's finding it carries (e.g.
    `static:secrets`)."""
    found: dict[tuple[str, int], str] = {}
    for finding in detail.get("findings") or []:
        reviewer = (finding.get("metadata") or {}).get("reviewer")
        for annotation in finding.get("annotations") or []:
            if annotation["type"] == "review_comment":
                found[(str(finding["file_path"]), int(finding["line_end"]))] = reviewer or "?"
    return found


def run_demo(options: RunOptions, stream: TextIO | None = None) -> int:
    out = Out(stream or sys.stdout)
    try:
        info = read_info(options.state_dir)
    except FileNotFoundError:
        raise DemoError(
            f"no GitHub sandbox is running with state in {options.state_dir} "
            "(start `python -m sandbox.demo serve-github` first)"
        ) from None
    model = model_key_from_environment()
    with (
        httpx.Client(
            base_url=info.control_url,
            timeout=30,
            headers={"Authorization": f"Bearer {info.control_token}"},
        ) as sandbox_client,
        httpx.Client(base_url=options.sentinel_url.rstrip("/"), timeout=30) as sentinel_client,
    ):
        demo = Demo(
            options=options,
            info=info,
            sandbox=Api(sandbox_client, "the GitHub sandbox"),
            sentinel=Api(sentinel_client, "Sentinel"),
            out=out,
            model=model,
        )
        wait_until_ready(sandbox_client, "/status", "the GitHub sandbox", 30)
        wait_until_ready(sentinel_client, "/readyz", "Sentinel's API", 60)
        out("Sentinel demo: a pull request reviewed end to end on the built-in GitHub sandbox")
        out(
            f'  GitHub sandbox  {info.api_url} (App {info.app_id} "{info.app_slug}", '
            f"repository {demo.repository})"
        )
        out(f"  Sentinel API    {options.sentinel_url} (webhooks to /webhooks/github)")
        if model is None:
            out(
                "  Reviewer        the static reviewer alone (no ANTHROPIC_API_KEY or "
                "OPENAI_API_KEY set)"
            )
        else:
            out(
                f"  Reviewer        the static reviewer and {model.provider} "
                f"(key from {model.variable})"
            )
        out()
        admin, billing = demo.install()
        demo.configure_model(admin)
        opened = demo.open_pull_request(admin)
        run = demo.wait_for_run(admin, opened["number"], opened["head_sha"])
        detail = demo.sentinel.call("GET", demo.ws(f"/runs/{run['id']}"), token=admin)
        published = demo.sandbox.call("GET", f"/pull-requests/{opened['number']}/published")
        usage = demo.usage_of(billing, run)
        demo.report(run, detail, published, usage)
        out()
        console = f"{options.sentinel_url.rstrip('/')}/console/runs/{run['id']}"
        out(f"See it in the web console: {console}")
        out(f"  sign in with this admin token of workspace {demo.workspace}: {admin}")
        return 0 if run["status"] == "completed" else 1
