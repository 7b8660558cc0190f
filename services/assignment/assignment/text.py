"""The rules' readable text form (A5): a lark grammar, a printer, and plain words. Pure.

    company.city = "Shanghai" or (region(company) = "Beijing" and not need.description is empty)

`parse(to_text(tree)) == tree` for every canonical tree: groups inside groups are printed in
parentheses (so `a and (b and c)` stays nested), values are JSON literals (strings in double
quotes, numbers, null, lists for `in`). Keywords are case-insensitive.
"""
import json

from lark import Lark, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from crmkit.errors import Invalid

GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (_OR and_expr)*          -> any_
?and_expr: not_expr (_AND not_expr)*       -> all_
?not_expr: _NOT not_expr                   -> not_
         | atom
?atom: "(" or_expr ")"
     | leaf
leaf: FIELD OP value                       -> compare
    | FIELD _IS _EMPTY                     -> empty
    | FIELD _IS _NOT _EMPTY                -> not_empty
    | FIELD _CONTAINS value                -> contains
    | FIELD _STARTS _WITH value            -> starts_with
    | FIELD _IN list                       -> in_
    | _REGION "(" FIELD ")" "=" value      -> region
?value: ESCAPED_STRING -> literal
      | SIGNED_NUMBER  -> literal
      | _NULL          -> null
list: "[" [value ("," value)*] "]"
OP: "!=" | ">=" | "<=" | "=" | ">" | "<"
_OR: /or\b/i
_AND: /and\b/i
_NOT: /not\b/i
_IS: /is\b/i
_EMPTY: /empty\b/i
_CONTAINS: /contains\b/i
_STARTS: /starts\b/i
_WITH: /with\b/i
_IN: /in\b/i
_REGION: /region\b/i
_NULL: /null\b/i
FIELD.-1: /[A-Za-z_][A-Za-z_0-9]*(\.[A-Za-z_][A-Za-z_0-9]*)?/
SIGNED_NUMBER: /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/
%import common.ESCAPED_STRING
%import common.WS
%ignore WS
"""
SYMBOLS = {"=": "eq", "!=": "ne", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}
OP_SYMBOL = {op: symbol for symbol, op in SYMBOLS.items()}


@v_args(inline=True)
class _ToTree(Transformer):
    """Builds the tree and remembers where each leaf starts: {path-free id: (line, column)}."""

    def __init__(self):
        super().__init__()
        self.positions = {}

    def _leaf(self, token, **node):
        leaf = {"field": str(token), **node}
        self.positions[id(leaf)] = (token.line, token.column)
        return leaf

    def any_(self, *children):
        return children[0] if len(children) == 1 else {"any": list(children)}

    def all_(self, *children):
        return children[0] if len(children) == 1 else {"all": list(children)}

    def not_(self, child):
        return {"not": child}

    def literal(self, token):
        return json.loads(str(token))

    def null(self):
        return None

    def list(self, *values):
        return [] if values == (None,) else list(values)

    def compare(self, field, op, value):
        return self._leaf(field, op=SYMBOLS[str(op)], value=value)

    def empty(self, field):
        return self._leaf(field, op="empty")

    def not_empty(self, field):
        return self._leaf(field, op="not_empty")

    def contains(self, field, value):
        return self._leaf(field, op="contains", value=value)

    def starts_with(self, field, value):
        return self._leaf(field, op="starts_with", value=value)

    def in_(self, field, values):
        return self._leaf(field, op="in", value=values)

    def region(self, field, value):
        return self._leaf(field, op="region", value=value)


_PARSER = Lark(GRAMMAR, parser="lalr", maybe_placeholders=True)
_WORDS = {"_OR": "or", "_AND": "and", "_NOT": "not", "_IS": "is", "_EMPTY": "empty", "_CONTAINS": "contains",
          "_STARTS": "starts", "_WITH": "with", "_IN": "in", "_REGION": "region", "_NULL": "null",
          "FIELD": "a field", "OP": "an operator", "ESCAPED_STRING": "a \"text\"", "SIGNED_NUMBER": "a number",
          "LPAR": "(", "RPAR": ")", "LSQB": "[", "RSQB": "]", "COMMA": ",", "EQUAL": "=", "$END": "the end"}


def _where(exc: UnexpectedInput, text: str) -> str:
    line, column = getattr(exc, "line", None), getattr(exc, "column", None)
    at_end = isinstance(exc, UnexpectedToken) and exc.token.type == "$END"
    if isinstance(exc, UnexpectedEOF) or at_end or line in (None, -1):
        lines = text.split("\n")
        line, column = len(lines), len(lines[-1]) + 1
    expected = sorted({_WORDS.get(t, t) for t in (getattr(exc, "expected", None) or
                                                  getattr(exc, "allowed", None) or ())})
    if isinstance(exc, UnexpectedCharacters):
        found = f"unexpected {text.split(chr(10))[line - 1][column - 1]!r}"
    elif isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        found = f"unexpected {str(exc.token)!r}"
    else:
        found = "unexpected end of text"
    hint = f"; expected {', '.join(expected[:8])}" if expected else ""
    return f"line {line}, column {column}: {found}{hint}"


def parse(text: str):
    """Text → (tree, {leaf id: (line, column)}). Raises Invalid under `condition_text`."""
    if not isinstance(text, str) or not text.strip():
        raise Invalid("The condition text is empty.", {"condition_text": "line 1, column 1: empty condition"})
    builder = _ToTree()
    try:
        tree = builder.transform(_PARSER.parse(text))
    except UnexpectedInput as exc:
        raise Invalid("The condition text does not parse.", {"condition_text": _where(exc, text)}) from None
    except VisitError as exc:  # a literal json refuses (cannot happen with the grammar's terminals)
        raise Invalid("The condition text does not parse.", {"condition_text": str(exc.orig_exc)}) from None
    return tree, builder.positions


def _group(child):
    return "all" in child or "any" in child


def to_text(node) -> str:
    """The readable form of a canonical tree."""
    for key, joiner in (("all", " and "), ("any", " or ")):
        if key in node:
            return joiner.join(f"({to_text(c)})" if _group(c) else to_text(c) for c in node[key])
    if "not" in node:
        inner = node["not"]
        return f"not ({to_text(inner)})" if _group(inner) else f"not {to_text(inner)}"
    field, op, value = node["field"], node["op"], node.get("value")
    if op == "empty":
        return f"{field} is empty"
    if op == "not_empty":
        return f"{field} is not empty"
    literal = json.dumps(value, ensure_ascii=False)
    if op == "region":
        return f"region({field}) = {literal}"
    if op == "starts_with":
        return f"{field} starts with {literal}"
    if op in ("contains", "in"):
        return f"{field} {op} {literal}"
    return f"{field} {OP_SYMBOL[op]} {literal}"


# -- plain words (display) -----------------------------------------------------------------------------

_FIELD_WORDS = {
    "en": {"contact": "the contact", "company": "the company", "need": "the need", "source": "the source",
           "status": "the status", "tags": "the tags", "campaign_id": "the campaign", "pool_id": "the pool",
           "owner_id": "the owner", "created_at": "the creation time", "updated_at": "the last change",
           "quality": "the quality score"},
    "zh": {"contact": "联系人", "company": "单位", "need": "需求", "source": "来源", "status": "状态",
           "tags": "标签", "campaign_id": "战役", "pool_id": "线索池", "owner_id": "主控者",
           "created_at": "创建时间", "updated_at": "修改时间", "quality": "质量分",
           "name": "名称", "title": "职位", "phone": "电话", "mobile": "手机", "email": "邮箱",
           "industry": "行业", "city": "城市", "province": "省份", "country": "国家", "address": "地址",
           "website": "网站", "description": "描述", "products": "产品", "budget": "预算", "timeframe": "时间"},
}
_OP_WORDS = {
    "en": {"eq": "is {v}", "ne": "is not {v}", "contains": "contains {v}", "starts_with": "starts with {v}",
           "in": "is one of {v}", "empty": "is empty", "not_empty": "is filled in", "gt": "is above {v}",
           "gte": "is at least {v}", "lt": "is below {v}", "lte": "is at most {v}", "region": "is in {v}"},
    "zh": {"eq": "等于{v}", "ne": "不等于{v}", "contains": "包含{v}", "starts_with": "以{v}开头",
           "in": "是{v}之一", "empty": "为空", "not_empty": "不为空", "gt": "大于{v}", "gte": "不小于{v}",
           "lt": "小于{v}", "lte": "不大于{v}", "region": "位于{v}"},
}
_JOIN = {"en": {"all": " and ", "any": " or ", "not": "not: "}, "zh": {"all": " 并且 ", "any": " 或者 ", "not": "并非："}}


def _field_words(field, lang):
    words = _FIELD_WORDS[lang]
    if "." not in field:
        return words[field]
    section, key = field.split(".", 1)
    if lang == "zh":
        return words[section] + words[key]
    return f"{words[section]}'s {key}"


def _value_words(value, lang):
    if isinstance(value, list):
        return ("、" if lang == "zh" else ", ").join(_value_words(v, lang) for v in value)
    if value is None:
        return "空" if lang == "zh" else "nothing"
    return f"“{value}”" if isinstance(value, str) else str(value)


def describe(node, lang="en") -> str:
    """A plain-words rendering for display, in English ("en") or Chinese ("zh")."""
    join = _JOIN[lang]
    for key in ("all", "any"):
        if key in node:
            return join[key].join(f"({describe(c, lang)})" if _group(c) else describe(c, lang)
                                  for c in node[key])
    if "not" in node:
        inner = describe(node["not"], lang)
        return join["not"] + (f"({inner})" if _group(node["not"]) else inner)
    template = _OP_WORDS[lang][node["op"]]
    subject = _field_words(node["field"], lang)
    return (subject + " " if lang == "en" else subject) + template.format(v=_value_words(node.get("value"), lang))
