"""crmkit.fastjson gives what the standard library gives (Chinese text round-trips, P2)."""
import json
import math
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit import fastjson

scalars = (st.none() | st.booleans() | st.integers(min_value=-(2 ** 70), max_value=2 ** 70)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text())
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)


def standard(value, default=None):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=default)


@given(values)
def test_dumps_and_loads_match_the_standard_library(value):
    text = fastjson.dumps(value)
    assert json.loads(text) == json.loads(standard(value))  # floats may differ in form (1e-7, 1e-07)
    assert fastjson.loads(text) == json.loads(text)
    assert fastjson.loads(standard(value).encode()) == json.loads(standard(value))
    assert fastjson.loads_utf8(standard(value).encode()) == json.loads(standard(value))


@given(st.recursive(st.none() | st.booleans() | st.integers(min_value=-(2 ** 70), max_value=2 ** 70) | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=20))
def test_without_floats_the_text_is_the_standard_librarys_to_the_byte(value):
    assert fastjson.dumps(value) == standard(value)


def test_chinese_is_written_as_itself_not_escaped():
    assert fastjson.dumps({"name": "张三", "城市": "上海"}) == '{"name":"张三","城市":"上海"}'


def test_what_orjson_would_write_differently_goes_to_the_standard_library():
    moment = datetime(2026, 11, 27, 8, 30, tzinfo=timezone.utc)
    assert fastjson.dumps({"at": moment}, default=str) == standard({"at": moment}, default=str)
    assert fastjson.dumps({"n": Decimal("1.10")}, default=str) == '{"n":"1.10"}'
    assert fastjson.dumps({1: "a"}) == standard({1: "a"})
    with pytest.raises(TypeError):
        fastjson.dumps({"at": moment})  # as json.dumps: a datetime needs a default


@pytest.mark.parametrize("text", ['{"n": NaN}', '[123456789012345678901234567890]', '"\\ud800"', '{"a": 1, "a": 2}'])
def test_loads_accepts_what_the_standard_library_accepts(text):
    decoded, expected = fastjson.loads(text), json.loads(text)
    if isinstance(expected, dict) and isinstance(expected.get("n"), float):
        assert math.isnan(decoded["n"])
    else:
        assert decoded == expected


def test_loads_rejects_what_the_standard_library_rejects():
    with pytest.raises(ValueError):
        fastjson.loads("{not json")


def test_kombus_json_decoder_keeps_its_typed_values():
    from kombu.serialization import dumps, loads, registry
    from kombu.utils import json as kombu_json

    saved = registry._decoders["application/json"]
    try:
        fastjson.install_for_kombu()
        moment = datetime(2026, 11, 27, 8, 30, tzinfo=timezone.utc)
        _, _, body = dumps({"at": moment, "amount": Decimal("12.50"), "name": "李四"}, serializer="json")
        assert loads(body, "application/json", "utf-8") == {"at": moment, "amount": Decimal("12.50"),
                                                             "name": "李四"}
        assert loads('{"event_id":"e1","data":{"城市":"上海"}}', "application/json", "utf-8") == {
            "event_id": "e1", "data": {"城市": "上海"}}
        assert registry._decoders["application/json"] is not kombu_json.loads
    finally:
        registry._decoders["application/json"] = saved


def test_ids_with_long_runs_of_digits_take_the_fast_path(monkeypatch):
    """A packed message holds thousands of hex ids; some have 19 digits in a row. Only a number
    token that long needs the standard library."""
    body = '{"events":[{"id":"a1234567890123456789012b","phone":"13812345678"}]}'

    def standard_loads(*args, **kwargs):
        raise AssertionError("the slow path was taken")
    monkeypatch.setattr(fastjson.json, "loads", standard_loads)
    assert fastjson.loads(body)["events"][0]["id"] == "a1234567890123456789012b"
    assert fastjson.loads(body.encode())["events"][0]["phone"] == "13812345678"


@pytest.mark.parametrize("raw, error", [
    (b'{"a": "\xff"}', UnicodeDecodeError),                   # not UTF-8 inside a string
    ('{"a": 1}'.encode("utf-16"), UnicodeDecodeError),         # JSON, but not in UTF-8
    (b"\xef\xbb\xbf{}", json.JSONDecodeError),                 # a BOM, as json.loads of the text says
    (b"{not json", json.JSONDecodeError)])
def test_loads_utf8_refuses_what_decoding_then_the_standard_library_refuses(raw, error):
    with pytest.raises(error):
        json.loads(raw.decode("utf-8"))
    with pytest.raises(error):
        fastjson.loads_utf8(raw)


def test_loads_utf8_reads_bytes_without_decoding_them_first(monkeypatch):
    raw = '{"city": "上海", "n": [1, 2]}'.encode()
    monkeypatch.setattr(fastjson.json, "loads", lambda *a, **k: pytest.fail("the slow path ran"))
    assert fastjson.loads_utf8(raw) == {"city": "上海", "n": [1, 2]}
    assert fastjson.loads_utf8(bytearray(raw)) == {"city": "上海", "n": [1, 2]}
