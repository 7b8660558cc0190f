"""Errors that cross the RPC boundary. The gateway maps them to HTTP in one table.

They carry (message, details) as plain args so Nameko can serialise them and the
standalone proxy can rebuild the same class on the other side.
"""


class ServiceError(Exception):
    code = "error"

    def __init__(self, message="", details=None):
        super().__init__(message, details or {})
        self.message = message
        self.details = details or {}

    def __str__(self):
        return self.message


class NotFound(ServiceError):
    code = "not_found"


class Invalid(ServiceError):
    """Validation failed; details map field paths (``contact.email``) to messages."""
    code = "validation_error"


class Conflict(ServiceError):
    code = "conflict"


class Forbidden(ServiceError):
    code = "forbidden"


class BadRequest(ServiceError):
    code = "bad_request"


class Gone(ServiceError):
    """The thing existed but was switched off or removed for good (HTTP 410)."""
    code = "gone"


EXPECTED = (NotFound, Invalid, Conflict, Forbidden, BadRequest, Gone)


def flatten_messages(messages, prefix="") -> dict:
    """marshmallow's nested error dict → {"contact.email": "Not a valid email address."}."""
    flat = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key == "_schema" and prefix:  # the nested object itself is wrong: name the field
                path = prefix
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_messages(value, path))
    elif isinstance(messages, (list, tuple)):
        if messages and all(isinstance(m, str) for m in messages):
            flat[prefix or "_schema"] = " ".join(messages)
        else:
            for index, value in enumerate(messages):
                flat.update(flatten_messages(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        flat[prefix or "_schema"] = str(messages)
    return flat


def load_or_invalid(schema, payload):
    """Load with a marshmallow schema; ValidationError → Invalid with flat field paths."""
    from marshmallow import ValidationError

    try:
        return schema.load(payload if payload is not None else {})
    except ValidationError as exc:
        raise Invalid("The request has invalid fields.", flatten_messages(exc.messages)) from None
