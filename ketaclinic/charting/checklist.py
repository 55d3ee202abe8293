"""The pre-session checklist and the gate it puts in front of dosing.

The items are data, ``data/checklist.yaml``, each naming its source. Each item is satisfied in
one of three ways (its ``mode``):

- ``derived``: read from the record (screening, weight, pre-treatment vitals, REMS). A
  clinician cannot tick it; a prescriber can override it with a reason when it is
  ``overridable``.
- ``attested``: a clinician confirms it on the day. An item with ``second_checker`` needs a
  second, different clinician.
- ``derived_or_attested``: read from the record when it can be (the patient's confirmation of
  the reminder, today's PHQ-9), otherwise a clinician confirms it.

Whatever the mode, a clinician may record an item as not met, and the newest answer for an
item counts. :func:`gate` lists the items that still block the start; the session starts only
when it is empty. The software advises: a named clinician answers every item, and a named
prescriber owns every override.

Pure module: no Django import. Facts and entries are plain data built by the caller
(``checklist_facts.py`` reads them from the record).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DATA_FILE = Path(__file__).parent / "data" / "checklist.yaml"

MODES = ("derived", "attested", "derived_or_attested")
CONDITIONS = ("weight_based_dose", "pregnancy_relevant")
OUTCOMES = ("passed", "failed", "overridden")
STATES = ("passed", "overridden", "failed", "pending", "not_applicable")


class ChecklistError(ValueError):
    """A checklist definition that cannot be used; says which item and key."""


@dataclass(frozen=True)
class ChecklistItem:
    """One item of the checklist, as defined in ``data/checklist.yaml``."""

    code: str
    label: str
    mode: str
    source: str
    overridable: bool = True
    second_checker: bool = False
    routes: tuple[str, ...] | None = None
    when: str | None = None
    requires: tuple[str, ...] = ()

    @property
    def attestable(self) -> bool:
        """Whether a clinician's "passed" counts for this item."""
        return self.mode in ("attested", "derived_or_attested")

    @property
    def derivable(self) -> bool:
        """Whether the record can answer this item."""
        return self.mode in ("derived", "derived_or_attested")


@dataclass(frozen=True)
class Checklist:
    """The items in display order, with the list's own source."""

    name: str
    version: int
    source: str
    items: tuple[ChecklistItem, ...]

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> Checklist:
        """Build and check a checklist from the shape of ``data/checklist.yaml``."""
        if not isinstance(mapping, Mapping) or not mapping.get("items"):
            raise ChecklistError("checklist: 'items' is required")
        items = tuple(_item_from(raw, index) for index, raw in enumerate(mapping["items"]))
        codes = [item.code for item in items]
        if len(set(codes)) != len(codes):
            raise ChecklistError("checklist: item codes must be unique")
        source = mapping.get("source")
        if not source:
            raise ChecklistError("checklist: 'source' is required")
        return cls(
            name=str(mapping.get("name", "checklist")),
            version=int(mapping.get("version", 1)),
            source=str(source),
            items=items,
        )

    def item(self, code: str) -> ChecklistItem:
        """The item with ``code``; :class:`ChecklistError` when there is none."""
        for item in self.items:
            if item.code == code:
                return item
        raise ChecklistError(f"{code!r} is not an item of the pre-session checklist")


def _item_from(raw: Any, index: int) -> ChecklistItem:
    if not isinstance(raw, Mapping):
        raise ChecklistError(f"items[{index}]: expected a mapping")
    code = raw.get("code")
    if not code:
        raise ChecklistError(f"items[{index}]: 'code' is required")
    where = f"item {code}"
    for key in ("label", "mode", "source"):
        if not raw.get(key):
            raise ChecklistError(f"{where}: {key!r} is required")
    if raw["mode"] not in MODES:
        raise ChecklistError(f"{where}: mode {raw['mode']!r} is not one of {', '.join(MODES)}")
    when = raw.get("when")
    if when is not None and when not in CONDITIONS:
        raise ChecklistError(f"{where}: when {when!r} is not one of {', '.join(CONDITIONS)}")
    second = bool(raw.get("second_checker", False))
    if second and raw["mode"] == "derived":
        raise ChecklistError(f"{where}: a second checker confirms, so the item must be attested")
    routes = raw.get("routes")
    return ChecklistItem(
        code=str(code),
        label=str(raw["label"]),
        mode=raw["mode"],
        source=" ".join(str(raw["source"]).split()),
        overridable=bool(raw.get("overridable", True)),
        second_checker=second,
        routes=tuple(routes) if routes else None,
        when=when,
        requires=tuple(raw.get("requires", ())),
    )


def load_checklist(path: Path = DATA_FILE) -> Checklist:
    """Load the checklist shipped in ``charting/data``."""
    with path.open(encoding="utf-8") as handle:
        return Checklist.from_mapping(yaml.safe_load(handle))


DEFAULT_CHECKLIST = load_checklist()


@dataclass(frozen=True)
class Derived:
    """What the record says about one item.

    ``met`` is ``None`` when the record cannot tell (a clinician must confirm). ``detail``
    says what was read, ``by`` and ``at`` who recorded that fact and when.
    """

    met: bool | None
    detail: str = ""
    by: str = ""
    at: dt.datetime | None = None


@dataclass(frozen=True)
class Facts:
    """Everything the gate needs to know about the session, as plain data."""

    route: str
    weight_based_dose: bool = False
    pregnancy_relevant: bool = True
    derived: Mapping[str, Derived] = field(default_factory=dict)

    def holds(self, condition: str) -> bool:
        """Whether a ``when`` condition of an item holds for this session."""
        return bool(getattr(self, condition))


@dataclass(frozen=True)
class Entry:
    """A clinician's answer to an item (a ``ChecklistEntry`` row as plain data)."""

    code: str
    outcome: str
    by_id: int | None
    by: str = ""
    at: dt.datetime | None = None
    second_checker_id: int | None = None
    second_checker: str = ""
    note: str = ""
    override_reason: str = ""

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ChecklistError(f"outcome {self.outcome!r} is not one of {', '.join(OUTCOMES)}")


@dataclass(frozen=True)
class ItemState:
    """Where one item stands: its state, how it got there, who and when.

    ``how`` is ``record`` (read from the record), ``clinician`` (answered on the day),
    ``override`` (a prescriber overrode it) or ``""`` (nothing yet).
    """

    item: ChecklistItem
    state: str
    how: str
    detail: str
    by: str = ""
    at: dt.datetime | None = None
    second_checker: str = ""

    @property
    def blocking(self) -> bool:
        """Whether this item stands between the patient and dosing."""
        return self.state in ("failed", "pending")

    @property
    def code(self) -> str:
        return self.item.code


def applies(item: ChecklistItem, facts: Facts) -> bool:
    """Whether ``item`` is asked for this session (route and ``when`` condition)."""
    if item.routes is not None and facts.route not in item.routes:
        return False
    return item.when is None or facts.holds(item.when)


def newest_entries(entries: Iterable[Entry]) -> dict[str, Entry]:
    """The newest answer per item; ``entries`` are oldest first, so the last one wins."""
    newest: dict[str, Entry] = {}
    for entry in entries:
        newest[entry.code] = entry
    return newest


def _from_entry(item: ChecklistItem, entry: Entry) -> ItemState | None:
    """The state a clinician's answer gives, or ``None`` when it does not decide the item."""
    if entry.outcome == "failed":
        detail = entry.note or "recorded as not met"
        return ItemState(item, "failed", "clinician", detail, entry.by, entry.at)
    if entry.outcome == "overridden":
        if not item.overridable or not entry.override_reason.strip():
            return None
        detail = f"overridden: {entry.override_reason}"
        return ItemState(item, "overridden", "override", detail, entry.by, entry.at)
    if not item.attestable:
        return None
    if item.second_checker and (
        entry.second_checker_id is None or entry.second_checker_id == entry.by_id
    ):
        return ItemState(
            item,
            "pending",
            "clinician",
            "needs a second, different clinician to check",
            entry.by,
            entry.at,
        )
    return ItemState(
        item, "passed", "clinician", entry.note, entry.by, entry.at, entry.second_checker
    )


def _from_record(item: ChecklistItem, derived: Derived | None) -> ItemState:
    if derived is not None and derived.met is True:
        return ItemState(item, "passed", "record", derived.detail, derived.by, derived.at)
    if derived is not None and derived.met is False:
        return ItemState(item, "failed", "record", derived.detail, derived.by, derived.at)
    if item.mode == "derived":
        detail = (derived.detail if derived else "") or "not on the record"
    elif item.second_checker:
        detail = "two different clinicians confirm"
    else:
        detail = (derived.detail if derived else "") or "a clinician confirms"
    return ItemState(item, "pending", "", detail)


def states(
    facts: Facts, entries: Sequence[Entry], checklist: Checklist = DEFAULT_CHECKLIST
) -> list[ItemState]:
    """Every item of the checklist and where it stands, in display order.

    Parameters
    ----------
    facts
        What the record says (route, conditions, derived answers per item code).
    entries
        The clinicians' answers, oldest first; entered-in-error ones left out.
    """
    newest = newest_entries(entries)
    shown: list[ItemState] = []
    for item in checklist.items:
        if not applies(item, facts):
            shown.append(ItemState(item, "not_applicable", "", "not asked for this session"))
            continue
        entry = newest.get(item.code)
        state = _from_entry(item, entry) if entry is not None else None
        if state is None:
            state = _from_record(item, facts.derived.get(item.code))
        shown.append(state)
    return shown


def gate(
    facts: Facts, entries: Sequence[Entry], checklist: Checklist = DEFAULT_CHECKLIST
) -> list[ItemState]:
    """The items that still block the start of dosing; empty means the session may start."""
    return [state for state in states(facts, entries, checklist) if state.blocking]
