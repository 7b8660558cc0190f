"""The rules engine, pure: condition trees (A3), forgiving matching (A4), readable form and clear
errors (A5), distribution (A7), explanations (A10)."""
import pytest

from crmkit.errors import Invalid
from assignment.model import check_condition, choose, evaluate, explain, fold, to_text

SHANGHAI = {"field": "company.city", "op": "eq", "value": "Shanghai"}


def lead(**sections):
    base = {"id": "L1", "campaign_id": "C1", "source": "trade_show", "status": "raw", "tags": [],
            "contact": {}, "company": {}, "need": {}}
    base.update(sections)
    return base


def matches(condition, the_lead):
    return evaluate(check_condition(condition), the_lead)[0]


# -- check_condition: canonical trees and clear errors (A3, A5) --------------------------------------

def test_a_canonical_tree_comes_back_equal_A5():
    tree = {"all": [SHANGHAI,
                    {"any": [{"field": "need.budget", "op": "not_empty"},
                             {"field": "tags", "op": "in", "value": ["vip", "expo"]}]},
                    {"not": {"field": "status", "op": "eq", "value": "invalid"}}]}

    assert check_condition(tree) == tree


def test_a_leaf_comes_back_with_exactly_field_op_and_value_where_the_op_takes_one_A5():
    assert check_condition({"field": "contact.email", "op": "empty", "value": "ignored"}) == \
        {"field": "contact.email", "op": "empty"}
    assert check_condition({"op": "eq", "value": 1, "field": "company.name"}) == \
        {"field": "company.name", "op": "eq", "value": 1}


@pytest.mark.parametrize("tree, path", [
    ({"any": [SHANGHAI, {"field": "company.city", "op": "like", "value": "x"}]}, "condition.any.1.op"),
    ({"all": [{"field": "company.town", "op": "eq", "value": "x"}]}, "condition.all.0.field"),
    ({"all": [SHANGHAI, {"any": [SHANGHAI, {"field": "need.budget", "op": "eq"}]}]}, "condition.all.1.any.1.value"),
    ({"not": {"field": "tags", "op": "in", "value": "vip"}}, "condition.not.value"),
    ({"any": []}, "condition.any"),
    ({"all": SHANGHAI}, "condition.all"),
    ({"all": [SHANGHAI, "company.city = Shanghai"]}, "condition.all.1"),
    ({"any": [{"field": "company.city", "op": "eq", "values": ["x"]}]}, "condition.any.0.values"),
    ({"field": ["company.city"], "op": "eq", "value": "x"}, "condition.field"),
    ({"op": "eq", "value": "x"}, "condition.field"),
    ("company.city = Shanghai", "condition"),
    ({"all": [SHANGHAI], "any": [SHANGHAI]}, "condition.all"),
])
def test_a_mistake_is_reported_at_its_path_in_the_tree_A5(tree, path):
    with pytest.raises(Invalid) as caught:
        check_condition(tree)

    assert path in caught.value.details


# -- forgiving comparison (A4) ----------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["Shanghai", " ShangHai ", "SHANGHAI", "shanghai\t", "ＳＨＡＮＧＨＡＩ",
                                   "Ｓｈａｎｇｈａｉ"])
def test_text_equality_ignores_case_surrounding_space_and_full_width_A4(typed):
    assert matches(SHANGHAI, lead(company={"city": typed}))


@pytest.mark.parametrize("typed", ["Shanghai2", "Shang hai", "Beijing", "", None])
def test_text_equality_is_forgiving_but_not_sloppy_A4(typed):
    assert not matches(SHANGHAI, lead(company={"city": typed}))


def test_the_rule_value_is_folded_too_A4():
    assert matches({"field": "company.city", "op": "eq", "value": " ＳＨＡＮＧＨＡＩ "},
                   lead(company={"city": "shanghai"}))


def test_fold_normalises_width_case_and_inner_spaces():
    assert fold("  ＡＣＭＥ\u3000  Ｌｔｄ ") == "acme ltd"
    assert fold(42) == "42"


@pytest.mark.parametrize("op, value, actual, expected", [
    ("ne", "Shanghai", "Beijing", True),
    ("ne", "Shanghai", " shanghai", False),
    ("ne", "Shanghai", None, True),
    ("contains", "上海", "ACME 上海分公司", True),
    ("contains", "forklift", "10 FORKLIFTS, 2 cranes", True),
    ("contains", "crane", "forklifts", False),
    ("starts_with", "021", "021-62991640", True),
    ("starts_with", "021", " ０２１-62991640", True),
    ("starts_with", "021", "0571-8888", False),
    ("in", ["Beijing", "Shanghai"], "SHANGHAI", True),
    ("in", ["Beijing", "Shanghai"], "Shenzhen", False),
    ("empty", None, None, True),
    ("empty", None, "", True),
    ("empty", None, "   ", True),
    ("empty", None, "x", False),
    ("not_empty", None, "x", True),
    ("not_empty", None, " \u3000 ", False),
    ("eq", "5", 5, True),
])
def test_each_operator_on_a_text_field_A3(op, value, actual, expected):
    leaf = {"field": "company.phone", "op": op}
    if op not in ("empty", "not_empty"):
        leaf["value"] = value

    assert matches(leaf, lead(company={"phone": actual})) is expected


def test_a_missing_section_is_empty_A3():
    bare = {"id": "L1"}

    assert matches({"field": "need.description", "op": "empty"}, bare)
    assert not matches({"field": "need.description", "op": "not_empty"}, bare)
    assert not matches({"field": "company.city", "op": "eq", "value": "Shanghai"}, bare)


def test_list_fields_match_when_any_item_does_A3():
    tagged = lead(tags=["Expo", "VIP "])

    assert matches({"field": "tags", "op": "eq", "value": "vip"}, tagged)
    assert matches({"field": "tags", "op": "in", "value": ["hot", "expo"]}, tagged)
    assert not matches({"field": "tags", "op": "eq", "value": "hot"}, tagged)
    assert matches({"field": "tags", "op": "empty"}, lead(tags=[]))


def test_all_any_and_not_combine_A3():
    condition = {"all": [SHANGHAI, {"any": [{"field": "need.budget", "op": "not_empty"},
                                            {"field": "tags", "op": "in", "value": ["vip"]}]},
                         {"not": {"field": "source", "op": "eq", "value": "web_form"}}]}

    assert matches(condition, lead(company={"city": "ShangHai"}, need={"budget": "50万"}))
    assert matches(condition, lead(company={"city": "Shanghai"}, tags=["VIP"]))
    assert not matches(condition, lead(company={"city": "Shanghai"}))  # no budget, no vip
    assert not matches(condition, lead(company={"city": "Beijing"}, tags=["vip"]))
    assert not matches(condition, lead(company={"city": "Shanghai"}, tags=["vip"], source="web_form"))


def test_the_leaves_that_decided_are_returned_with_what_the_lead_had_A10():
    condition = {"all": [SHANGHAI, {"field": "need.budget", "op": "not_empty"},
                         {"field": "contact.name", "op": "not_empty"}]}

    matched, leaves = evaluate(condition, lead(company={"city": "Beijing"}))

    assert matched is False
    assert leaves == [{**SHANGHAI, "actual": "Beijing", "result": False}]  # all stops at the first miss


def test_any_reports_every_leaf_it_tried_until_one_matched_A10():
    condition = {"any": [SHANGHAI, {"field": "company.city", "op": "eq", "value": "Beijing"},
                         {"field": "need.budget", "op": "not_empty"}]}

    matched, leaves = evaluate(condition, lead(company={"city": "beijing"}))

    assert matched is True
    assert [leaf["result"] for leaf in leaves] == [False, True]


def test_an_explanation_says_what_was_compared_and_how_it_came_out_A10():
    text = explain(False, [{**SHANGHAI, "actual": "Beijing", "result": False}])

    assert text.startswith("not matched: ")
    assert "company.city eq 'Shanghai'" in text and "'Beijing'" in text and "false" in text
    assert explain(True, []).startswith("matched")


# -- the readable form (A5) ----------------------------------------------------------------------------

@pytest.mark.parametrize("tree, text", [
    (SHANGHAI, 'company.city = "Shanghai"'),
    ({"field": "company.city", "op": "ne", "value": "上海"}, 'company.city != "上海"'),
    ({"field": "need.description", "op": "contains", "value": "叉车"}, 'need.description contains "叉车"'),
    ({"field": "company.phone", "op": "starts_with", "value": "021"}, 'company.phone starts with "021"'),
    ({"field": "tags", "op": "in", "value": ["vip", "expo"]}, 'tags in ["vip", "expo"]'),
    ({"field": "need.budget", "op": "empty"}, "need.budget is empty"),
    ({"field": "need.budget", "op": "not_empty"}, "need.budget is not empty"),
    ({"not": {"field": "need.budget", "op": "empty"}}, "not need.budget is empty"),
    ({"all": [SHANGHAI, {"field": "need.budget", "op": "not_empty"}]},
     'company.city = "Shanghai" and need.budget is not empty'),
    ({"any": [SHANGHAI, {"all": [{"field": "tags", "op": "eq", "value": "vip"},
                                 {"field": "source", "op": "eq", "value": "web_form"}]}]},
     'company.city = "Shanghai" or (tags = "vip" and source = "web_form")'),
    ({"not": {"any": [SHANGHAI, {"field": "company.city", "op": "eq", "value": "Beijing"}]}},
     'not (company.city = "Shanghai" or company.city = "Beijing")'),
])
def test_a_tree_reads_as_plain_words_A5(tree, text):
    assert to_text(tree) == text


# -- distribution (A7) -------------------------------------------------------------------------------------

RECIPIENTS = [{"user_id": "s1", "permissions": {}, "weight": 1}, {"user_id": "s2", "permissions": {}, "weight": 1},
              {"user_id": "s3", "permissions": {}, "weight": 1}]
PLAIN = [{"user_id": r["user_id"], "permissions": {}} for r in RECIPIENTS]


def test_distribution_to_all_gives_every_lead_to_every_recipient_A7():
    assert choose("all", RECIPIENTS, None)[0] == PLAIN


def test_round_robin_takes_the_recipients_in_turn_A7():
    assert [choose("round_robin", RECIPIENTS, turn)[0][0]["user_id"] for turn in range(7)] == \
        ["s1", "s2", "s3", "s1", "s2", "s3", "s1"]


def test_a_rule_without_recipients_chooses_nobody():
    assert choose("round_robin", [], 3)[0] == []


def test_weighted_gives_each_recipient_its_share_interleaved_A7():
    people = [{**RECIPIENTS[0], "weight": 3}, {**RECIPIENTS[1], "weight": 1}]

    picks = [choose("weighted", people, turn)[0][0]["user_id"] for turn in range(8)]

    assert picks.count("s1") == 6 and picks.count("s2") == 2
    assert picks[:4] != ["s1", "s1", "s1", "s2"] or picks[4:] == picks[:4]  # a repeating, fair cycle


def test_least_loaded_picks_the_person_with_fewest_open_leads_zero_included_A7():
    chosen, why = choose("least_loaded", RECIPIENTS, None, {"s1": 4, "s2": 1, "s3": 0})

    assert chosen[0]["user_id"] == "s3" and "0 open leads" in why
