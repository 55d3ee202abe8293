"""Which billing codes a session earns, from what was charted (REFERENCE.md 8.1).

Pure module: no Django import. The codes, their meanings and sources, and the numbers the
rules use live in ``data/codes.yaml``.

- **Esketamine visit:** G2082 when the dose *delivered* (the devices actually given, never
  the planned dose) is at most 56 mg, G2083 above. 56 mg is G2082; 56.1 mg is G2083.
- **IV infusion:** 96365 for the first hour, plus one 96366 for each further hour the
  infusion ran *more than* 30 minutes into. With ``t`` the infusion minutes, the k-th add-on
  is reported when ``t > 60 + 60 (k - 1) + 30``, so the number of add-ons is
  ``ceil((t - 90) / 60)`` for ``t > 90`` and 0 otherwise:
  89 and 90 min give 96365 alone (90 is exactly 30 min past the hour, not more), 91 gives
  one 96366, 150 still one (exactly 30 past the second hour), 151 two.
  The minutes are the time the pump ran (pauses do not count), from the administration
  record.
- **IM injection:** 96372.
- **Drug line:** J3490 (1 unit, NDC and mg on the claim) for racemic ketamine; S0013 with
  units = mg for esketamine the clinic buys and bills; none when a pharmacy bills the drug.
- **E/M and psychotherapy:** the clinician chooses the level; :func:`propose_em` and
  :func:`propose_psychotherapy` propose a code from the minutes when they are known and
  reach a code's minimum, and otherwise say that the clinician must choose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"
ROUTES = ("esketamine", "iv", "im")
SUPPLY_BUY_AND_BILL = "buy_and_bill"
SUPPLY_PHARMACY = "pharmacy"
SUPPLIES = (SUPPLY_BUY_AND_BILL, SUPPLY_PHARMACY)


class CodingError(ValueError):
    """Input the coding rules cannot code; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Code:
    """A billing code as the code set defines it, with where that definition comes from."""

    code: str
    system: str
    meaning: str
    source: str
    tag: str


@dataclass(frozen=True)
class CodeBook:
    """The codes and the numbers of the rules, as loaded from ``data/codes.yaml``."""

    codes: Mapping[str, Code]
    places_of_service: Mapping[str, Code]
    rules: Mapping[str, Any]
    max_delivered_dose_mg: Decimal
    max_infusion_minutes: Decimal
    version: int

    def __getitem__(self, code: str) -> Code:
        return self.codes[code]

    def rule(self, name: str) -> Mapping[str, Any]:
        return self.rules[name]

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> CodeBook:
        codes = {
            str(code): Code(str(code), d["system"], d["meaning"], d["source"], str(d["tag"]))
            for code, d in data["codes"].items()
        }
        places = {
            str(code): Code(str(code), "POS", d["meaning"], d["source"], str(d["tag"]))
            for code, d in data["places_of_service"].items()
        }
        bounds = data["input_bounds"]
        book = cls(
            codes=codes,
            places_of_service=places,
            rules=data["rules"],
            max_delivered_dose_mg=Decimal(str(bounds["max_delivered_dose_mg"])),
            max_infusion_minutes=Decimal(str(bounds["max_infusion_minutes"])),
            version=int(data["version"]),
        )
        book.check()
        return book

    def check(self) -> None:
        """Every code a rule names is defined, so a typo in the file fails at load."""
        r = self.rules
        named = [
            r["esketamine_visit"]["up_to_code"],
            r["esketamine_visit"]["above_code"],
            r["iv_infusion"]["initial_code"],
            r["iv_infusion"]["add_on_code"],
            r["im_injection"]["code"],
            r["drug"]["ketamine_code"],
            r["drug"]["esketamine_buy_and_bill_code"],
            *r["evaluation_and_management"]["new_patient_minimum_minutes"],
            *r["evaluation_and_management"]["established_minimum_minutes"],
            *r["psychotherapy"]["minimum_minutes"],
        ]
        missing = [str(code) for code in named if str(code) not in self.codes]
        if missing:
            raise ValueError(f"codes.yaml rules name undefined codes: {', '.join(missing)}")


def load_code_book(path: Path = DATA_DIR / "codes.yaml") -> CodeBook:
    with path.open(encoding="utf-8") as handle:
        return CodeBook.from_mapping(yaml.safe_load(handle))


CODE_BOOK = load_code_book()


@dataclass(frozen=True)
class CodedLine:
    """One proposed charge line: a code and its units, with the basis a reader can check."""

    code: str
    units: int
    basis: str
    drug_mg: Decimal | None = None
    ndc: str = ""


@dataclass(frozen=True)
class Proposal:
    """A proposed E/M or psychotherapy code, or ``None`` with why the clinician must choose."""

    code: str | None
    basis: str

    @property
    def needs_choice(self) -> bool:
        return self.code is None


# --- Input --------------------------------------------------------------------------------


def amount(value: Any, field: str, *, limit: Decimal) -> Decimal:
    """A finite, non-negative number no larger than ``limit``, as an exact Decimal."""
    if isinstance(value, bool) or value is None:
        raise CodingError(field, "must be a number")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise CodingError(field, "must be a number") from None
    if not number.is_finite():
        raise CodingError(field, "must be a finite number")
    if number < 0:
        raise CodingError(field, "must not be negative")
    if number > limit:
        raise CodingError(field, f"{_text(number)} is more than any session ({_text(limit)})")
    return number


def _text(value: Decimal) -> str:
    if abs(value) >= Decimal("1e12"):
        return f"{value:.3g}"
    return format(value.normalize(), "f") if value != value.to_integral() else str(int(value))


# --- Procedure and visit lines ---------------------------------------------------------------


def esketamine_visit(delivered_mg: Any, book: CodeBook = CODE_BOOK) -> CodedLine:
    """G2082 for at most 56 mg delivered, G2083 above; nothing delivered is no visit code."""
    mg = amount(delivered_mg, "delivered_dose_mg", limit=book.max_delivered_dose_mg)
    if mg == 0:
        raise CodingError(
            "delivered_dose_mg", "no esketamine was delivered: there is no esketamine visit"
        )
    rule = book.rule("esketamine_visit")
    up_to = Decimal(str(rule["up_to_mg"]))
    if mg <= up_to:
        return CodedLine(rule["up_to_code"], 1, f"{_text(mg)} mg delivered (up to {up_to} mg)")
    return CodedLine(rule["above_code"], 1, f"{_text(mg)} mg delivered (more than {up_to} mg)")


def infusion_add_on_hours(infusion_minutes: Any, book: CodeBook = CODE_BOOK) -> int:
    """How many 96366 add-ons an infusion of ``infusion_minutes`` earns (see module doc)."""
    minutes = amount(infusion_minutes, "infusion_minutes", limit=book.max_infusion_minutes)
    rule = book.rule("iv_infusion")
    first = Decimal(rule["first_hour_minutes"])
    hour = Decimal(rule["add_on_hour_minutes"])
    past = Decimal(rule["add_on_more_than_minutes"])
    beyond = minutes - first - past
    if beyond <= 0:
        return 0
    return int((beyond / hour).to_integral_value(rounding=ROUND_CEILING))


def infusion_lines(infusion_minutes: Any, book: CodeBook = CODE_BOOK) -> tuple[CodedLine, ...]:
    """96365, plus 96366 x the add-on hours; an infusion that never ran is not coded."""
    minutes = amount(infusion_minutes, "infusion_minutes", limit=book.max_infusion_minutes)
    if minutes == 0:
        raise CodingError("infusion_minutes", "the infusion never ran: there is nothing to code")
    rule = book.rule("iv_infusion")
    lines = [CodedLine(rule["initial_code"], 1, f"infusion ran {_text(minutes)} min")]
    add_ons = infusion_add_on_hours(minutes, book)
    if add_ons:
        past = rule["add_on_more_than_minutes"]
        lines.append(
            CodedLine(
                rule["add_on_code"],
                add_ons,
                f"{_text(minutes)} min: {add_ons} further hour(s), each more than {past} min "
                "past the hour before",
            )
        )
    return tuple(lines)


def injection_line(book: CodeBook = CODE_BOOK) -> CodedLine:
    return CodedLine(book.rule("im_injection")["code"], 1, "intramuscular injection given")


def procedure_lines(
    route: str,
    delivered_dose_mg: Any,
    infusion_minutes: Any = None,
    book: CodeBook = CODE_BOOK,
) -> tuple[CodedLine, ...]:
    """The procedure or visit lines of one session (no drug line, no E/M)."""
    if route not in ROUTES:
        raise CodingError("route", f"{route!r} is not one of {', '.join(ROUTES)}")
    mg = amount(delivered_dose_mg, "delivered_dose_mg", limit=book.max_delivered_dose_mg)
    if route == "esketamine":
        return (esketamine_visit(mg, book),)
    if route == "iv":
        if infusion_minutes is None:
            raise CodingError("infusion_minutes", "an IV infusion needs its minutes")
        return infusion_lines(infusion_minutes, book)
    if mg == 0:
        raise CodingError("delivered_dose_mg", "no injection was given: there is nothing to code")
    return (injection_line(book),)


def drug_line(
    route: str,
    delivered_dose_mg: Any,
    *,
    supply: str = SUPPLY_BUY_AND_BILL,
    ndc: str = "",
    book: CodeBook = CODE_BOOK,
) -> CodedLine | None:
    """The drug line: J3490 for ketamine, S0013 x mg for buy-and-bill esketamine, else none."""
    if route not in ROUTES:
        raise CodingError("route", f"{route!r} is not one of {', '.join(ROUTES)}")
    if supply not in SUPPLIES:
        raise CodingError("supply", f"{supply!r} is not one of {', '.join(SUPPLIES)}")
    mg = amount(delivered_dose_mg, "delivered_dose_mg", limit=book.max_delivered_dose_mg)
    if mg == 0:
        return None
    rule = book.rule("drug")
    if route == "esketamine":
        if supply == SUPPLY_PHARMACY:
            return None
        per_unit = Decimal(str(rule["esketamine_mg_per_unit"]))
        units = int((mg / per_unit).to_integral_value(rounding=ROUND_HALF_UP))
        return CodedLine(
            rule["esketamine_buy_and_bill_code"],
            units,
            f"{_text(mg)} mg esketamine, 1 unit per {per_unit} mg",
            drug_mg=mg,
            ndc=ndc,
        )
    return CodedLine(
        rule["ketamine_code"],
        int(rule["ketamine_units"]),
        f"ketamine {_text(mg)} mg (NDC and mg on the claim)",
        drug_mg=mg,
        ndc=ndc,
    )


# --- E/M and psychotherapy: proposed from time, chosen by the clinician -----------------


def _by_minimum(minimums: Mapping[str, int], minutes: Decimal) -> str | None:
    reached = [code for code, least in minimums.items() if minutes >= least]
    return max(reached, key=lambda code: minimums[code]) if reached else None


def _minutes(minutes: Any) -> Decimal | None:
    if minutes is None:
        return None
    return amount(minutes, "minutes", limit=CODE_BOOK.max_infusion_minutes)


def propose_em(new_patient: bool, minutes: Any, book: CodeBook = CODE_BOOK) -> Proposal:
    """An office E/M code from the total time, when known and enough; else ask."""
    rule = book.rule("evaluation_and_management")
    table = rule["new_patient_minimum_minutes" if new_patient else "established_minimum_minutes"]
    minimums = {str(code): int(least) for code, least in table.items()}
    spent = _minutes(minutes)
    who = "new" if new_patient else "established"
    if spent is None:
        return Proposal(
            None, f"no time recorded: choose the {who}-patient level by decision making"
        )
    code = _by_minimum(minimums, spent)
    if code is None:
        lowest = min(minimums.values())
        return Proposal(
            None, f"{_text(spent)} min is under {lowest} min: choose the level by decision making"
        )
    return Proposal(code, f"{_text(spent)} min total time, {who} patient ({rule['source']})")


def propose_psychotherapy(minutes: Any, book: CodeBook = CODE_BOOK) -> Proposal:
    """90832 / 90834 / 90837 from the minutes with the patient, when known and enough."""
    rule = book.rule("psychotherapy")
    minimums = {str(code): int(least) for code, least in rule["minimum_minutes"].items()}
    spent = _minutes(minutes)
    if spent is None:
        return Proposal(None, "no psychotherapy time recorded: the clinician chooses")
    code = _by_minimum(minimums, spent)
    if code is None:
        lowest = min(minimums.values())
        return Proposal(None, f"{_text(spent)} min is under {lowest} min: no psychotherapy code")
    return Proposal(code, f"{_text(spent)} min with the patient ({rule['source']})")
