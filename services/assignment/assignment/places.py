"""Chinese places for `region` (A4): names, pinyin, aliases and fixed-line area codes. Pure.

A place is a province ("上海") or a city ("上海/上海", "江苏/苏州"). A name may stand for
several places ("Suzhou" is 苏州 in Jiangsu and 宿州 in Anhui) and an area code for several
cities (0731: Changsha, Zhuzhou, Xiangtan); matching takes any of them. The data and its
source: data/places.tsv.
"""
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "places.tsv"
_EN_SUFFIX = re.compile(r"\s+(city|province|shi|sheng|municipality)$")
_ZH_SUFFIX = ("特别行政区", "壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "省", "市", "地区")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_NOT_DIGIT = re.compile(r"\D")
_NONE = frozenset()


class Places:
    def __init__(self, rows):
        self.by_key = {}        # normalised name → {place id}
        self.zh_names = []      # Chinese names, longest first (prefix matching of addresses)
        self.by_code = {}       # area code → {city id}
        self.province_of = {}   # place id → its province's id
        self.display = {}       # place id → "Shanghai (上海)"
        for row in rows:
            if row[0] == "P":
                _, province, pinyin, aliases, *codes = row + [""]
                place = province
                names = [province, pinyin, *filter(None, aliases.split(","))]
            else:
                _, province, city, pinyin, codes, *rest = row + [""]
                place = f"{province}/{city}"
                names = [city, pinyin, *filter(None, (rest[0] if rest else "").split(","))]
                for code in filter(None, codes.split(",")):
                    self.by_code.setdefault(code, set()).add(place)
                codes = []
            self.province_of[place] = province
            self.display.setdefault(place, f"{pinyin} ({place.split('/')[-1]})")
            for name in names:
                self.by_key.setdefault(key(name), set()).add(place)
                if _HAN.search(name):
                    self.zh_names.append(name)
        self.zh_names = sorted(set(self.zh_names), key=len, reverse=True)
        self._by_code = {code: frozenset(cities) for code, cities in self.by_code.items()}

    def resolve(self, text) -> frozenset:
        """The places a name (any script, alias, with 市/省/city/province or not) stands for."""
        if text is None:
            return frozenset()
        if isinstance(text, str):
            return self._resolve_text(text)
        return self._resolve(text)

    @lru_cache(maxsize=65536)  # noqa: B019 - one Places per process; city names repeat a lot
    def _resolve_text(self, text):
        return self._resolve(text)

    def _resolve(self, text):
        k = key(text)
        if not k:
            return frozenset()
        found = self.by_key.get(k)
        if found:
            return frozenset(found)
        folded = _fold(text)
        if _HAN.match(folded):  # an address or a longer name: the longest known name it starts with
            for name in self.zh_names:
                if folded.startswith(name) and len(name) >= 2:
                    return frozenset(self.by_key[key(name)])
        return frozenset()

    def from_phone(self, phone) -> frozenset:
        """The cities of a fixed-line number's area code (021-62991640 → Shanghai)."""
        code = area_code(phone)
        return self._by_code.get(code, _NONE) if code else _NONE

    def with_provinces(self, places) -> frozenset:
        """A set of places and every province they lie in."""
        if not places:
            return _NONE
        return frozenset(places) | {self.province_of[p] for p in places}

    def closure(self, places) -> frozenset:
        """The places and, for each province among them, all its cities."""
        return frozenset(places) | {p for p, province in self.province_of.items() if province in places}

    def name(self, places) -> str:
        return " / ".join(sorted(self.display[p] for p in places)) or "?"


def _fold(text) -> str:
    return " ".join(unicodedata.normalize("NFKC", str(text)).split()).casefold()


def key(text) -> str:
    """A place name's lookup key: folded, without administrative suffixes, letters and digits only."""
    folded = _EN_SUFFIX.sub("", _fold(text))
    for suffix in _ZH_SUFFIX:
        if folded.endswith(suffix) and len(folded) > len(suffix) + 1:
            folded = folded[: -len(suffix)]
            break
    return "".join(ch for ch in folded if ch.isalnum())


def area_code(phone) -> str | None:
    """The fixed-line area code of a Chinese phone number, or None (mobiles have none).

    "021-62991640", "(021) 6299 1640", "+86 21 6299 1640", "0086-755-8888 8888", "075588888888".
    """
    if phone is None:
        return None
    text = str(phone).strip()
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    digits = _NOT_DIGIT.sub("", text)
    international = text.startswith("+") or digits.startswith("0086")
    if digits.startswith("0086"):
        digits = digits[4:]
    elif international and digits.startswith("86"):
        digits = digits[2:]
    if international and not digits.startswith("0"):
        digits = "0" + digits
    if len(digits) < 9 or not digits.startswith("0"):
        return None
    return digits[:3] if digits[1] in "12" else digits[:4]


@lru_cache(maxsize=1)
def places() -> Places:
    rows = [line.rstrip("\n").split("\t") for line in DATA.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    return Places(rows)
