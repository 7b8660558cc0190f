"""The event envelope every service publishes (API.md "Events")."""
import json
import time
import uuid
from datetime import datetime, timezone

REQUIRED = ("event_id", "type", "version", "occurred_at", "data")


class MalformedEvent(ValueError):
    """A message that is not an event envelope; it can never succeed, so it is parked at once."""


def now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite hands back naive datetimes; we store UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.isoformat().replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """An ISO 8601 time as we write it (`…Z` or an offset) → an aware datetime (UTC if none)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def new_id() -> str:
    """Opaque, unique and sortable by creation time (48-bit ms clock + 80 random bits)."""
    millis = int(time.time() * 1000)
    return f"{millis:012x}{uuid.uuid4().hex[:20]}"


def new_event(type_, data, *, actor_id=None, correlation_id=None, causation_id=None, version=1):
    return {
        "event_id": uuid.uuid4().hex,
        "type": type_,
        "version": version,
        "occurred_at": iso(now()),
        "actor_id": actor_id,
        "correlation_id": correlation_id,
        "causation_id": causation_id,
        "data": data,
    }


def exchange_for(event_type: str, source_service: str) -> str:
    return f"{source_service}.events"


def dumps(event) -> str:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


def parse(body) -> dict:
    """Accept the envelope as bytes, text or an already decoded dict."""
    if isinstance(body, (bytes, bytearray)):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedEvent(f"not UTF-8: {exc}") from exc
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError as exc:
            raise MalformedEvent(f"not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise MalformedEvent("an event is a JSON object")
    missing = [key for key in REQUIRED if key not in body]
    if missing:
        raise MalformedEvent(f"missing {', '.join(missing)}")
    if not isinstance(body["data"], dict):
        raise MalformedEvent("data must be an object")
    return body
