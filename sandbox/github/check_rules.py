"""GitHub's rules for the body of `POST /check-runs` and `PATCH /check-runs/{id}`.

Two layers, as GitHub answers them: the endpoint's JSON schema first ("Invalid request." and
one line per problem: missing properties, wrong types or values, more than 50 annotations,
a summary or text over 65,535 characters), then the model ("Validation Failed": a summary
over 65,535 bytes, an annotation whose lines or columns do not make sense).
"""

from __future__ import annotations

from typing import Any

from sandbox.github.rest import (
    invalid_request,
    not_member,
    not_supplied,
    not_type,
    parse_time,
    validation_failed,
)

DOCS_CREATE = "https://docs.github.com/rest/checks/runs#create-a-check-run"
DOCS_UPDATE = "https://docs.github.com/rest/checks/runs#update-a-check-run"
STATUSES = ("queued", "in_progress", "completed", "waiting", "requested", "pending")
# Only GitHub Actions may set these.
ACTIONS_ONLY_STATUSES = {"waiting", "requested", "pending"}
CONCLUSIONS = (
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "success",
    "skipped",
    "stale",
    "timed_out",
)
LEVELS = ("notice", "warning", "failure")
MAX_ANNOTATIONS = 50
MAX_ACTIONS = 3
MAX_OUTPUT_TEXT = 65535
MAX_ANNOTATION_TEXT = 64 * 1024
MAX_ANNOTATION_TITLE = 255
ACTION_LIMITS = {"label": 20, "description": 40, "identifier": 20}
REQUIRED_ANNOTATION = ("path", "start_line", "end_line", "annotation_level", "message")


def check_body(body: dict[str, Any], *, create: bool) -> None:
    """Raise GitHub's 422 for a body the endpoint refuses."""
    docs = DOCS_CREATE if create else DOCS_UPDATE
    lines = _schema_problems(body, create=create)
    if lines:
        raise invalid_request(lines, docs)
    errors = _model_problems(body)
    if errors:
        raise validation_failed(errors, docs)


def _schema_problems(body: dict[str, Any], *, create: bool) -> list[str]:
    lines: list[str] = []
    missing = [k for k in ("name", "head_sha") if create and k not in body]
    if missing:
        lines.append(not_supplied(missing))
    for key in ("name", "head_sha", "details_url", "external_id"):
        nullable = key in {"details_url", "external_id"}
        if key in body and not isinstance(body[key], str) and not (nullable and body[key] is None):
            lines.append(not_type(key, body[key], "a string"))
    if "status" in body and body["status"] not in STATUSES:
        lines.append(not_member("status", body["status"], STATUSES))
    if body.get("conclusion") is not None and body["conclusion"] not in CONCLUSIONS:
        lines.append(not_member("conclusion", body["conclusion"], CONCLUSIONS))
    completing = body.get("status") == "completed" or body.get("completed_at") is not None
    if completing and body.get("conclusion") is None:
        lines.append(not_supplied(["conclusion"]))
    for key in ("started_at", "completed_at"):
        if body.get(key) is not None and not _is_time(body[key]):
            lines.append(not_type(key, body[key], "a date-time"))
    if "output" in body and body["output"] is not None:
        lines += _output_problems(body["output"])
    if "actions" in body:
        lines += _action_problems(body["actions"])
    return lines


def _is_time(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parse_time(value)
    except ValueError:
        return False
    return True


def _output_problems(output: Any) -> list[str]:
    if not isinstance(output, dict):
        return [not_type("output", output, "an object")]
    lines: list[str] = []
    missing = [k for k in ("title", "summary") if output.get(k) is None]
    if missing:
        lines.append(not_supplied(missing))
    for key in ("title", "summary", "text"):
        value = output.get(key)
        if value is not None and not isinstance(value, str):
            lines.append(not_type(key, value, "a string"))
        elif key != "title" and isinstance(value, str) and len(value) > MAX_OUTPUT_TEXT:
            lines.append(
                f"Only {MAX_OUTPUT_TEXT} characters are allowed; {len(value)} were supplied."
            )
    annotations = output.get("annotations")
    if annotations is not None:
        if not isinstance(annotations, list):
            lines.append(not_type("annotations", annotations, "an array"))
        elif len(annotations) > MAX_ANNOTATIONS:
            lines.append(
                f"No more than {MAX_ANNOTATIONS} items are allowed; "
                f"{len(annotations)} were supplied."
            )
        else:
            for annotation in annotations:
                lines += _annotation_problems(annotation)
    images = output.get("images")
    if images is not None and not isinstance(images, list):
        lines.append(not_type("images", images, "an array"))
    for image in images if isinstance(images, list) else []:
        absent = [k for k in ("alt", "image_url") if not isinstance(image, dict) or k not in image]
        if absent:
            lines.append(not_supplied(absent))
    return lines


def _annotation_problems(annotation: Any) -> list[str]:
    if not isinstance(annotation, dict):
        return [f"For 'items', {annotation!r} is not an object."]
    lines: list[str] = []
    missing = [k for k in REQUIRED_ANNOTATION if annotation.get(k) is None]
    if missing:
        lines.append(not_supplied(missing))
    for key in ("path", "message", "title", "raw_details"):
        value = annotation.get(key)
        if value is not None and not isinstance(value, str):
            lines.append(not_type(key, value, "a string"))
    for key in ("start_line", "end_line", "start_column", "end_column"):
        value = annotation.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            lines.append(not_type(key, value, "an integer"))
    level = annotation.get("annotation_level")
    if level is not None and level not in LEVELS:
        lines.append(not_member("annotation_level", level, LEVELS))
    return lines


def _action_problems(actions: Any) -> list[str]:
    if not isinstance(actions, list):
        return [not_type("actions", actions, "an array")]
    if len(actions) > MAX_ACTIONS:
        return [f"No more than {MAX_ACTIONS} items are allowed; {len(actions)} were supplied."]
    lines = []
    for action in actions:
        missing = [k for k in ACTION_LIMITS if not isinstance(action, dict) or k not in action]
        if missing:
            lines.append(not_supplied(missing))
    return lines


def _model_problems(body: dict[str, Any]) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []

    def invalid(field: str, message: str | None = None) -> None:
        error: dict[str, Any] = {"resource": "CheckRun", "code": "invalid", "field": field}
        if message is None and error not in errors:
            errors.append(error)
        elif message is not None:
            errors.append(error | {"code": "custom", "message": message})

    if body.get("status") in ACTIONS_ONLY_STATUSES:
        invalid("status")
    if body.get("conclusion") == "stale":
        invalid("conclusion")
    for action in body.get("actions") or []:
        if any(len(str(action.get(k, ""))) > limit for k, limit in ACTION_LIMITS.items()):
            invalid("actions")
    output = body.get("output") or {}
    for key in ("summary", "text"):
        value = output.get(key)
        if isinstance(value, str) and len(value.encode()) > MAX_OUTPUT_TEXT:
            invalid(key, f"{key} exceeds a maximum bytesize of {MAX_OUTPUT_TEXT}")
    for annotation in output.get("annotations") or []:
        if not _sound(annotation):
            invalid("annotations")
    return errors


def _sound(annotation: dict[str, Any]) -> bool:
    """GitHub's checks on one annotation beyond its schema."""
    start, end = annotation["start_line"], annotation["end_line"]
    first, last = annotation.get("start_column"), annotation.get("end_column")
    if start < 1 or end < start:
        return False
    if (first is not None or last is not None) and start != end:
        return False  # columns only on a single line
    if (first is not None and first < 1) or (last is not None and last < 1):
        return False
    if first is not None and last is not None and last < first:
        return False
    texts = (annotation["message"], annotation.get("raw_details") or "")
    if any(len(t.encode()) > MAX_ANNOTATION_TEXT for t in texts):
        return False
    return len(annotation.get("title") or "") <= MAX_ANNOTATION_TITLE
