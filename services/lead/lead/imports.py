"""Spreadsheet import (L13), the pure part: options, encoding, header mapping, rows → lead fields,
per-row validation, and the duplicates of a chunk among themselves.

Pure Python: no Nameko, no SQLAlchemy. Rows are numbered as a spreadsheet shows them: the
header is row 1, and a blank line keeps its number (it is skipped, not renumbered).
"""
import codecs
import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

from crmkit.errors import Invalid

from .model import SECTION_FIELDS, normalize_phone

ON_DUPLICATE = ("skip", "flag", "update")
IMPORT_ROLES = {"admin", "marketing_director", "marketing_member", "market_manager"}
MAX_FILE_BYTES = 50 * 1024 * 1024
# rows per transaction of an import (the job's checkpoint). 4,000 against 2,000, with 1,000 events a
# packed message: PostgreSQL stored 100,000 rows in 27.5-27.7 s (three runs) against 27.4-30.5 s,
# SQLite in 17.2 s against 18.3 s; all assigned as soon.
CHUNK_ROWS = 4000
SHORT_LIMIT = 200  # String(200) columns; need.description, need.products, company.address are Text
LONG_FIELDS = {"need.description", "need.products", "company.address"}
TARGETS = {f"{section}.{key}" for section, keys in SECTION_FIELDS.items() for key in keys}
PHONE_TARGETS = ("contact.phone", "contact.mobile", "company.phone")
NAME_MESSAGE = "A lead needs a contact name or a company name."

# Header → field. The intake's flat names first (API.md "Intake"), then English and Chinese
# variants as spreadsheets write them. Compared after `header_key` (width, case, spaces, marks).
ALIASES = {
    "contact.name": ("name", "contact", "contact name", "full name", "姓名", "联系人", "联系人姓名", "客户姓名",
                     "名字", "客户联系人"),
    "contact.title": ("title", "job title", "position", "职位", "职务", "头衔", "岗位"),
    "contact.email": ("email", "e-mail", "mail", "email address", "邮箱", "电子邮件", "电子邮箱", "邮件", "邮箱地址",
                      "电邮"),
    "contact.phone": ("phone", "tel", "telephone", "phone number", "电话", "联系电话", "座机", "办公电话",
                      "固定电话", "电话号码"),
    "contact.mobile": ("mobile", "cell", "cellphone", "mobile phone", "手机", "手机号", "手机号码", "移动电话"),
    "company.name": ("company", "company name", "organization", "organisation", "公司", "公司名称", "公司名",
                     "单位", "单位名称", "企业", "企业名称", "工作单位"),
    "company.industry": ("industry", "行业", "所属行业", "行业类别"),
    "company.city": ("city", "城市", "所在城市", "市"),
    "company.province": ("province", "state", "省份", "省", "所在省份", "省/直辖市"),
    "company.country": ("country", "国家", "国家/地区"),
    "company.address": ("address", "地址", "公司地址", "详细地址", "单位地址"),
    "company.phone": ("company phone", "公司电话", "总机", "单位电话"),
    "company.website": ("website", "web", "url", "网站", "网址", "公司网站", "官网"),
    "need.description": ("need", "needs", "requirement", "requirements", "需求", "需求描述", "客户需求"),
    "need.products": ("products", "product", "产品", "意向产品", "感兴趣的产品"),
    "need.budget": ("budget", "预算"),
    "need.timeframe": ("timeframe", "time frame", "采购时间", "时间范围", "计划时间"),
}
_MARKS = re.compile(r"[\s*:：_\-（）()\[\]【】]+")
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>.]+$")
_PHONE = re.compile(r"^[\d\s+\-().（）/]+(?:(?:转|ext\.?|x|#)\s*\d+)?$", re.IGNORECASE)


def header_key(text) -> str:
    """A header as it is compared: NFKC (full-/half-width), lower case, no spaces or marks."""
    return _MARKS.sub("", unicodedata.normalize("NFKC", str(text or "")).lower())


KNOWN_HEADERS = {header_key(alias): target for target, aliases in ALIASES.items() for alias in aliases}


def check_options(options: dict) -> dict:
    """The job's options as the service keeps them: {"campaign_id", "pool_id", "mapping",
    "on_duplicate", "filename"}. Invalid with field details otherwise."""
    errors = {}
    campaign_id = options.get("campaign_id")
    if not isinstance(campaign_id, str) or not 1 <= len(campaign_id) <= 32:
        errors["campaign_id"] = "Required: the campaign the leads join."
    pool_id = options.get("pool_id") or None
    if pool_id is not None and (not isinstance(pool_id, str) or len(pool_id) > 32):
        errors["pool_id"] = "A pool id (at most 32 characters)."
    on_duplicate = options.get("on_duplicate") or "skip"
    if on_duplicate not in ON_DUPLICATE:
        errors["on_duplicate"] = f"One of {', '.join(ON_DUPLICATE)}."
    mapping = options.get("mapping") or {}
    if not isinstance(mapping, dict):
        errors["mapping"] = 'An object {"column header": "contact.name", ...}.'
        mapping = {}
    for header, target in mapping.items():
        if target not in TARGETS and target not in (None, ""):
            errors[f"mapping.{header}"] = f"Not a lead field: {target!r} (e.g. contact.name, company.city)."
    if errors:
        raise Invalid("The import has invalid options.", errors)
    return {"campaign_id": campaign_id, "pool_id": pool_id, "on_duplicate": on_duplicate,
            "mapping": {str(k): v or None for k, v in mapping.items()},
            "filename": str(options.get("filename") or "")[:200] or None}


def decode(content: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 with or without BOM, UTF-16 with BOM, else GB18030 (a superset of
    GBK and GB2312, what Excel writes on a Chinese Windows)."""
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ("utf-16",)
    else:
        candidates = ("utf-8-sig", "gb18030")
    for encoding in candidates:
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text, "utf-8" if encoding == "utf-8-sig" else encoding
    raise Invalid("The file is neither UTF-8 nor GBK/GB18030 text.", {"file": "Unknown text encoding."})


def looks_like_xlsx(content: bytes, filename: str | None) -> bool:
    return content[:4] == b"PK\x03\x04" or (filename or "").lower().endswith((".xlsx", ".xls"))


def _delimiter(text: str) -> str:
    """Comma, tab or semicolon: whichever the first non-blank line (the header) has most of."""
    header = next((line for line in text[:65536].splitlines() if line.strip()), "")
    return max((",", "\t", ";"), key=header.count) if header else ","


def records(text: str):
    """(row number, cells) for every record of the CSV text, blank ones included."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    for number, cells in enumerate(reader, start=1):
        yield number, cells


def _blank(cells) -> bool:
    return not any(cell.strip() for cell in cells)


@dataclass
class Sheet:
    """A parsed file: where each column goes, and the data rows as (row number, cells)."""
    encoding: str
    header_row: int
    columns: list            # per column index: "section.key" or None
    headers: list
    rows: list = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.rows)


def columns_of(headers, mapping) -> list:
    """Each column's target: the mapping's word first, else a known header name. Invalid if the
    mapping names a column the file lacks, or no column can be used at all."""
    keys = [header_key(h) for h in headers]
    by_key = {}
    for index, key in enumerate(keys):
        by_key.setdefault(key, index)
    columns = [KNOWN_HEADERS.get(key) for key in keys]
    missing = {}
    for header, target in (mapping or {}).items():
        index = headers.index(header) if header in headers else by_key.get(header_key(header))
        if index is None:
            missing[f"mapping.{header}"] = "The file has no such column."
        else:
            columns[index] = target
    if missing:
        raise Invalid("The mapping names columns the file does not have.", missing)
    if not any(columns):
        raise Invalid("No column of the file could be matched to a lead field; send a mapping.",
                      {"file": f"Headers found: {', '.join(h for h in headers if h) or '(none)'}."})
    return columns


def read_sheet(content: bytes, mapping=None, filename=None) -> Sheet:
    """Decode and split the file; the header is the first non-blank record."""
    if looks_like_xlsx(content, filename):
        raise Invalid("Only CSV files are imported; save the sheet as CSV (UTF-8 or GBK).",
                      {"file": "XLSX is not supported."})
    text, encoding = decode(content)
    iterator = records(text)
    try:
        header_row, headers = next((n, cells) for n, cells in iterator if not _blank(cells))
    except StopIteration:
        raise Invalid("The file is empty.", {"file": "No header row."}) from None
    except csv.Error as exc:
        raise Invalid("The file is not valid CSV.", {"file": str(exc)}) from None
    headers = [h.strip() for h in headers]
    sheet = Sheet(encoding, header_row, columns_of(headers, mapping), headers)
    try:
        sheet.rows = [(n, cells) for n, cells in iterator if not _blank(cells)]
    except csv.Error as exc:
        raise Invalid("The file is not valid CSV.", {"file": str(exc)}) from None
    return sheet


def _problem(target, value) -> str | None:
    """Why a value cannot go into the field, or None."""
    if target not in LONG_FIELDS and len(value) > SHORT_LIMIT:
        return f"Longer than {SHORT_LIMIT} characters."
    if target == "contact.email" and not _EMAIL.match(value):
        return f"Not a valid e-mail address: {value!r}."
    if target in PHONE_TARGETS:
        digits = normalize_phone(value) or ""
        if not _PHONE.match(value) or not 5 <= len(digits) <= 15:
            return f"Not a valid phone number: {value!r}."
    return None


def row_fields(number, cells, columns) -> tuple[dict, list]:
    """One record → ({"contact", "company", "need"}, errors [{"row", "field", "message"}])."""
    sections = {section: {} for section in SECTION_FIELDS}
    errors = []
    for index, target in enumerate(columns):
        if target is None or index >= len(cells):
            continue
        value = cells[index].strip()
        section, key = target.split(".")
        if not value or sections[section].get(key):
            continue
        problem = _problem(target, value)
        if problem:
            errors.append({"row": number, "field": target, "message": problem})
        else:
            sections[section][key] = value
    if not sections["contact"].get("name") and not sections["company"].get("name"):
        errors.append({"row": number, "field": "contact.name", "message": NAME_MESSAGE})
    return sections, errors


class SeenKeys:
    """Duplicate keys (model.dedupe_keys) of the rows seen so far → the lead id they were stored as."""

    def __init__(self):
        self._ids = {}

    @staticmethod
    def _flat(keys):
        flat = [("email", keys.get("email")), ("name", keys.get("name"))]
        flat += [("phone", phone) for phone in keys.get("phones") or ()]
        return [key for key in flat if key[1]]

    def match(self, keys) -> list:
        return sorted({self._ids[key] for key in self._flat(keys) if key in self._ids})

    def add(self, keys, lead_id):
        for key in self._flat(keys):
            self._ids.setdefault(key, lead_id)


def fill_empty(lead, fields) -> dict:
    """on_duplicate=update: the changes that fill the lead's empty fields from the row's values."""
    return {section: {key: value for key, value in values.items() if not getattr(lead, section).get(key)}
            for section, values in fields.items()
            if any(not getattr(lead, section).get(key) for key in values)}
