"""The rules engine's new parts, pure: every operator and field (A3), region by names, aliases and
area codes (A4), the text form with positions and plain words (A5), near misses and lint (A8),
with property tests for the folding and for text ⇄ tree."""
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import Invalid
from assignment.analysis import lint, one_edit, preview
from assignment.conditions import FIELDS, Normal, check_condition, compile_condition, evaluate, fold
from assignment.model import Rule
from assignment.places import area_code, places
from assignment.text import describe, parse, to_text

SHANGHAI_REGION = {"field": "company", "op": "region", "value": "Shanghai"}


def matches(condition, lead):
    return compile_condition(check_condition(condition))(Normal(lead))


def a_lead(**fields):
    lead = {"id": "L1", "contact": {}, "company": {}, "need": {}, "tags": []}
    for name, value in fields.items():
        section, _, key = name.partition("__")
        if key:
            lead[section][key] = value
        else:
            lead[section] = value
    return lead


# -- A4: region ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("lead", [
    a_lead(company__city=" ShangHai "), a_lead(company__city="上海"), a_lead(company__city="上海市"),
    a_lead(company__city="ＳＨＡＮＧＨＡＩ"), a_lead(company__city="沪"), a_lead(company__city="SH"),
    a_lead(company__phone="021-62991640"), a_lead(company__phone="+86 21 6299 1640"),
    a_lead(company__address="上海市浦东新区张江路 88 号"), a_lead(company__province="Shanghai Shi"),
], ids=["spaced", "chinese", "with-shi", "full-width", "alias", "code", "phone", "intl-phone", "address", "province"])
def test_region_finds_shanghai_however_it_was_typed_A4(lead):
    assert matches(SHANGHAI_REGION, lead)


@pytest.mark.parametrize("lead", [a_lead(company__city="Beijing"), a_lead(company__phone="010-62991640"),
                                  a_lead(company__phone="13912345678"), a_lead(), a_lead(contact__phone="021-1234")])
def test_region_is_not_fooled_A4(lead):
    assert not matches(SHANGHAI_REGION, lead)


def test_a_province_contains_its_cities_but_a_province_alone_is_not_a_city_A4():
    assert matches({"field": "company", "op": "region", "value": "江苏"}, a_lead(company__city="Suzhou"))
    assert matches({"field": "company", "op": "region", "value": "Jiangsu"}, a_lead(company__phone="0512-6666 8888"))
    assert not matches({"field": "company", "op": "region", "value": "苏州"}, a_lead(company__province="江苏"))
    assert matches({"field": "contact.phone", "op": "region", "value": "深圳"}, a_lead(contact__phone="(0755)88886666"))


def test_the_place_data_covers_every_province_and_the_major_cities_with_their_codes():
    p = places()
    assert len({pl for pl in p.province_of.values()}) == 34
    for code, city in [("010", "北京"), ("021", "上海"), ("022", "天津"), ("023", "重庆"), ("020", "广州"),
                       ("0755", "深圳"), ("025", "南京"), ("0571", "杭州"), ("027", "武汉"), ("028", "成都"),
                       ("029", "西安"), ("024", "沈阳"), ("0512", "苏州"), ("0532", "青岛")]:
        assert any(place.endswith("/" + city) for place in p.by_code[code]), code
    assert area_code("0086 10 8888 6666") == "010" and area_code("13912345678") is None


def test_an_unknown_place_is_refused_at_its_path_A3():
    with pytest.raises(Invalid) as caught:
        check_condition({"all": [SHANGHAI_REGION, {"field": "company", "op": "region", "value": "Atlantis"}]})
    assert list(caught.value.details) == ["condition.all.1.value"]


# -- A3: every operator over every kind of field ---------------------------------------------------------

@pytest.mark.parametrize("leaf, lead, expected", [
    ({"field": "quality", "op": "gte", "value": 60}, a_lead(quality={"score": 60}), True),
    ({"field": "quality", "op": "gt", "value": 60}, a_lead(quality={"score": 60}), False),
    ({"field": "quality", "op": "lt", "value": 60}, a_lead(), False),
    ({"field": "quality", "op": "empty"}, a_lead(), True),
    ({"field": "need.budget", "op": "gte", "value": 100000}, a_lead(need__budget="50万"), True),
    ({"field": "need.budget", "op": "lte", "value": 1000}, a_lead(need__budget="1,200 元"), False),
    ({"field": "created_at", "op": "gte", "value": "2024-05-01"}, a_lead(created_at="2024-05-01T08:00:00Z"), True),
    ({"field": "created_at", "op": "lt", "value": "2024-05-01"}, a_lead(created_at="2024-05-01T08:00:00Z"), False),
    ({"field": "source", "op": "in", "value": ["web_form", "import"]}, a_lead(source=" Web_Form"), True),
    ({"field": "campaign_id", "op": "eq", "value": "C1"}, a_lead(campaign_id="c1"), True),
    ({"field": "pool_id", "op": "not_empty"}, a_lead(pool_id="P1"), True),
    ({"field": "tags", "op": "starts_with", "value": "expo"}, a_lead(tags=["Expo-2024"]), True),
    ({"field": "contact.email", "op": "contains", "value": "@EXAMPLE"}, a_lead(contact__email="li@example.cn"), True),
    ({"field": "company.city", "op": "eq", "value": None}, a_lead(company__city="None"), False),
    ({"field": "company.city", "op": "eq", "value": None}, a_lead(), True),
    ({"field": "company.city", "op": "ne", "value": None}, a_lead(company__city="None"), True),
])
def test_each_operator_on_each_kind_of_field_A3(leaf, lead, expected):
    assert matches(leaf, lead) is expected


@pytest.mark.parametrize("leaf, path", [
    ({"field": "company.city", "op": "gt", "value": 1}, "condition.op"),
    ({"field": "quality", "op": "gte", "value": "high"}, "condition.value"),
    ({"field": "created_at", "op": "lt", "value": "yesterday"}, "condition.value"),
    ({"field": "company.city", "op": "eq", "value": True}, "condition.value"),
    ({"field": "company.city", "op": "eq", "value": {"x": 1}}, "condition.value"),
    ({"field": "company.city", "op": "in", "value": []}, "condition.value"),
    ({"field": "company.city", "op": "contains", "value": 3}, "condition.value"),
    ({"field": "company", "op": "eq", "value": "x"}, "condition.field"),
    ({"field": "need", "op": "region", "value": "上海"}, "condition.field"),
    ({"field": "company.city", "op": ["eq"], "value": "x"}, "condition.op"),
])
def test_a_bad_value_or_type_is_refused_at_its_path_A3(leaf, path):
    with pytest.raises(Invalid) as caught:
        check_condition(leaf)
    assert path in caught.value.details


# -- A5: text form ------------------------------------------------------------------------------------

def test_the_issues_example_parses_prints_and_reads_in_two_languages_A5():
    text = 'company.city = "Shanghai" or (region(company) = "Beijing" and not need.description is empty)'
    tree, _ = parse(text)

    assert check_condition(tree) == tree
    assert to_text(tree) == text
    assert describe(tree, "en") == ("the company's city is “Shanghai” or (the company is in “Beijing” and "
                                    "not: the need's description is empty)")
    assert describe(tree, "zh") == "单位城市等于“Shanghai” 或者 (单位位于“Beijing” 并且 并非：需求描述为空)"


@pytest.mark.parametrize("text, where", [
    ('company.city = ', "line 1, column 16"),
    ('company.city == "x"', "line 1, column 15"),
    ('company.city = "x" and\n  (source = "y"', "line 2, column 16"),
    ('company.city = "x" @', "line 1, column 20"),
])
def test_a_text_that_does_not_parse_says_where_A5(text, where):
    with pytest.raises(Invalid) as caught:
        parse(text)
    assert caught.value.details["condition_text"].startswith(where)


def test_keywords_are_case_insensitive_and_spacing_free_A5():
    tree, _ = parse('NOT (tags IN ["vip"]  Or quality>=60)AND source STARTS WITH "web"')
    assert to_text(tree) == 'not (tags in ["vip"] or quality >= 60) and source starts with "web"'


fields_ = st.sampled_from(sorted(FIELDS - {"quality", "created_at", "updated_at", "need.budget"}))
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
numbers = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False, width=32))
scalars = st.one_of(texts, numbers)
leaf_nodes = st.one_of(
    st.builds(lambda f, op, v: {"field": f, "op": op, "value": v}, fields_, st.sampled_from(["eq", "ne"]),
              st.one_of(scalars, st.none())),
    st.builds(lambda f, op, v: {"field": f, "op": op, "value": v}, fields_,
              st.sampled_from(["contains", "starts_with"]), texts),
    st.builds(lambda f, v: {"field": f, "op": "in", "value": v}, fields_, st.lists(scalars, min_size=1, max_size=3)),
    st.builds(lambda f, op: {"field": f, "op": op}, fields_, st.sampled_from(["empty", "not_empty"])),
    st.builds(lambda op, v: {"field": "quality", "op": op, "value": v}, st.sampled_from(["gt", "gte", "lt", "lte"]),
              numbers),
    st.builds(lambda v: {"field": "company", "op": "region", "value": v},
              st.sampled_from(["上海", "Beijing", "沪", "Suzhou", "广东"])),
)
trees = st.recursive(leaf_nodes, lambda children: st.one_of(
    st.builds(lambda c: {"all": c}, st.lists(children, min_size=2, max_size=3)),
    st.builds(lambda c: {"any": c}, st.lists(children, min_size=2, max_size=3)),
    st.builds(lambda c: {"not": c}, children)), max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(trees)
def test_any_canonical_tree_prints_to_text_that_parses_back_to_it_A5(tree):
    canonical = check_condition(json.loads(json.dumps(tree)))
    text = to_text(canonical)

    parsed, _ = parse(text)

    assert parsed == canonical
    assert check_condition(parsed) == canonical
    assert to_text(parsed) == text


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=20))
def test_folding_is_idempotent_and_ignores_case_width_and_spacing_A4(text):
    folded = fold(text)

    assert fold(folded) == folded
    assert fold("  " + text.upper() + "\u3000") == fold(text.upper())
    assert "  " not in folded and folded == folded.strip()
    assert fold(text.swapcase()).casefold() == fold(text).casefold() or text.swapcase().casefold() != text.casefold()


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8), st.data())
def test_a_compiled_rule_agrees_with_the_explaining_evaluator(word, data):
    tree = check_condition(data.draw(trees))
    lead = a_lead(company__city=word, company__phone=data.draw(st.sampled_from(["021-1234567", None])),
                  quality={"score": data.draw(st.integers(0, 100))}, tags=[word])

    assert compile_condition(tree)(Normal(lead)) == evaluate(tree, lead)[0]


# -- A8: near misses and lint ------------------------------------------------------------------------------

def test_preview_names_the_near_misses_and_why_A8():
    rule = check_condition({"field": "company.city", "op": "eq", "value": "Shanghai"})
    leads = [a_lead(id="hit", company__city="shanghai"), a_lead(id="phone", company__phone="021-62991640"),
             a_lead(id="typo", company__city="Shangahi"), a_lead(id="chinese", company__city="上海"),
             a_lead(id="far", company__city="Beijing")]

    result = preview(rule, leads)

    assert result["matched"] == ["hit"]
    assert result["unmatched"] == ["phone", "typo", "chinese", "far"]
    why = {m["lead_id"]: m["why"] for m in result["near_misses"]}
    assert why["phone"] == "company phone 021-62991640 is in Shanghai but company.city is empty"
    assert why["typo"] == "company.city 'Shangahi' is one edit from 'Shanghai'"
    assert "same place" in why["chinese"]
    assert "far" not in why


def test_a_near_miss_is_one_the_leaf_alone_kept_out():
    rule = check_condition({"all": [{"field": "company.city", "op": "eq", "value": "Shanghai"},
                                    {"field": "source", "op": "eq", "value": "web_form"}]})
    result = preview(rule, [a_lead(id="typo", company__city="Shangahi", source="import")])
    assert result["near_misses"] == []  # the source would still keep it out


def test_one_edit_counts_swaps_inserts_deletes_and_replacements():
    assert all(one_edit(a, b) for a, b in [("shangahi", "shanghai"), ("shanghai", "shanghi"), ("bejing", "beijing"),
                                           ("shanghai", "shangxai")])
    assert not any(one_edit(a, b) for a, b in [("shanghai", "shanghai"), ("shanghai", "beijing"), ("ab", "ba c")])


def _rule(rule_id, condition, **kw):
    return Rule(id=rule_id, name=rule_id, condition=check_condition(condition), recipients=[], **kw)


def test_lint_flags_contradictions_tautologies_and_shadowed_rules_A8():
    city = {"field": "company.city", "op": "eq", "value": "Shanghai"}
    never = _rule("never", {"all": [city, {"field": "company.city", "op": "eq", "value": "Beijing"}]})
    always = _rule("always", {"any": [{"field": "company.city", "op": "empty"},
                                      {"field": "company.city", "op": "not_empty"}]})
    broad = _rule("broad", {"field": "company", "op": "region", "value": "上海"})
    narrow = _rule("narrow", {"all": [city, {"field": "need.budget", "op": "not_empty"}]})

    assert [f["kind"] for f in lint(never, {})["findings"]] == ["never_matches"]
    assert [f["kind"] for f in lint(always, {})["findings"]] == ["always_true"]
    shadowed = lint(narrow, {"C1": [broad]})["findings"]
    assert [(f["kind"], f["by_rule_id"], f["campaign_id"]) for f in shadowed] == [("shadowed", "broad", "C1")]
    assert lint(broad, {"C1": [narrow]})["findings"] == []
    assert lint(_rule("fine", {"any": [city, {"field": "contact.name", "op": "contains", "value": "王"}]}),
                {})["findings"] == []
