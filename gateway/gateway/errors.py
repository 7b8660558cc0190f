"""The one table from errors to HTTP, and API.md's error body."""
import logging

from flask import jsonify
from werkzeug.exceptions import HTTPException

from crmkit import errors as service_errors
from crmkit.errors import flatten_messages

from .rpc import ServiceTimeout, ServiceUnavailable

log = logging.getLogger(__name__)

STATUS = {
    service_errors.BadRequest: (400, "bad_request"),
    service_errors.Forbidden: (403, "forbidden"),
    service_errors.NotFound: (404, "not_found"),
    service_errors.Conflict: (409, "conflict"),
    service_errors.Gone: (410, "gone"),
    service_errors.Invalid: (422, "validation_error"),
    ServiceUnavailable: (503, "service_unavailable"),
    ServiceTimeout: (504, "service_timeout"),
}

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 410: "gone", 413: "too_large", 415: "unsupported_media_type",
              422: "validation_error", 429: "rate_limited", 500: "internal_error", 503: "service_unavailable",
              504: "service_timeout"}


def error_response(status, code, message, details=None, headers=None):
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


class ApiError(Exception):
    """Raised by the gateway itself (auth, roles) with a status, code and message."""

    def __init__(self, status, message, details=None, code=None):
        super().__init__(message)
        self.status, self.message, self.details = status, message, details or {}
        self.code = code or HTTP_CODES.get(status, "error")


def _drain_body(cap=64 * 1024 * 1024):
    """Read an unread request body before answering, so the client sees our 413, not a reset."""
    from flask import request

    stream = request.environ.get("wsgi.input")
    expected = request.content_length
    read = 0
    try:
        while stream is not None and read < cap and (expected is None or read < expected):
            chunk = stream.read(65536 if expected is None else min(65536, expected - read))
            if not chunk:
                break
            read += len(chunk)
    except Exception:  # noqa: BLE001 - the client went away; nothing to answer
        pass


def handle_http_exception(error: HTTPException):
    status = error.code or 500
    if status == 413:
        _drain_body()
    details = {}
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if messages:  # webargs: {"json": {...}} or {"query": {...}}
        for location, value in messages.items():
            details.update(flatten_messages(value) if location in ("json", "form", "files")
                           else flatten_messages(value, location if location != "query" else ""))
    message = {
        400: "The request body is not valid JSON." if "json" in str(messages or "") else "Malformed request.",
        413: "The request is too large.",
        422: "The request has invalid fields.",
        404: "No such resource.",
        405: "That method is not allowed here.",
    }.get(status, error.description or error.name)
    return error_response(status, HTTP_CODES.get(status, "error"), message, details)


def register(app):
    @app.errorhandler(ApiError)
    def _api_error(error):
        return error_response(error.status, error.code, error.message, error.details)

    for exc_class, (status, code) in STATUS.items():
        def handler(error, status=status, code=code):
            return error_response(status, code, getattr(error, "message", None) or str(error),
                                  getattr(error, "details", None))
        app.register_error_handler(exc_class, handler)

    @app.errorhandler(Exception)
    def _unexpected(error):
        if isinstance(error, HTTPException):
            return handle_http_exception(error)
        log.exception("unhandled error")
        return error_response(500, "internal_error", "Something went wrong on our side.")
