"""Leads: "contact@company" in three sections, an owner and assignees (L1, L2, L3, L6, L7, L8).

Pure Python: no Nameko, no SQLAlchemy.
"""
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from crmkit.envelope import iso
from crmkit.errors import Conflict, Gone, Invalid

SECTION_FIELDS = {
    "contact": ("name", "title", "phone", "mobile", "email"),
    "company": ("name", "industry", "city", "province", "country", "address", "phone", "website"),
    "need": ("description", "products", "budget", "timeframe"),
}
SECTIONS = tuple(SECTION_FIELDS)
PERMISSIONS = ("read", "edit")
DEFAULT_PERMISSIONS = {"contact": "edit", "company": "edit", "need": "edit"}
UTM_FIELDS = ("source", "medium", "campaign")
STATUSES = ("raw", "usable", "working", "converted", "invalid")
TRANSITIONS = {
    "raw": {"usable", "working", "invalid"},
    "usable": {"working", "invalid"},
    "working": {"usable", "invalid"},
    "invalid": {"raw", "usable"},
    "converted": set(),
}
INVALID_REASONS = ("unreachable", "mail_returned", "no_need", "duplicate", "wrong_data", "competitor", "other")
RESPONSES = ("accepted", "not_accepted", "not_reached")
PHONE_FIELDS = (("contact", "phone"), ("contact", "mobile"), ("company", "phone"))
_NOT_DIGIT = re.compile(r"\D")
_EXTENSION = re.compile(r"(?:转|ext\.?|x|#)\s*\d+\s*$", re.IGNORECASE)


@lru_cache(maxsize=8192)  # a lead's numbers are normalised several times over (keys, search, rows)
def normalize_phone(text):
    """L1: a phone number as its national digits, for matching and duplicates.

    `021-62991640`, `+86 21 6299 1640` and `0086 21 62991640` all give `2162991640`;
    `+86 138-0013-8000` gives `13800138000`. An extension (转 12, ext 12, x12) is dropped.
    """
    if not text:
        return None
    text = _EXTENSION.sub("", str(text)).strip()
    digits = _NOT_DIGIT.sub("", text)
    if text.startswith("+86") or digits.startswith("0086"):  # written as international: always China's
        digits = digits[2:] if text.startswith("+86") else digits[4:]
    elif digits.startswith("86") and len(digits) >= 12:
        digits = digits[2:]
    digits = digits.lstrip("0") if len(digits) > 7 else digits  # the trunk 0 of an area code
    return digits or None


def phones_of(lead) -> str | None:
    """The lead's numbers, normalised and space-separated (one searchable column)."""
    numbers = [normalize_phone(getattr(lead, section).get(key)) for section, key in PHONE_FIELDS]
    found = sorted({n for n in numbers if n})
    return " ".join(found) or None


def fold(text) -> str:
    """Forgiving text for matching: NFKC (full-/half-width), case, spaces."""
    return " ".join(unicodedata.normalize("NFKC", str(text)).lower().split())


def dedupe_keys(lead) -> dict:
    """L14: what makes two leads the same: the e-mail, a personal phone (contact phone or
    mobile, normalised), or company and contact name together."""
    email = fold(lead.contact.get("email") or "") or None
    phones = sorted({p for p in (normalize_phone(lead.contact.get("phone")), normalize_phone(lead.contact.get("mobile")))
                     if p and len(p) >= 7})
    company, person = fold(lead.company.get("name") or ""), fold(lead.contact.get("name") or "")
    return {"email": email, "phones": phones, "name": f"{company}|{person}" if company and person else None}


def quality_score(valid, reachable, intent) -> int:
    """L8: one assessment as 0-100: valid 40, reachable 20, intent 1-5 up to 40."""
    return (40 if valid else 0) + (20 if reachable else 0) + (intent - 1) * 10


def clean_section(name, values):
    """Trim strings, drop empties; unknown keys are the schema's business, not ours."""
    cleaned = {}
    for key in SECTION_FIELDS[name]:
        value = (values or {}).get(key)
        if isinstance(value, str):
            value = value.strip()
        if value not in (None, ""):
            cleaned[key] = value
    return cleaned


def clean_utm(values):
    """C6: {"source", "medium", "campaign"} trimmed, or None when none of them is given."""
    cleaned = {}
    for key in UTM_FIELDS:
        value = (values or {}).get(key)
        cleaned[key] = (value.strip() if isinstance(value, str) else value) or None
    return cleaned if any(cleaned.values()) else None


def utm_tags(utm):
    """C6: the UTM values as tags (utm_source:baidu), so a tag filter finds them."""
    return [f"utm_{key}:{value}" for key, value in (utm or {}).items() if value]


def permissions_of(given):
    perms = dict(DEFAULT_PERMISSIONS)
    for section, value in (given or {}).items():
        if section not in SECTIONS:
            raise Invalid("Unknown section.", {f"permissions.{section}": "Not a lead section."})
        if value not in PERMISSIONS:
            raise Invalid("A section permission is edit or read.",
                          {f"permissions.{section}": "Must be edit or read."})
        perms[section] = value
    return perms


@dataclass
class Lead:
    id: str
    owner_id: str | None
    created_at: object
    updated_at: object
    campaign_id: str | None = None
    pool_id: str | None = None
    source: str = "manual"
    status: str = "raw"
    invalid_reason: str | None = None
    invalid_note: str | None = None
    contact: dict = field(default_factory=dict)
    company: dict = field(default_factory=dict)
    need: dict = field(default_factory=dict)
    tags: list = field(default_factory=list)
    assignees: dict = field(default_factory=dict)  # user_id -> {"contact": "edit", ...}
    request_key: str | None = None
    utm: dict | None = None       # {"source", "medium", "campaign"} of a web registration (C6)
    rule_id: str | None = None    # the rule to run on the lead instead of its campaign's (C6)
    quality: dict | None = None   # {"score", "assessments"} (L8)
    duplicate_of: list = field(default_factory=list)  # stored leads this one looks like (L14)
    merged_into: str | None = None  # the survivor, once merged into it (L14)
    last_response: dict | None = None  # {"response", "at"} (L7)

    @classmethod
    def create(cls, *, id, now, owner_id, contact=None, company=None, need=None, campaign_id=None,
               pool_id=None, source=None, tags=None, request_key=None, utm=None, rule_id=None):
        contact = clean_section("contact", contact)
        company = clean_section("company", company)
        if not contact.get("name") and not company.get("name"):
            message = "A lead needs a contact name or a company name."
            raise Invalid(message, {"contact.name": message, "company.name": message})
        utm = clean_utm(utm)
        return cls(id=id, owner_id=owner_id, created_at=now, updated_at=now,
                   campaign_id=campaign_id, pool_id=pool_id, source=source or "manual",
                   contact=contact, company=company, need=clean_section("need", need),
                   tags=sorted(set(tags or []) | set(utm_tags(utm))), request_key=request_key,
                   utm=utm, rule_id=rule_id or None)

    def assign(self, user_id, permissions, now):
        """Give user_id the lead with per-section permissions; returns the changes (L2, L3)."""
        if self.status == "converted":
            raise Conflict("A converted lead is not assigned any more.")
        perms = permissions_of(permissions)
        before = self.assignees.get(user_id)
        if before == perms:
            return {}
        self.assignees[user_id] = perms
        self.updated_at = now
        return {f"assignees.{user_id}": {"from": before, "to": perms}}

    def recall(self, user_id, now):
        """L2/L5: take the lead back from an assignee; returns the changes."""
        if user_id not in self.assignees:
            raise Invalid("That user is not assigned to the lead.", {"user_id": "Not an assignee."})
        before = self.assignees.pop(user_id)
        self.updated_at = now
        return {f"assignees.{user_id}": {"from": before, "to": None}}

    def patch(self, changes, now):
        """Apply a partial change: sections merge field by field (null clears a field), tags and
        the campaign, pool and owner are replaced. Returns {"section.field"|field: {"from", "to"}}.
        Permissions are the caller's business (handlers), the lead's own rules are checked here."""
        if self.status == "converted":
            raise Conflict("A converted lead is not changed any more.")
        diff = {}
        for section in SECTIONS:
            if changes.get(section) is None:
                continue
            merged = dict(getattr(self, section))
            merged.update({k: v for k, v in changes[section].items()})
            cleaned = clean_section(section, merged)
            for key in SECTION_FIELDS[section]:
                if getattr(self, section).get(key) != cleaned.get(key):
                    diff[f"{section}.{key}"] = {"from": getattr(self, section).get(key), "to": cleaned.get(key)}
            setattr(self, section, cleaned)
        if not self.contact.get("name") and not self.company.get("name"):
            message = "A lead needs a contact name or a company name."
            raise Invalid(message, {"contact.name": message, "company.name": message})
        if "tags" in changes:
            tags = sorted(set(changes["tags"] or []))
            if tags != self.tags:
                diff["tags"] = {"from": self.tags, "to": tags}
                self.tags = tags
        for key in ("campaign_id", "pool_id", "owner_id"):
            if key in changes and changes[key] != getattr(self, key):
                if key == "owner_id" and not changes[key]:
                    raise Invalid("A lead always has an owner.", {"owner_id": "Must not be empty."})
                diff[key] = {"from": getattr(self, key), "to": changes[key]}
                setattr(self, key, changes[key])
        if diff:
            self.updated_at = now
        return diff

    def absorb(self, other, now):
        """L14: take in a duplicate: its values fill this lead's empty fields, its tags and
        assignees join (an assignee of both keeps this lead's permissions). Returns the changes."""
        diff = {}
        for section in SECTIONS:
            mine = getattr(self, section)
            for key, value in getattr(other, section).items():
                if value and not mine.get(key):
                    diff[f"{section}.{key}"] = {"from": None, "to": value}
                    mine[key] = value
        tags = sorted(set(self.tags) | set(other.tags))
        if tags != self.tags:
            diff["tags"] = {"from": self.tags, "to": tags}
            self.tags = tags
        for user, perms in other.assignees.items():
            if user not in self.assignees:
                self.assignees[user] = dict(perms)
                diff[f"assignees.{user}"] = {"from": None, "to": perms}
        self.duplicate_of = [i for i in self.duplicate_of if i != other.id]
        self.updated_at = now
        return diff

    def move_to(self, status, now, reason=None, note=None):
        """L6: a checked status move (409 otherwise). `invalid` needs a reason: one of
        INVALID_REASONS, or any text, kept as `other` with the text as its note.
        `converted` is reached only through conversion."""
        if status == "converted":
            raise Conflict("A lead is converted only through POST /leads/{id}/convert.",
                           {"status": "Use the conversion."})
        if status == self.status:
            return {}
        if status not in TRANSITIONS[self.status]:
            allowed = ", ".join(sorted(TRANSITIONS[self.status])) or "none"
            raise Conflict(f"A lead cannot go from {self.status} to {status}.",
                           {"status": f"Allowed from {self.status}: {allowed}."})
        if status == "invalid":
            reason = (reason or "").strip()
            if not reason:
                raise Invalid("An invalid lead needs a reason.",
                              {"reason": f"One of {', '.join(INVALID_REASONS)}, or your own words."})
            if reason not in INVALID_REASONS:
                reason, note = "other", " ".join(filter(None, (reason, note)))
        else:
            reason, note = None, None
        diff = {"status": {"from": self.status, "to": status}}
        for key, value in (("invalid_reason", reason), ("invalid_note", note or None)):
            if value != getattr(self, key):
                diff[key] = {"from": getattr(self, key), "to": value}
                setattr(self, key, value)
        self.status, self.updated_at = status, now
        return diff

    def created_changes(self):
        changes = {f"{section}.{key}": {"from": None, "to": value}
                   for section in SECTIONS for key, value in getattr(self, section).items()}
        for key in ("campaign_id", "pool_id", "owner_id", "source", "status", "utm", "rule_id"):
            if getattr(self, key) is not None:
                changes[key] = {"from": None, "to": getattr(self, key)}
        return changes

    def to_dict(self):
        return {
            "id": self.id,
            "campaign_id": self.campaign_id,
            "pool_id": self.pool_id,
            "owner_id": self.owner_id,
            "source": self.source,
            "status": self.status,
            "invalid_reason": self.invalid_reason,
            "invalid_note": self.invalid_note,
            "contact": {key: self.contact.get(key) for key in SECTION_FIELDS["contact"]},
            "company": {key: self.company.get(key) for key in SECTION_FIELDS["company"]},
            "need": {key: self.need.get(key) for key in SECTION_FIELDS["need"]},
            "tags": list(self.tags),
            "utm": dict(self.utm) if self.utm else None,
            "rule_id": self.rule_id,
            "assignees": [{"user_id": user, "permissions": dict(perms)}
                          for user, perms in self.assignees.items()],
            "quality": dict(self.quality) if self.quality else None,
            "duplicate_of": list(self.duplicate_of),
            "last_response": dict(self.last_response) if self.last_response else None,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


@dataclass(frozen=True)
class KnownCampaign:
    """The lead service's copy of what it must know of a campaign: does it take leads?"""
    id: str
    status: str | None = None
    archived: bool = False

    def require_open(self):
        if self.status == "deleted":
            raise Invalid("The campaign does not exist.", {"campaign_id": "No such campaign."})
        if self.archived:
            raise Conflict("The campaign is archived and takes no new leads.",
                           {"campaign_id": "Archived campaign."})


ROUTE_SETTINGS = ("active", "owner_id", "pool_id", "rule_id")


@dataclass
class IntakeRoute:
    """C6: a web form's key, and where its registrations go: campaign, owner, pool and rule."""
    key: str
    campaign_id: str
    owner_id: str | None
    created_at: object
    updated_at: object
    pool_id: str | None = None
    rule_id: str | None = None
    active: bool = True
    created_by: str | None = None

    def require_active(self):
        if not self.active:
            raise Gone(f"The form {self.key} takes no more registrations.", {"key": self.key})

    def lead_fields(self) -> dict:
        """What a lead registered through this route gets from it."""
        return {"campaign_id": self.campaign_id, "owner_id": self.owner_id, "pool_id": self.pool_id,
                "rule_id": self.rule_id, "source": "web_form"}

    def change(self, values: dict, now) -> dict:
        """Apply the given settings; returns {field: {"from", "to"}} of what really changed."""
        changes = {}
        for key in ROUTE_SETTINGS:
            if key in values and values[key] != getattr(self, key):
                changes[key] = {"from": getattr(self, key), "to": values[key]}
                setattr(self, key, values[key])
        if changes:
            self.updated_at = now
        return changes

    def to_dict(self):
        return {"key": self.key, "campaign_id": self.campaign_id, "owner_id": self.owner_id,
                "pool_id": self.pool_id, "rule_id": self.rule_id, "active": self.active,
                "created_by": self.created_by, "created_at": iso(self.created_at),
                "updated_at": iso(self.updated_at)}
