"""JSON on the event path: orjson where it gives what the standard library gives, the standard
library otherwise.

Events are encoded into the outbox, decoded by every consumer (kombu) and stored again by the
projections: at thousands a second the standard library's encoder and decoder were a fifth of a
consumer's CPU. orjson is several times faster. Where the two differ — a datetime or dataclass
the standard library refuses, an integer beyond 64 bits, NaN, a lone surrogate — the standard
library's own call runs, so results and errors stay as they were. One difference stays: a
float may be written with a shorter exponent (`1e-7` for `1e-07`), the same number.
"""
import json

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
# orjson reads an integer beyond 64 bits as a float: text with a number token of 19 digits or more
# goes the slow way. Found with one C pass (bytes.translate: digits → "0", what may precede a
# number → "s", the rest → "x"), so a run of digits inside an id or other string does not count.
_CLASSES = bytes(ord("0") if chr(i) in "0123456789" else ord("s") if chr(i) in ":,[ \t\r\n-" else ord("x")
                 for i in range(256))
_LONG_NUMBER = b"s" + b"0" * 19


def _orjson_reads_it(text) -> bool:
    raw = text.encode() if isinstance(text, str) else text
    return _LONG_NUMBER not in b"s" + raw.translate(_CLASSES)


def dumps(value, default=None) -> str:
    """`json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=default)`."""
    try:
        return orjson.dumps(value, default=default, option=_OPTIONS).decode()
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=default)


def loads(text, standard=None):
    """`json.loads(text)` (text as str or bytes); `standard`: the call to use where orjson would
    differ (default json.loads)."""
    if _orjson_reads_it(text):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return (standard or json.loads)(text)


def loads_utf8(raw):
    """`json.loads(raw.decode("utf-8"))` for bytes, without decoding them first where orjson reads
    them (it checks the UTF-8 itself). Raises UnicodeDecodeError for bytes that are not UTF-8 and
    json.JSONDecodeError for text that is not JSON, as that call would."""
    return loads(raw, standard=_decode_then_load)


def _decode_then_load(raw):
    return json.loads(bytes(raw).decode("utf-8"))


def install_for_kombu():
    """kombu's "json" decoder through orjson. kombu's own encoder marks the types it adds
    (datetime, Decimal, UUID …) as {"__type__": …, "__value__": …}; a body holding that marker
    goes to kombu's decoder, which turns them back."""
    from kombu.serialization import registry
    from kombu.utils import json as kombu_json

    def decode(body):
        if isinstance(body, (memoryview, bytearray)):
            body = bytes(body)
        marker = b'"__type__"' if isinstance(body, bytes) else '"__type__"'
        if marker in body:
            return kombu_json.loads(body)
        return loads(body, standard=kombu_json.loads)

    registry.register("json", kombu_json.dumps, decode, content_type="application/json",
                      content_encoding="utf-8")
