"""Which protocol a new plan starts from, given the screening's route and indication.

Pure Python, no Django. The rule is the catalog's data, not code: each protocol lists in
``indications`` the indications its label names (``protocols.yaml``; ``null`` for off-label
racemic ketamine, where the prescriber decides). A protocol of the route whose label names the
screened indication is chosen; otherwise the route's default protocol.

So depression with acute suicidal ideation screened for esketamine starts on
``esketamine_mdsi`` (84 mg twice weekly for 4 weeks, given with an oral antidepressant), not on
the treatment-resistant-depression schedule that is esketamine's default (esketamine label [V];
REFERENCE.md section 1, "Esketamine MDD with acute suicidal ideation"). The choice is only the
form's starting value: the prescriber picks and signs the protocol.

Works on the shipped catalog's :class:`~.entries.Protocol` and on the clinic's database rows
alike: anything with a ``code``, a ``route`` and ``indications``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar


class Choosable(Protocol):
    """What the choice reads of a protocol (catalog entry or database row)."""

    @property
    def code(self) -> str: ...

    @property
    def route(self) -> str: ...

    @property
    def indications(self) -> Sequence[str] | None: ...


P = TypeVar("P", bound=Choosable)


@dataclass(frozen=True)
class ProtocolChoice(Generic[P]):
    """The protocol chosen, ``labelled`` when its label names the indication (else the default)."""

    protocol: P
    labelled: bool


def labelled_for(protocol: Choosable, indication: str) -> bool:
    """Whether ``protocol`` names ``indication`` among its labelled indications."""
    return bool(protocol.indications) and indication in (protocol.indications or ())


def choose_protocol(
    protocols: Iterable[P], *, route: str, indication: str, default: P | None
) -> ProtocolChoice[P] | None:
    """The protocol a plan for ``route`` and ``indication`` starts from.

    Parameters
    ----------
    protocols
        The protocols in use, in the clinic's order; those of other routes are ignored.
    route, indication
        The screening's route and indication codes.
    default
        The route's default protocol, chosen when no protocol of the route is labelled for
        the indication (``None`` when the clinic has none).

    Returns
    -------
    ProtocolChoice or None
        ``None`` only when nothing is labelled and there is no default.
    """
    for protocol in protocols:
        if protocol.route == route and labelled_for(protocol, indication):
            return ProtocolChoice(protocol, labelled=True)
    return None if default is None else ProtocolChoice(default, labelled=False)
