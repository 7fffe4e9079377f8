"""Police-specific risk checks on a post: each hit gives a reason code, the exact span and why."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

PROFANITY = "profanity"
PHONE_NUMBER = "phone-number"
EMAIL_ADDRESS = "email-address"
VEHICLE_REGISTRATION = "vehicle-registration"
POSTCODE_WITH_HOUSE_NUMBER = "postcode-with-house-number"
FULL_POSTCODE = "full-postcode"
DATE_OF_BIRTH = "date-of-birth"
NAMED_SUSPECT = "named-suspect"
SEXUAL_OFFENCE_VICTIM = "sexual-offence-victim"
LIVE_PROCEEDINGS = "live-proceedings"
SENTENCE_COMMENT = "sentence-comment"
MISSING_ALT_TEXT = "missing-alt-text"

CODES = (
    PROFANITY,
    PHONE_NUMBER,
    EMAIL_ADDRESS,
    VEHICLE_REGISTRATION,
    POSTCODE_WITH_HOUSE_NUMBER,
    FULL_POSTCODE,
    DATE_OF_BIRTH,
    NAMED_SUSPECT,
    SEXUAL_OFFENCE_VICTIM,
    LIVE_PROCEEDINGS,
    SENTENCE_COMMENT,
    MISSING_ALT_TEXT,
)


@dataclass(frozen=True)
class RiskHit:
    """One reason a post needs a comms officer's eye, pointing at the text that caused it."""

    code: str
    start: int
    end: int
    matched: str
    explanation: str
    field: str = "text"


def _wordset(words: str, sep: str | None = None) -> frozenset[str]:
    """A set from a word list kept as one readable string (lists are data, not code)."""
    return frozenset(w.strip() for w in words.split(sep) if w.strip())


def _hit(code: str, text: str, start: int, end: int, explanation: str) -> RiskHit:
    return RiskHit(code, start, end, text[start:end], explanation)


# Patterns below are written so that no quantified group can match the same characters two
# ways: a post is untrusted input, and a backtracking blow-up would stall the moderation queue.
# The (?<!letter)(?=letter) openings make every position but a word's first fail at once.

# ---- profanity ---------------------------------------------------------------------------------

# Word lists are data. Each entry is a stem with its own inflections spelled out, because a
# generic suffix (arse\w*) would flag Arsenal and arsenic. Whole-word matching is what spares
# Scunthorpe, Penistone, Shitterton, Twatt, Bitchfield, Cockermouth and assess.
_SWEARS = (
    r"(?:mother)?f+u+c+k+(?:s|ed|er|ers|in|in['\u2019]|ing|wit|wits|face|head|heads|tard|off)?",
    r"f(?:\*+|#+|@)(?:c?k|\*)?(?:s|ed|er|ers|in|ing)?",
    r"fk(?:in|ing)?",
    r"bull?shit",
    r"shit(?:s|e|es|ty|ted|ting|head|heads|hole|holes|bag|bags|faced|show|shows|storm)?",
    r"sh[*#!1]t(?:e|s|ty|bag|bags|head|heads)?",
    r"cunts?",
    r"c[*#]{2}ts?",
    r"twats?",
    r"wank(?:s|ed|er|ers|ing|stain)?",
    r"bollocks|bollox",
    r"bastards?",
    r"b[*#]+stards?",
    r"bitch(?:es|ing|y)?",
    r"arse(?:hole|holes|holed|d|wipe)?",
    r"(?:ass|dumbass|jackass)holes?|dumbass|jackass",
    r"piss(?:ed|es|ing|head|heads|take|taking)?",
    r"dickheads?",
    r"cocksuckers?",
    r"tossers?",
    r"knobheads?",
    r"bellends?",
    r"bugger(?:ed|s|ing)?",
    r"crap(?:py)?",
    r"bloody\s+hell",
)
_SLURS = (
    r"nigg(?:er|ers|a|as|az)",
    r"pakis?",
    r"chinks?|chinky",
    r"wogs?",
    r"kikes?",
    r"yids?",
    r"gooks?",
    r"spics?",
    r"pikeys?",
    r"gyppos?|gippos?",
    r"faggots?|fags?(?=\s+(?:and|like|who))",
    r"poofs?|poofters?",
    r"trann(?:y|ies)",
    r"retards?|retarded",
    r"spastics?|spazz?|spazzy",
    r"mongs?",
)
_INSULTS = (
    r"scum(?:bags?)?",
    r"scrotes?",
    r"toerags?",
    r"lowlifes?",
    r"nonces?",
    r"slags?",
    r"sluts?",
    r"whores?",
    r"pricks?",
)


def _words(patterns: Iterable[str]) -> str:
    return "|".join(patterns)


_PROFANITY = re.compile(
    rf"(?<![A-Za-z0-9])(?=[A-Za-z])(?:(?P<swear>{_words(_SWEARS)})|(?P<slur>{_words(_SLURS)})"
    rf"|(?P<insult>{_words(_INSULTS)}))(?![A-Za-z0-9*#])",
    re.IGNORECASE,
)
_PROFANITY_WHY = {
    "swear": "'{m}' is a swear word, which has no place on a force account.",
    "slur": "'{m}' is a slur that would cause serious offence and public complaints.",
    "insult": "'{m}' is a derogatory label for people; the force describes conduct, not character.",
}


def check_profanity(text: str) -> list[RiskHit]:
    """Swear words, slurs and derogatory labels, matched as whole words."""
    hits = []
    for m in _PROFANITY.finditer(text):
        why = _PROFANITY_WHY[m.lastgroup or "swear"].format(m=m.group())
        hits.append(_hit(PROFANITY, text, m.start(), m.end(), why))
    return hits


# ---- phone numbers -----------------------------------------------------------------------------

# A run of digit groups joined by short separators; each run is then cut into numbers by
# counting digits, which copes with spacing styles no single pattern would list.
_DIGIT_RUN = re.compile(r"(?<![\w+])[+(]?\d+(?:[ \-.()]{1,3}\d+)*")
_DIGITS = re.compile(r"\d+")
# Officers legitimately quote these: the national free, anonymous line is Crimestoppers.
_ALLOWED_NUMBERS = frozenset({"0800555111"})
_MAX_GROUPS = 7


def _uk_national(digits: str, international: bool) -> str | None:
    """The number in national form (0...) if the digits make a UK phone number, else None."""
    if international:
        if not digits.startswith("44"):
            return None
        national = "0" + digits[2:].removeprefix("0")  # the "(0)" of "+44 (0)20 ..."
    elif digits.startswith("0044"):
        national = "0" + digits[4:].removeprefix("0")
    elif digits.startswith("0"):
        national = digits
    else:
        return None
    if len(national) == 11 and national[1] in "1235789":
        return national
    # Ten digits: some rural area codes (016977 xxxx) and freephone 0800 xxx xxx.
    if len(national) == 10 and national.startswith(("01", "0800", "0808", "0500")):
        return national
    return None


def check_phone_numbers(text: str) -> list[RiskHit]:
    """UK phone numbers in any common spacing; 101, 999, 111 and Crimestoppers are fine."""
    hits = []
    for run in _DIGIT_RUN.finditer(text):
        groups = [
            (g.start() + run.start(), g.end() + run.start()) for g in _DIGITS.finditer(run[0])
        ]
        i = 0
        while i < len(groups):
            start, first_end = groups[i]
            first = text[start:first_end]
            international = start > 0 and text[start - 1] == "+"
            if international:
                ok_start = first.startswith("44")
            else:
                ok_start = len(first) >= 2 and first.startswith("0")
            best: tuple[int, str] | None = None
            if ok_start:
                digits = ""
                longest_group = 0
                for j in range(i, min(i + _MAX_GROUPS, len(groups))):
                    group = text[groups[j][0] : groups[j][1]]
                    # Only the trunk zero in "+44 (0)20" may stand alone as a one-digit group.
                    if j > i and len(group) < 2 and not (international and j == i + 1):
                        break
                    digits += group
                    longest_group = max(longest_group, len(group))
                    if len(digits) > 15:  # 0044 (0) and ten digits
                        break
                    national = _uk_national(digits, international)
                    # Every real layout has a group of three or more; "01 02 03 04 05" has not.
                    if national is not None and longest_group >= 3:
                        best = (j, national)
            if best is None:
                i += 1
                continue
            j, national = best
            if national not in _ALLOWED_NUMBERS:
                lo = start - 1 if start > 0 and text[start - 1] in "+(" else start
                hits.append(
                    _hit(
                        PHONE_NUMBER,
                        text,
                        lo,
                        groups[j][1],
                        f"'{text[lo : groups[j][1]]}' looks like a UK phone number; only 101, "
                        "999, 111 and Crimestoppers (0800 555 111) should be published.",
                    )
                )
            i = j + 1
    return hits


# ---- e-mail addresses --------------------------------------------------------------------------

# The lookbehind makes each candidate start at the beginning of its run of address characters,
# so a long run with no "@" is scanned once rather than once per character.
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@(?P<domain>[A-Za-z0-9][A-Za-z0-9\-]*"
    r"(?:\.[A-Za-z0-9\-]+)+)"
)
_FORCE_DOMAIN_SUFFIX = ".police.uk"  # also covers the older *.pnn.police.uk addresses


def check_email_addresses(text: str) -> list[RiskHit]:
    """E-mail addresses other than the force's own (*.police.uk)."""
    hits = []
    for m in _EMAIL.finditer(text):
        domain = m["domain"].lower()
        tld = domain.rsplit(".", 1)[-1]
        if not (tld.isalpha() and len(tld) >= 2) or domain.endswith(_FORCE_DOMAIN_SUFFIX):
            continue
        hits.append(
            _hit(
                EMAIL_ADDRESS,
                text,
                m.start(),
                m.end(),
                f"'{m.group()}' is an e-mail address outside police.uk, which may belong to a "
                "member of the public.",
            )
        )
    return hits


# ---- vehicle registration marks ----------------------------------------------------------------

# Current (2001-) format AB12 CDE; prefix (1983-2001) A123 BCD; suffix (1963-83) ABC 123D.
# DVLA never issues I or Q in these letter positions, which keeps many words out; capital
# letters are required because officers write marks in capitals and prose rarely is.
_VRM = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    r"[A-HJ-PR-Y]{2}(?P<age>\d{2}) ?[A-HJ-PR-Z]{3}"
    r"|[A-HJ-NPR-TV-Y][1-9]\d{0,2} ?(?P<prefix_letters>[A-HJ-PR-Y]{3})"
    r"|(?P<suffix_letters>[A-HJ-PR-Y]{3}) ?[1-9]\d{0,2}[A-HJ-NPR-TV-Y]"
    r")(?![A-Za-z0-9])"
)
# Acronyms that follow road numbers ("the A40 ASB patrol") or precede short codes in posts.
_NOT_VRM_LETTERS = _wordset(
    "ASB SNT CID MET NHS TFL BTP RTC DLR BBC ITV CPS MPS GBH ABH CCT PCS RUI NPT DVL "
    "AND THE FOR YOU ARE WAS NOT BUT HAS HAD OUR NEW NOW OFF OUT ALL"
)


def _valid_age_identifier(age: str) -> bool:
    n = int(age)
    return 2 <= n <= 30 or 51 <= n <= 80


def check_vehicle_registrations(text: str) -> list[RiskHit]:
    """UK vehicle registration marks in current, prefix and suffix formats."""
    hits = []
    for m in _VRM.finditer(text):
        if m["age"] is not None and not _valid_age_identifier(m["age"]):
            continue
        letters = m["prefix_letters"] or m["suffix_letters"]
        if letters is not None and letters in _NOT_VRM_LETTERS:
            continue
        hits.append(
            _hit(
                VEHICLE_REGISTRATION,
                text,
                m.start(),
                m.end(),
                f"'{m.group()}' looks like a vehicle registration mark, which leads straight to "
                "the registered keeper.",
            )
        )
    return hits


# ---- postcodes and house numbers ---------------------------------------------------------------

_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2}(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_STREET_SUFFIXES = (
    "Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Close|Drive|Dr|Way|Crescent|Court|Ct|Gardens|Gdns|"
    "Place|Pl|Terrace|Grove|Hill|Row|Walk|Square|Sq|Mews|Yard|Wharf|Parade|View|Rise|Green|"
    "Vale|Wall|Alley|Passage|Circus|Broadway|Buildings|Estate|House|Park|Gate|Bridge|Market|"
    "Heol|Stryd|Ffordd|Lôn"
)
_HOUSE_NUMBER = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    r"(?:No\.?|Number|Flat|Apartment|Apt\.?|Unit|House|Rhif|Fflat)\s*\d{1,4}[A-Za-z]?"
    rf"|\d{{1,4}}[A-Za-z]?,?\s+(?:[A-Z][\w'\u2019\-]*\s+){{0,3}}(?:{_STREET_SUFFIXES})\b"
    r"|\d{1,4}[A-Za-z]?\s+(?:[A-Z][\w'\u2019\-]*,?\s+){1,3}$"
    r")"
)
_HOUSE_NUMBER_AFTER = re.compile(
    r",?\s{0,2}(?:No\.?|Number|number|Flat|flat|Rhif|rhif)\s*\d{1,4}[A-Za-z]?(?![A-Za-z0-9])"
)
_SENTENCE_BREAK = re.compile(r"[.!?]\s+(?=[A-Z])|\n")
_ADDRESS_WINDOW = 80


def check_postcodes(text: str) -> list[RiskHit]:
    """Full postcodes; with a house number before them they identify one household."""
    hits = []
    previous_end = 0
    for m in _POSTCODE.finditer(text):
        postcode = m.group()
        if not (postcode.isupper() or postcode.islower()):
            continue
        lo = max(previous_end, m.start() - _ADDRESS_WINDOW)
        # The house number has to be in the same sentence as the postcode.
        for brk in _SENTENCE_BREAK.finditer(text, lo, m.start()):
            lo = brk.end()
        window = text[lo : m.start()]
        house = _HOUSE_NUMBER.search(window)
        after = _HOUSE_NUMBER_AFTER.match(text, m.end())
        if house is not None or after is not None:
            start = lo + house.start() if house is not None else m.start()
            end = after.end() if house is None and after is not None else m.end()
            hits.append(
                _hit(
                    POSTCODE_WITH_HOUSE_NUMBER,
                    text,
                    start,
                    end,
                    f"'{text[start:end]}' gives a house number with a full postcode, "
                    "which identifies a single household.",
                )
            )
        else:
            hits.append(
                _hit(
                    FULL_POSTCODE,
                    text,
                    m.start(),
                    m.end(),
                    f"'{postcode}' is a full unit postcode, which narrows a location to a "
                    "handful of addresses; the district or street name is usually enough.",
                )
            )
        previous_end = m.end()
    return hits


# ---- dates of birth ----------------------------------------------------------------------------

_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?|"
    r"Ionawr|Chwefror|Mawrth|Ebrill|Mai|Mehefin|Gorffennaf|Awst|Medi|Hydref|Tachwedd|Rhagfyr)"
)
_DATE = (
    r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})(?!\d)"
    rf"|\d{{1,2}}(?:st|nd|rd|th|af|ed|fed)?(?:\s+of)?\s+{_MONTHS}\.?,?\s+(?:\d{{4}}|\d{{2}})(?!\d)"
    rf"|{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|{_MONTHS}\.?\s+\d{{4}})"
)
_DOB = re.compile(
    r"(?<![A-Za-z])(?=[A-Za-z])(?:"
    r"(?:DOB|D\.O\.B\.?|date\s+of\s+birth|born|birthday|dyddiad\s+geni|ganwyd|ganed)"
    r"(?![A-Za-z])[\s:,\-\u2013]*(?:(?:is|was|on|in|of|the|given\s+as|ar|yn)[\s:,\-\u2013]+){0,2}"
    rf"{_DATE}"
    r"|(?:born|ganwyd|ganed)\s+(?:in\s+|yn\s+)?(?:19|20)\d{2}(?!\d)"
    r")",
    re.IGNORECASE,
)
# The press-release habit "John Smith (12/03/1985)": a date in brackets straight after a name.
_BRACKETED_DOB = re.compile(
    r"(?<![A-Za-z])[A-Z][a-z'\u2019\-]+ ?\((?P<date>\d{1,2}[/.\-]\d{1,2}[/.\-](?:19|20)\d{2})\)"
)


def check_dates_of_birth(text: str) -> list[RiskHit]:
    """Dates given as someone's date of birth; ages ("aged 34") are fine."""
    spans = [m.span() for m in _DOB.finditer(text)]
    spans += [m.span("date") for m in _BRACKETED_DOB.finditer(text)]
    return [
        _hit(
            DATE_OF_BIRTH,
            text,
            start,
            end,
            f"'{text[start:end]}' gives a date of birth, personal data that helps identify "
            "someone and is never needed in a public update.",
        )
        for start, end in sorted(spans)
    ]


# ---- named suspects ----------------------------------------------------------------------------

_TOKEN = re.compile(r"\w+(?:['\u2019\-]\w+)*")
_WINDOW_WORDS = 8
_HAS_DIGIT = re.compile(r"[\d_]")
_TRIGGERS = _wordset(
    "arrested arrest arrests charged suspect suspects suspected named detained wanted custody "
    "defendant defendants "
    "arestio arestiwyd harestio cyhuddo gyhuddo chyhuddo cyhuddwyd dalfa ddalfa"
)
_TITLES = _wordset("Mr Mrs Ms Miss Mx Dr Sir Dame Lady Lord")
# Officers may be named; their rank is what tells us the name is one of ours.
_RANKS = _wordset(
    "PC PCs PCSO PCSOs DC DS DI DCI DSI DSU Det Detective Sgt Sergeant PS Insp Inspector Ch "
    "Chief Supt Superintendent Constable Special Specials SC Commander Cmdr Commissioner ACC "
    "DCC CC Acting Temporary Officer Officers Volunteer SCCH Cwnstabl Rhingyll Arolygydd "
    "Ditectif Prif Uwch"
)
# Capitalised words that make a two-word capitalised phrase a place, a body or an event.
_PLACE_WORDS = _wordset(
    "Street St Road Rd Lane Bridge Square Station Gate Park Avenue Ave Close Court Crescent "
    "Drive Gardens Grove Hill Place Row Terrace Walk Way Wharf Yard Market Circus Wall Green "
    "Common Estate Centre Center Hall House Tower Towers Church Cathedral Abbey Museum "
    "Library Hospital School Academy College University Police Magistrates Crown Council "
    "City Town Village Borough Ward Corner Cross End Heath Fields Field Quay Dock Docks "
    "Embankment Mews Parade Passage Alley Arcade Broadway High Upper Lower North South East "
    "West Central Great Little Old New Royal London Underground Overground Line Airport "
    "Watch Neighbourhood Neighbourhoods Safer Team Teams Crimestoppers Stoppers Crime Service "
    "Services Trust Society Bank England Wales Britain British Transport Metropolitan Met "
    "Force Unit Squad Operation Op Pub Bar Club Hotel Shop Store Stores Bailey Barbican "
    "Leadenhall Smithfield Guildhall Cheapside Cornhill Poultry Houndsditch Minories "
    "Spitalfields Shoreditch Whitechapel Southwark Westminster Holborn Islington Hackney "
    "Camden Lambeth Wharf Canary Exchange Mansion Temple Chancery Fleet Ludgate Blackfriars "
    "Heddlu Cymru Gogledd De Dyfed Powys Gwent Caerdydd Abertawe Heol Ffordd Parc Gorsaf "
    "Llys Ynadon Goron Cyngor Tîm Swyddog Stryd Act Acts Bill Law Scheme Support Programme "
    "Project Association Foundation Partnership Group Board Panel Forum Network Campaign "
    "Initiative Week Awards Award Festival Marathon Fair Show Cup League Limited Ltd Plc "
    "Company Corporation Authority Agency Office Department Ministry Commission Tribunal "
    "Mayor Health Mental Family Theatre Gallery Lodge Arms Inn"
)
_PLACE_ENDINGS = ("gate", "street", "bridge", "fields", "side", "wich", "minster")
# Words that start sentences or name things in posts, so capitalised but not names.
_COMMON = _wordset(
    "The A An This That These Those Today Tonight Yesterday Tomorrow Last Next On In At "
    "After Before During Following Earlier Later Overnight We Our Us You Your He She They "
    "It His Her Their Its If When While Where Why What Who How Please Thanks Thank Well "
    "Great Good Big Huge One Two Three Four Five Six Seven Eight Nine Ten Both All Some "
    "Several Many Most Anyone Anybody Everyone Nobody Any No Yes Also And But Or So Then "
    "Just Still As With Without For From To Of By Man Men Woman Women Male Female Youth "
    "Youths Boy Boys Girl Girls Teenager Teenagers Suspect Suspects Arrested Arrest Arrests "
    "Charged Named Wanted Detained Custody Residents Resident Local Locals Community Public "
    "Victim Victims Witness Witnesses Driver Drivers Cyclist Cyclists Rider Riders Monday "
    "Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May "
    "June July August September October November December Christmas Easter Halloween "
    "Bonfire Night Morning Afternoon Evening Weekend Update Appeal Reminder Alert Warning "
    "News Follow Keep Make Lock Check Call Report Contact Do Don't Remember Never Always Note "
    "Pictured Photo Here There Drugs Cannabis Knife Knives Bike Bikes Car Cars Van Vehicle "
    "Stolen Theft Burglary Robbery Shoplifting Patrol Patrols Surgery Surgeries Beat Marking "
    "Event Meeting Cafe Coffee Cop Cops Safety Awareness Week Day Month Year Action Op "
    "Dispersal Order Orders Notice Sorry Welcome Hello Hi Huge Massive Another Other "
    "Anti-social Antisocial Behaviour Scam Scams Fraud Advice Tip Tips Top Free Open Closed "
    "Road Closure Closures Roads Diversion Traffic Speed Speeding Enforcement Checks "
    "Officers Officer Police Heddlu Heddiw Ddoe Diolch Roedd Mae Bydd Cafodd Dyn Menyw "
    "Sergeant Constable Inspector PC PCSO"
)
# Upper-case words that look like an upper-cased surname ("John SMITH") but are not.
_ACRONYMS = _wordset(
    "ASB SNT PCSO PCSOS CCTV BTP CID NHS TFL DLR RTC CPS MPS ANPR GBH ABH RUI SCCH UK GB EU "
    "CITY LONDON POLICE URGENT UPDATE APPEAL WANTED ARRESTED CHARGED NEWS"
)


def _is_name_word(word: str) -> bool:
    word = word.removesuffix("'s").removesuffix("\u2019s")
    if not word or word in _COMMON or word in _PLACE_WORDS or word in _RANKS or word in _TITLES:
        return False
    if word.lower().endswith(_PLACE_ENDINGS):
        return False
    return word[0].isupper() and any(c.islower() for c in word[1:])


def _is_upper_surname(word: str) -> bool:
    return len(word) >= 3 and word.isupper() and word not in _ACRONYMS


def _names(text: str, tokens: list[re.Match[str]]) -> list[tuple[int, int]]:
    """Token index ranges [first, last] that look like a person's name."""
    names = []
    i = 0
    while i < len(tokens):
        titled = tokens[i].group() in _TITLES
        if not (titled or _is_name_word(tokens[i].group())):
            i += 1
            continue
        j = i
        while j + 1 < len(tokens) and j - i < 3:
            gap = text[tokens[j].end() : tokens[j + 1].start()]
            if gap != " " and not (titled and j == i and gap == ". "):
                break
            following = tokens[j + 1].group()
            if _is_name_word(following):
                j += 1
            elif _is_upper_surname(following):  # press-release style "John SMITH"
                j += 1
                break
            else:
                break
        rank_gap = text[tokens[i - 1].end() : tokens[i].start()] if i > 0 else ""
        after_rank = (
            i > 0 and tokens[i - 1].group() in _RANKS and not rank_gap.strip(" .0123456789")
        )
        before_place = (
            j + 1 < len(tokens)
            and text[tokens[j].end() : tokens[j + 1].start()] == " "
            and tokens[j + 1].group() in _PLACE_WORDS
        )
        if j > i and not after_rank and not before_place:
            names.append((i, j))
        i = j + 1
    return names


def check_named_suspects(text: str) -> list[RiskHit]:
    """A person's name within a few words of an arrest, charge or suspicion."""
    # Words only: ages, house numbers and postcodes would otherwise push a name out of range.
    tokens = [t for t in _TOKEN.finditer(text) if not _HAS_DIGIT.search(t.group())]
    triggers = [
        k
        for k, t in enumerate(tokens)
        if t.group().lower() in _TRIGGERS
        and not (
            t.group().lower() == "named"
            and k + 1 < len(tokens)
            and tokens[k + 1].group().lower() == "after"
        )
    ]
    if not triggers:
        return []
    hits = []
    for first, last in _names(text, tokens):
        near = [k for k in triggers if k - last <= _WINDOW_WORDS and first - k <= _WINDOW_WORDS]
        if not near:
            continue
        trigger = tokens[near[0]].group()
        start, end = tokens[first].start(), tokens[last].end()
        hits.append(
            _hit(
                NAMED_SUSPECT,
                text,
                start,
                end,
                f"'{text[start:end]}' looks like a person's name near '{trigger}'; suspects are "
                "not named before charge, and naming after charge is for the press office.",
            )
        )
    return hits


# ---- victims of sexual offences ----------------------------------------------------------------

_SEXUAL_OFFENCE = re.compile(
    r"(?<![A-Za-z])(?=[A-Za-z])(?:rap(?:e|ed|es|ist|ists)|"
    r"sexual(?:ly)?\s+(?:assault\w*|abuse\w*|offen\w*|touching|activity|exploitation|"
    r"harassment|motivated|violence)|indecen(?:t|tly|cy)|"
    r"upskirt\w*|voyeur\w*|molest\w*|groomed|(?:child|online)\s+grooming|grooming\s+offen\w*|"
    r"exposed\s+(?:him|her|them)sel(?:f|ves)|flash(?:er|ed\s+at)|trais\s+rhywiol|"
    r"touch(?:ed|ing)\s+(?:(?:her|him|them|a\s+\w+)\s+)?inappropriately|"
    r"inappropriately\s+touch(?:ed|ing)|sexual(?:ly)?\s+(?:comments?|remarks?|explicit|touched)|"
    r"ymosodiad\s+rhywiol|h?ymosod\s+yn\s+rhywiol|th?reisio|anweddus)(?![A-Za-z])",
    re.IGNORECASE,
)
_RELATIVES = (
    r"(?:step-?)?(?:daughter|son|child|children|kid|niece|nephew|granddaughter|grandson|"
    r"grandchild|sister|brother|mother|father|mum|dad|wife|husband|partner|girlfriend|"
    r"boyfriend|ex|cousin|aunt|uncle|neighbour|lodger|flatmate|carer|patient|client|friend)s?"
)
_IDENTIFYING = re.compile(
    r"(?<![A-Za-z0-9])(?=[A-Za-z0-9])(?:"
    r"\d{1,2}[\s\-]?(?:year|yr)s?[\s\-]?old|aged\s+\d{1,2}|\d{1,2}\s+(?:mlwydd\s+)?oed"
    r"|teenage(?:d|r|rs)?|teens?|schoolgirl|schoolboy|under-?age|minor"
    r"|in\s+(?:her|his|their)\s+(?:teens|twenties|thirties|forties|fifties|sixties|seventies)"
    r"|(?:school|academy|college|university|uni|nursery|pupil|student|classmate|teacher|"
    r"workplace|colleague|co-worker|employer|employee|ysgol)s?|sixth[\s\-]form"
    r"|(?:her|his|their)\s+way\s+(?:home\s+)?(?:to|from)\s+(?:work|school|college)"
    r"|works?\s+(?:at|for|in)|worked\s+(?:at|for)|employed\s+(?:at|by)|lives?\s+(?:on|in|at)"
    rf"|(?:his|her|their|my)\s+(?:own\s+)?{_RELATIVES}"
    r"|the\s+(?:young\s+)?(?:girl|boy|woman|man|lady|teenager|student|child)\s+"
    r"(?:who|from|at|living|that)"
    r")(?![A-Za-z])",
    re.IGNORECASE,
)
_ROLE_AT_PLACE = re.compile(r"(?<![A-Za-z])an? [a-z]+ (?:at|for) (?:the )?[A-Z][\w'\u2019\-]*")
_NAMED_PLACE = re.compile(
    r"(?<![A-Za-z])[A-Z][\w'\u2019\-]*(?: [A-Z][\w'\u2019\-]*){0,3} "
    rf"(?:{_STREET_SUFFIXES}|Station|Pub|Inn|Arms|Bar|Club|Hotel|Gym|Centre|Church|Hospital|"
    r"Library|Cinema|Shopping Centre)(?![A-Za-z])"
)


def check_sexual_offence_victims(text: str) -> list[RiskHit]:
    """Identifying detail (age, school, street, relationship) in a post about a sexual offence."""
    offence = _SEXUAL_OFFENCE.search(text)
    if offence is None:
        return []
    details = list(_IDENTIFYING.finditer(text))
    details += [m for m in _NAMED_PLACE.finditer(text) if "Police" not in m.group()]
    details += _ROLE_AT_PLACE.finditer(text)
    hits: list[RiskHit] = []
    for m in sorted(details, key=lambda d: d.start()):
        if hits and m.start() < hits[-1].end:
            continue
        hits.append(
            _hit(
                SEXUAL_OFFENCE_VICTIM,
                text,
                m.start(),
                m.end(),
                f"'{m.group()}' could identify the victim in a post about a sexual offence "
                f"('{offence.group()}'); victims have lifetime anonymity under the Sexual "
                "Offences (Amendment) Act 1992.",
            )
        )
    return hits


# ---- live proceedings --------------------------------------------------------------------------

_COURT = (
    r"(?:(?:magistrates|crown|youth|county)['\u2019]?\s+court|court|old\s+bailey|magistrates|"
    r"llys\s+(?:y\s+goron|ynadon))"
)
_LIVE_PROCEEDINGS = re.compile(
    r"(?<![A-Za-z])(?=[A-Za-z])(?:"
    r"charged\s+(?:with|in\s+connection|over|after|following|for)"
    r"|(?:been|was|were|has|have|had)\s+charged"  # not "is charged": phones and e-bikes are
    r"|charged\s+(?:a|an|the|two|three|four|five|six|seven|eight|nine|ten|\d+)\s"
    r"|(?:face|faces|facing|faced)\s+(?:\w+\s+){0,2}?charges?"
    r"|remand(?:ed)?"
    r"|bail(?:ed|s)?(?!\s+out)"
    r"|(?:stand|stands|stood|standing|face|faces|facing|await|awaits|awaiting|go\s+on|goes\s+on|"
    r"went\s+on|his|her|their)\s+(?:re)?trial"
    r"|on\s+trial\s+(?:for|at|accused|over)"  # a bare "on trial" is usually a pilot scheme
    r"|(?:re)?trial\s+(?:date|at|in\s+(?:the\s+)?(?:crown|magistrates|youth)|begins|began|"
    r"starts|started|continues|judge|jury|is\s+due|will)"
    r"|retrial"
    r"|court\s+dates?|dates?\s+in\s+court"
    rf"|(?:appear|appears|appeared|appearing|due)\s+(?:to\s+appear\s+)?(?:at|before|in)\s+"
    rf"(?:[\w'\u2019]+\s+){{0,5}}?{_COURT}"
    r"|(?:plead(?:s|ed|ing)?|pled)\s+(?:not\s+)?guilty|pleas?\s+(?:of\s+)?(?:not\s+)?guilty"
    r"|jury|jurors?|summonsed|postal\s+requisition"
    r"|(?:will\s+be|to\s+be|due\s+to\s+be|awaiting|await|awaits)\s+sentenc(?:ed|ing)"
    r"|mechn[iï]aeth|cyhuddwyd|(?:c|g|ch)yhuddo|achos\s+llys|ymddangos\s+(?:yn|gerbron)"
    r")(?![A-Za-z])",
    re.IGNORECASE,
)


def check_live_proceedings(text: str) -> list[RiskHit]:
    """Charges, remand, bail, trials and court appearances, where comment risks contempt."""
    return [
        _hit(
            LIVE_PROCEEDINGS,
            text,
            m.start(),
            m.end(),
            f"'{m.group()}' refers to criminal proceedings that may be active; anything beyond "
            "the bare facts risks contempt of court (Contempt of Court Act 1981).",
        )
        for m in _LIVE_PROCEEDINGS.finditer(text)
    ]


# ---- comment on sentences ----------------------------------------------------------------------

_SENTENCE_UNITS = (
    r"(?:life|longer|more|years?|months?|weeks?|days?|jail|prison|custody|time|suspended|"
    r"community|fine|caution|sentence|order|hours?|a\s+(?:longer|proper|real|tougher|harsher))"
)
_SENTENCE_COMMENT = re.compile(
    r"(?<![A-Za-z])(?=[A-Za-z#])(?:"
    r"only\s+(?:got|gets|get|received|receives|been\s+given|given|handed|jailed\s+for)\s+"
    rf"(?:an?\s+)?(?:[\w\-]+\s+){{0,3}}?{_SENTENCE_UNITS}"
    r"|should(?:\s+have|['\u2019]ve|\s+of)\s+(?:got|been\s+given|received|had|been\s+handed)\s+"
    rf"(?:[\w\-]+\s+){{0,2}}?{_SENTENCE_UNITS}"
    r"|should(?:\s+have|['\u2019]ve|\s+of)\s+been\s+(?:jailed|locked\s+up|sent\s+down|put\s+away)"
    r"|soft\s+sentences?|sentences?\s+(?:was|is|were|are)\s+(?:far\s+|way\s+|much\s+)?"
    r"(?:too\s+)?(?:soft|short|lenient|light|a\s+joke|pathetic|laughable|an\s+insult)"
    r"|lenien(?:t|cy)|too\s+(?:soft|lenient|easy)\s+on"
    r"|(?:got|get|gets|getting|received)\s+what\s+(?:he|she|they|you)(?:['\u2019](?:s|ve))?\s+"
    r"(?:deserved?|deserves|had\s+coming)"
    r"|(?:he|she|they|him|her|them)\s+(?:deserved?|deserves)\s+(?:every|it|all|worse|more|"
    r"longer|to\s+rot|a\s+(?:longer|harsher|tougher|stiffer|bigger))"
    r"|justice\s+(?:has\s+been\s+|was\s+|is\s+|finally\s+)?served|#justiceserved"
    r"|slap\s+on\s+the\s+wrist"
    r"|locked\s+up\s+for|banged\s+up|throw\s+away\s+the\s+key|good\s+riddance"
    r"|rot\s+in\s+(?:jail|prison|a\s+cell|hell)"
    r"|(?:behind\s+bars|in\s+prison|in\s+jail)\s+where\s+(?:he|she|they)\s+belongs?"
    r")(?![A-Za-z])",
    re.IGNORECASE,
)


def check_sentence_comments(text: str) -> list[RiskHit]:
    """Opinion on a court's sentence, which can undermine the court and any appeal."""
    return [
        _hit(
            SENTENCE_COMMENT,
            text,
            m.start(),
            m.end(),
            f"'{m.group()}' comments on a sentence; state the court's outcome without opinion, "
            "as comment can undermine the court and any appeal.",
        )
        for m in _SENTENCE_COMMENT.finditer(text)
    ]


# ---- alt text ----------------------------------------------------------------------------------

_FILENAME = re.compile(r"\S+\.(?:jpe?g|png|gif|heic|heif|webp|bmp|tiff?)", re.IGNORECASE)
_CAMERA_NAME = re.compile(
    r"(?:IMG|DSC|DSCN|DCIM|PXL|VID|MVIMG|WA|Screenshot|Screen\s+Shot)[\s_\-]*\d[\w\-.: ]*", re.I
)
_PLACEHOLDER_ALT = _wordset(
    "image|img|photo|photograph|picture|pic|screenshot|untitled|alt|alt text|text|graphic|"
    "attachment|upload|file|na|n a|none|tbc|todo|description|caption|test|x|image of|photo of|"
    "picture of|no alt|no alt text|alt text here|insert alt text|add alt text|llun|delwedd",
    "|",
)
_ALT_WORDS = re.compile(r"[^\W\d_]+")
_ARTICLES = frozenset({"a", "an", "the", "my", "our"})


def _alt_problem(alt: str | None) -> str | None:
    if alt is None or not alt.strip():
        return "has no alt text"
    stripped = alt.strip()
    if _FILENAME.fullmatch(stripped) or _CAMERA_NAME.fullmatch(stripped):
        return f"has a file name ('{stripped}') as its alt text"
    words = " ".join(w for w in _ALT_WORDS.findall(stripped.lower()) if w not in _ARTICLES)
    if not words or words in _PLACEHOLDER_ALT:
        return f"has placeholder alt text ('{stripped}')"
    return None


def check_alt_text(photos_alt: Sequence[str | None]) -> list[RiskHit]:
    """Photos whose alt text is missing, blank or a placeholder such as a file name."""
    hits = []
    for index, alt in enumerate(photos_alt):
        problem = _alt_problem(alt)
        if problem is None:
            continue
        value = alt or ""
        hits.append(
            RiskHit(
                MISSING_ALT_TEXT,
                0,
                len(value),
                value,
                f"Photo {index + 1} {problem}, so blind and partially sighted residents "
                "cannot tell what it shows.",
                field=f"photos[{index}].alt",
            )
        )
    return hits


# ---- the whole post ----------------------------------------------------------------------------

TEXT_CHECKS: tuple[Callable[[str], list[RiskHit]], ...] = (
    check_profanity,
    check_phone_numbers,
    check_email_addresses,
    check_vehicle_registrations,
    check_postcodes,
    check_dates_of_birth,
    check_named_suspects,
    check_sexual_offence_victims,
    check_live_proceedings,
    check_sentence_comments,
)


def check_text(text: str, field: str = "text") -> list[RiskHit]:
    """Every text check on one piece of text, with hits labelled as coming from `field`."""
    hits = [hit for check in TEXT_CHECKS for hit in check(text)]
    hits.sort(key=lambda h: (h.start, h.end, h.code))
    if field == "text":
        return hits
    return [dataclasses.replace(hit, field=field) for hit in hits]


def check_post(
    text: str, *, text_cy: str | None = None, photos_alt: Sequence[str | None] = ()
) -> list[RiskHit]:
    """Every risk check on a post: English text, Welsh text and photos; [] when it is clean."""
    hits = check_text(text)
    if text_cy:
        hits += check_text(text_cy, "text_cy")
    for index, alt in enumerate(photos_alt):
        # Alt text is published with the photo, so it gets the same checks as the post.
        if alt:
            hits += check_text(alt, f"photos[{index}].alt")
    hits += check_alt_text(photos_alt)
    return hits
