"""The offline report assistant (A7): values for a report form's fields read from what the
user said, in French or English, with the span each was read from and a confidence.

- FORM mode (one answer per field's question): the answer is read as the field's type.
- DYNAMIC mode (one free account): each field is looked for in the clause that speaks of it
  (its label's words, or a French / English synonym, fuzzily matched), or anywhere for the
  types that say what they are (a rating "4 sur 5", a choice of the form).

Readers: numbers with units and thousands separators ("2 500 €", "1,5k", "trois");
dates and relative dates through ``dateparser`` ("mardi prochain", "in two weeks", "le
15/04", day first); yes / no with negations; choices by fuzzy match (``rapidfuzz``, with a
few French / English synonyms); ratings ("4 sur 5", "4/5", "three stars", "très
satisfait"). Deterministic: the same words always give the same draft.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from collections.abc import Iterator, Sequence

from dateparser.search import search_dates
from rapidfuzz import fuzz

from fiche.interop import AssistantField, AssistantRequest, ExtractedValue

__all__ = ["DYNAMIC", "extract", "fold_same_length"]

DYNAMIC = ""  # the answer key of the free account
RELEVANT = 85  # fuzzy score for a clause to speak of a field
CHOICE_MATCH = 80
SHORT_CHOICE_MATCH = 90  # a choice of fewer than 6 letters ("devis", "demo") must be spelt nearly right
DATE_SETTINGS = {"PREFER_DATES_FROM": "future", "RETURN_AS_TIMEZONE_AWARE": False, "DATE_ORDER": "DMY"}


@dataclasses.dataclass(frozen=True, slots=True)
class Found:
    value: object
    start: int
    end: int
    confidence: float


def _fold_char(char: str) -> str:
    base = unicodedata.normalize("NFKD", char)[:1].lower()
    return base if len(base) == 1 else char


def fold_same_length(text: str) -> str:
    """Lowercase without accents, one character per character (spans stay valid)."""
    return "".join(_fold_char(char) for char in text)


# -- numbers -----------------------------------------------------------------------------

NUMBER_WORDS = {
    "zero": 0, "un": 1, "une": 1, "one": 1, "deux": 2, "two": 2, "trois": 3, "three": 3, "quatre": 4, "four": 4,
    "cinq": 5, "five": 5, "six": 6, "sept": 7, "seven": 7, "huit": 8, "eight": 8, "neuf": 9, "nine": 9,
    "dix": 10, "ten": 10, "onze": 11, "eleven": 11, "douze": 12, "twelve": 12, "quinze": 15, "fifteen": 15,
    "vingt": 20, "twenty": 20, "trente": 30, "thirty": 30, "quarante": 40, "forty": 40, "cinquante": 50, "fifty": 50,
    "cent": 100, "hundred": 100,
}  # fmt: skip
_WORD = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
UNITS = r"k€|k ?euros?|€|euros?|eur\b|%|km|kg|h\b|heures?|hours?|min(?:utes?)?\b|pieces?|unites?|units?|palettes?|cartons?"
NUMBER_RE = re.compile(
    rf"(?<![\w/.,])(?P<n>\d{{1,3}}(?:[ \u00a0\u202f]\d{{3}})+(?:[.,]\d+)?|\d+(?:[.,]\d+)*|\b(?:{_WORD})\b)(?![\d/]|[.,]\d)"
    rf"(?:\s*(?P<k>k|mille|thousand)\b)?(?:\s*(?P<unit>{UNITS}))?(?![a-z])"
)
MONEY_LABEL = re.compile(r"montant|prix|budget|chiffre|valeur|amount|price|value|€|eur|revenue|total|cout|cost")


def _parse_number(raw: str) -> float | None:
    if raw in NUMBER_WORDS:
        return float(NUMBER_WORDS[raw])
    compact = re.sub(r"[ \u00a0\u202f]", "", raw)
    if "," in compact and "." in compact:  # the last separator is the decimal one
        decimal = max(compact.rfind(","), compact.rfind("."))
        compact = re.sub(r"[.,]", "", compact[:decimal]) + "." + compact[decimal + 1 :]
    elif compact.count(",") == 1 and re.fullmatch(r"\d{1,3},\d{3}", compact) is None:
        compact = compact.replace(",", ".")  # 3,5 (a French decimal)
    elif compact.count(",") >= 1:
        compact = compact.replace(",", "")  # 1,250 or 1,250,000 (thousands)
    elif compact.count(".") > 1:
        compact = compact.replace(".", "")  # 1.250.000
    try:
        return float(compact)
    except ValueError:
        return None


def _numbers(folded: str, taken: Sequence[tuple[int, int]]) -> Iterator[tuple[float, str | None, int, int]]:
    for match in NUMBER_RE.finditer(folded):
        if any(start < match.end() and match.start() < end for start, end in taken):
            continue
        value = _parse_number(match.group("n"))
        if value is None:
            continue
        unit = match.group("unit")
        if match.group("k") or (unit or "").startswith("k"):
            value *= 1000
        yield value, unit, match.start(), match.end()


def read_number(folded: str, field: AssistantField, taken: Sequence[tuple[int, int]] = ()) -> Found | None:
    candidates = list(_numbers(folded, taken))
    if field.min_value is not None or field.max_value is not None:
        candidates = [c for c in candidates if (field.min_value is None or c[0] >= field.min_value) and (field.max_value is None or c[0] <= field.max_value)]
    if not candidates:
        return None
    if MONEY_LABEL.search(fold_same_length(field.label)):
        money = [c for c in candidates if c[1] and ("€" in c[1] or "eur" in c[1])]
        candidates = money or candidates
    value, _, start, end = candidates[0]
    return Found(int(value) if value.is_integer() else value, start, end, 0.9 if len(candidates) == 1 else 0.7)


# -- dates -------------------------------------------------------------------------------

DATE_HINT = re.compile(r"[a-z]|\d{1,4}[/.-]\d{1,2}")
# Periods, not days: "next year", "le mois prochain", "for now" name no date to write down.
VAGUE = re.compile(
    r"\b(?:years?|annees?|ans?|now|maintenant|instant)\b|\bnext month\b|\bmois prochain\b|\bprochain mois\b"
    r"|\bthis (?:week|month)\b|\bce mois\b|\bcette semaine\b|\bmois-ci\b|\bsemaine-ci\b"
)


def _abbreviation(words: str) -> bool:
    """Two or three letters read as a day or month ("we" as Wednesday): not a date."""
    bare = words.strip(" ,.;:")
    return len(bare) <= 3 and bare.isalpha() and bare not in ("mai", "may")


def _dates(text: str, reference: dt.datetime, taken: Sequence[tuple[int, int]] = ()) -> Iterator[tuple[dt.date, int, int]]:
    found = search_dates(text, languages=["fr", "en"], settings={**DATE_SETTINGS, "RELATIVE_BASE": reference.replace(tzinfo=None)}) or []
    cursor = 0
    for words, moment in found:
        start = text.find(words, cursor)
        if start < 0:
            continue
        cursor = start + len(words)
        folded = fold_same_length(words)
        if not DATE_HINT.search(folded) or VAGUE.search(folded) or _overlaps(start, cursor, taken) or _abbreviation(folded):
            continue
        yield moment.date(), start, start + len(words)


def read_date(text: str, reference: dt.datetime, taken: Sequence[tuple[int, int]] = ()) -> Found | None:
    dates = list(_dates(text, reference, taken))
    if not dates:
        return None
    day, start, end = dates[0]
    return Found(day.isoformat(), start, end, 0.85 if len(dates) == 1 else 0.65)


# -- yes / no ----------------------------------------------------------------------------

NO = re.compile(r"\b(?:non|no|pas|aucun|aucune|jamais|nope|not|never|none|rien|nothing|n'|don't|won't|isn't)\b|\bne\b")
YES = re.compile(
    r"\b(?:oui|yes|ouais|yep|yeah|bien sur|absolument|tout a fait|certainement|affirmatif|evidemment|sure|definitely|of course|indeed|"
    r"prevu|prevue|confirme|confirmee|confirmed|planned|expected|attendue?)\b"
)


def read_boolean(folded: str, *, statement: bool = False) -> Found | None:
    """Yes or no; in a statement (DYNAMIC mode) a clause without a negation says yes."""
    no, yes = NO.search(folded), YES.search(folded)
    if no is None and yes is None:
        stripped = folded.strip()
        start = folded.find(stripped)
        return Found(True, start, start + len(stripped), 0.6) if statement and stripped else None
    if no is not None and (yes is None or no.start() < yes.start()):
        return Found(False, no.start(), no.end(), 0.9 if yes is None else 0.6)
    assert yes is not None
    return Found(True, yes.start(), yes.end(), 0.9 if no is None else 0.6)


# -- choices -----------------------------------------------------------------------------

SYNONYMS: dict[str, tuple[str, ...]] = {
    "devis": ("quote", "quotation", "proposal", "offre"),
    "relance": ("follow up", "follow-up", "reminder", "chase", "relancer"),
    "demonstration": ("demo", "demonstrate", "demontrer", "presentation produit"),
    "aucune": ("none", "nothing", "rien", "no next step", "pas de suite"),
    "aucun": ("none", "nothing", "rien"),
    "interesse": ("interested", "keen", "motive"),
    "pas interesse": ("not interested", "no interest", "pas motive", "aucun interet"),
    "a rappeler": ("call back", "callback", "ring back", "rappeler", "recontacter", "call again"),
    "commande": ("order", "purchase"),
    "visite": ("visit",),
    "quote": ("devis", "quotation", "proposal"),
    "follow-up": ("follow up", "relance", "reminder", "chase", "relancer"),
    "demo": ("demonstration", "demonstrate"),
    "none": ("no next step", "nothing", "aucune", "rien"),
    "interested": ("interesse", "keen"),
    "not interested": ("pas interesse", "no interest", "n'est pas interesse"),
    "call back": ("callback", "ring back", "call again", "rappeler", "a rappeler"),
}


def read_choice(folded: str, choices: Sequence[str]) -> Found | None:
    best: tuple[float, int, str, int, int] | None = None
    for choice in choices:
        name = fold_same_length(choice).strip()
        for variant in (name, *SYNONYMS.get(name, ())):
            if len(variant) < 3:
                continue
            alignment = fuzz.partial_ratio_alignment(variant, folded)
            if alignment is None:
                continue
            score = alignment.score if len(variant) <= len(folded) else fuzz.ratio(variant, folded)
            at_word = alignment.dest_start == 0 or not folded[alignment.dest_start - 1].isalnum()
            if score < (CHOICE_MATCH if len(variant) >= 6 else SHORT_CHOICE_MATCH) or not at_word:
                continue
            # Word bounds: "interesse" inside "pas interesse" is the longer choice's.
            candidate = (score, len(variant), choice, alignment.dest_start, alignment.dest_end)
            if best is None or candidate[:2] > best[:2]:
                best = candidate
    if best is None:
        return None
    score, _, choice, start, end = best
    return Found(choice, start, end, round(0.9 * score / 100, 2))


# -- ratings -----------------------------------------------------------------------------

RATING_RE = re.compile(
    rf"(?P<n>\d(?:[.,]5)?|{_WORD})\s*(?:/|sur|out of|on|over)\s*(?:5|cinq|five)\b|(?P<s>\d|{_WORD})\s*(?:etoiles?|stars?)\b"
)
WEAK_QUALITY = re.compile(r"\b(?:bien|good|ok|okay|correct|content|happy)\b")
QUALITY: tuple[tuple[str, int], ...] = (
    (r"tres (?:mecontent|decu|insatisfait)|furieux|catastroph|terrible|awful|very (?:unhappy|disappointed|dissatisfied)|furious", 1),
    (r"pas (?:tres |du tout )?(?:satisfait|content)|mecontent|decu|insatisfait|not (?:very )?(?:happy|satisfied)|unhappy|disappointed|dissatisfied|poor|bad", 2),
    (r"tres (?:satisfait|content)|ravi|enchante|excellent|parfait|very (?:happy|satisfied)|delighted|excellent|perfect|outstanding", 5),
    (r"moyen|mitige|correct|passable|average|so-so|mixed|okay|\bok\b", 3),
    (r"satisfait|content|bien|good|happy|satisfied|pleased", 4),
)


def read_rating(folded: str, *, form: bool) -> Found | None:
    match = RATING_RE.search(folded)
    if match is not None:
        raw = match.group("n") or match.group("s")
        value = _parse_number(raw)
        if value is not None and 0 < value <= 5:
            return Found(max(1, min(5, int(value + 0.5))), match.start(), match.end(), 0.95)
    if form:
        lone = re.fullmatch(r"\W*([1-5])\W*", folded)
        if lone is not None:
            return Found(int(lone.group(1)), lone.start(1), lone.end(1), 0.9)
    for pattern, value in QUALITY:
        quality = re.search(pattern, folded)
        if quality is not None:
            return Found(value, quality.start(), quality.end(), 0.6)
    return None


# -- text --------------------------------------------------------------------------------


def read_text(text: str) -> Found | None:
    stripped = text.strip()
    if not stripped:
        return None
    start = text.find(stripped)
    return Found(stripped, start, start + len(stripped), 0.95)


# -- modes -------------------------------------------------------------------------------


def _read(field: AssistantField, text: str, reference: dt.datetime, *, form: bool, taken: Sequence[tuple[int, int]] = ()) -> Found | None:
    folded = fold_same_length(text)
    if field.type == "NUMBER":
        return read_number(folded, field, taken)
    if field.type == "DATE":
        return read_date(text, reference, taken)
    if field.type == "BOOLEAN":
        return read_boolean(folded, statement=not form)
    if field.type == "CHOICE":
        return read_choice(folded, field.choices)
    if field.type == "RATING":
        return read_rating(folded, form=form)
    return read_text(text)


STOPWORDS = frozenset(
    "de du la le les des d l un une et ou a au aux en pour par sur avec the of a an and or to for on in with by client customer estime estimee "
    "your votre vos est is was".split()
)
LABEL_SYNONYMS: dict[str, tuple[str, ...]] = {
    "satisfaction": ("satisfait", "content", "satisfied", "happy", "pleased", "ravi", "delighted", "mecontent", "unhappy", "decu", "disappointed", "note", "rating", "etoiles", "stars"),
    "commande": ("order", "commander", "ordered", "acheter", "purchase"),
    "montant": ("amount", "euros", "€", "budget", "valeur", "worth", "total"),
    "prochaine": ("next", "suivante", "revoir", "again"),
    "visite": ("visit", "passage", "revoir", "rendez-vous", "rdv", "meeting"),
    "etape": ("step", "suite", "ensuite", "then"),
    "rappel": ("callback", "call back", "rappeler", "recontacter", "ring"),
    "objet": ("subject", "about", "concernant", "sujet", "appel pour", "called about"),
    "issue": ("outcome", "result", "resultat", "conclusion"),
    "resume": ("summary", "bilan", "compte rendu"),
    "next": ("prochaine", "revisit", "again"),
    "order": ("commande", "ordered", "purchase", "buy"),
    "amount": ("montant", "€", "euros", "worth", "budget"),
    "date": ("le", "on"),
}
CLAUSE_RE = re.compile(r"[^.;!?\n]+")


def _keywords(label: str) -> list[str]:
    words = [word for word in re.findall(r"[a-z€]+", fold_same_length(label)) if word not in STOPWORDS and (len(word) >= 4 or word == "€")]
    expanded = list(words)
    for word in words:
        expanded += LABEL_SYNONYMS.get(word, ())
    return list(dict.fromkeys(expanded))


def _clauses(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in CLAUSE_RE.finditer(text):
        # Commas separate clauses too, unless they are decimal commas (3,5).
        start = match.start()
        for comma in re.finditer(r",(?!\d)", match.group()):
            spans.append((start, match.start() + comma.start()))
            start = match.start() + comma.end()
        spans.append((start, match.end()))
    return [(start, end) for start, end in spans if text[start:end].strip()]


def _has_word(word: str, folded: str) -> bool:
    if not word.isalnum():  # a symbol (€) sticks to its number
        return word in folded
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", folded) is not None


def _relevance(keywords: Sequence[str], clause: str) -> float:
    if not keywords:
        return 0.0
    folded = fold_same_length(clause)
    # Short words must be whole words: "buy" is not in "buyer".
    return max(
        fuzz.partial_ratio(keyword, folded) if len(keyword) > 4 else (100.0 if _has_word(keyword, folded) else 0.0)
        for keyword in keywords
    )


# Types read first claim their words, so a rating's "4" is not also an amount.
ORDER = {"RATING": 0, "DATE": 1, "CHOICE": 2, "NUMBER": 3, "BOOLEAN": 4, "TEXT": 5}
SUMMARY_LABEL = re.compile(r"resume|summary|compte rendu|bilan|objet|subject|notes?|commentaire|comment")


def _overlaps(start: int, end: int, taken: Sequence[tuple[int, int]]) -> bool:
    return any(s < end and start < e for s, e in taken)


def _dynamic(request: AssistantRequest, text: str) -> list[ExtractedValue]:
    clauses = _clauses(text)
    taken: list[tuple[int, int]] = []
    found: dict[str, ExtractedValue] = {}
    for field in sorted(request.fields, key=lambda field: (ORDER.get(field.type, 9), request.fields.index(field))):
        keywords = _keywords(field.label)
        relevant = sorted(
            ((score, start, end) for start, end in clauses if (score := _relevance(keywords, text[start:end])) >= RELEVANT),
            key=lambda item: (-item[0], item[1]),
        )
        result: tuple[Found, int] | None = None
        if field.type == "RATING":  # an explicit "4 sur 5" anywhere beats words near the label
            explicit = read_rating(fold_same_length(text), form=False)
            if explicit is not None and explicit.confidence > 0.9 and not _overlaps(explicit.start, explicit.end, taken):
                result = (explicit, 0)
        claims = field.type not in ("TEXT", "BOOLEAN")
        for score, start, end in relevant if result is None else ():
            local = _read(field, text[start:end], request.reference, form=False, taken=[(s - start, e - start) for s, e in taken])
            if local is not None and not (claims and _overlaps(start + local.start, start + local.end, taken)):
                result = (dataclasses.replace(local, confidence=round(local.confidence * 0.95, 2)), start)
                break
        if result is None and field.type in ("RATING", "CHOICE") or (result is None and field.type == "DATE" and sum(f.type == "DATE" for f in request.fields) == 1):
            anywhere = _read(field, text, request.reference, form=False, taken=taken)
            strong = field.type != "RATING" or anywhere is None or anywhere.confidence > 0.9 or not WEAK_QUALITY.fullmatch(fold_same_length(text[anywhere.start : anywhere.end]))
            if anywhere is not None and strong and not _overlaps(anywhere.start, anywhere.end, taken):
                result = (dataclasses.replace(anywhere, confidence=round(anywhere.confidence * 0.8, 2)), 0)
        if result is None and field.type == "TEXT" and SUMMARY_LABEL.search(fold_same_length(field.label)) and clauses:
            first = CLAUSE_RE.search(text)
            assert first is not None
            result = (Found(first.group().strip(), first.start(), first.start() + len(first.group().strip()), 0.5), 0)
        if result is None:
            continue
        local, offset = result
        start, end = offset + local.start, offset + local.end
        if claims:
            taken.append((start, end))
        found[field.key] = ExtractedValue(key=field.key, value=local.value, answer_key=DYNAMIC, start=start, end=end, confidence=local.confidence)
    return [found[field.key] for field in request.fields if field.key in found]


def extract(request: AssistantRequest) -> list[ExtractedValue]:
    """The values the offline assistant reads (fields it cannot fill are left out)."""
    if set(request.answers) == {DYNAMIC}:
        return _dynamic(request, request.answers[DYNAMIC])
    values = []
    for field in request.fields:
        answer = request.answers.get(field.key)
        if answer is None:
            continue
        found = _read(field, answer, request.reference, form=True)
        if found is not None:
            values.append(ExtractedValue(key=field.key, value=found.value, answer_key=field.key, start=found.start, end=found.end, confidence=found.confidence))
    return values
