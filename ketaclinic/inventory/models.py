"""The controlled-substance log: lots received and every entry against them.

Ketamine is a controlled substance (REFERENCE.md section 3, seed 004): every vial received,
drawn, given and wasted is logged, waste with a witness. Both tables are append-only in the
database itself (``database.py``): a row is never changed or removed, a mistake is answered
by a new entry. Balances are never stored: they are replayed from the entries through the
pure ``ledger.py``, the same code that refuses an entry that would make a lot negative.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

USER = settings.AUTH_USER_MODEL


class Drug(models.TextChoices):
    """The drug in a lot; the same words as ``TreatmentSession.drug``."""

    RACEMIC_KETAMINE = "racemic ketamine", "Ketamine (racemic)"
    ESKETAMINE = "esketamine", "Esketamine (Spravato)"


class Lot(models.Model):
    """A manufacturer's lot as received: product, strength, supplier and expiry.

    ``vials_received`` is the delivery that opened the lot; a later delivery of the same lot
    is a further ``receive`` entry, so the lot's total received is read from the ledger.
    For esketamine a "vial" is one 28 mg nasal device.
    """

    drug = models.CharField(max_length=20, choices=Drug.choices)
    product = models.CharField(
        max_length=100, help_text="As on the label, e.g. Ketamine HCl injection 50 mg/mL, 10 mL."
    )
    supplier = models.CharField(max_length=150)
    lot_number = models.CharField(max_length=40)
    mg_per_vial = models.DecimalField("mg per vial", max_digits=8, decimal_places=2)
    ml_per_vial = models.DecimalField("mL per vial", max_digits=6, decimal_places=2)
    vials_received = models.PositiveIntegerField()
    expires_on = models.DateField()
    received_at = models.DateTimeField(default=timezone.now)
    received_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["expires_on", "lot_number", "id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "lot_number"], name="lot_once_per_product"),
            models.CheckConstraint(condition=Q(drug__in=Drug.values), name="lot_drug_known"),
            models.CheckConstraint(
                condition=Q(mg_per_vial__gt=0, ml_per_vial__gt=0, vials_received__gt=0),
                name="lot_strength_and_count_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} lot {self.lot_number}"

    @property
    def mg_per_ml(self) -> Decimal:
        return self.mg_per_vial / self.ml_per_vial

    def expired_on(self, day) -> bool:
        return self.expires_on < day


class EntryKind(models.TextChoices):
    RECEIVE = "receive", "Received"
    DRAW = "draw", "Drawn"
    ADMINISTER = "administer", "Administered"
    WASTE = "waste", "Wasted"
    COUNT = "count", "Counted"


class LedgerEntryQuerySet(models.QuerySet):
    def for_lot(self, lot: Lot) -> LedgerEntryQuerySet:
        return self.filter(lot=lot).order_by("id")

    def for_session(self, session) -> LedgerEntryQuerySet:
        return self.filter(session=session).order_by("id")

    def counts(self) -> LedgerEntryQuerySet:
        return self.filter(kind=EntryKind.COUNT)


class LedgerEntry(models.Model):
    """One line of the log. Which fields a kind needs is checked by the database.

    - ``receive``: ``vials`` whole vials; ``quantity_mg`` = vials x mg per vial.
    - ``draw``: ``quantity_mg`` taken from the lot for ``session``.
    - ``administer``: ``quantity_mg`` of ``draw`` given in ``session`` (its administration
      record says how much was delivered).
    - ``waste``: ``quantity_mg`` destroyed, from ``draw`` (the unused rest of a syringe) or
      from stock (no draw: a broken or expired vial), with a ``witness`` other than ``by``.
    - ``count``: a physical count of the lot (``vials`` sealed and ``partial_ml`` in an open
      vial, ``quantity_mg`` in mg) against the balance the ledger expected, witnessed.
    """

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=12, choices=EntryKind.choices)
    quantity_mg = models.DecimalField(max_digits=10, decimal_places=2)
    vials = models.PositiveIntegerField(null=True, blank=True)
    partial_ml = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    session = models.ForeignKey(
        "charting.TreatmentSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="controlled_substance_entries",
    )
    draw = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="uses"
    )
    by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    witness = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)
    expected_mg = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    discrepancy_mg = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        # The id is the order entries were applied in (writers are serialised per lot).
        ordering = ["id"]
        verbose_name_plural = "ledger entries"
        indexes = [
            models.Index(fields=["lot", "id"], name="ledger_lot_order"),
            models.Index(fields=["kind", "-at"], name="ledger_kind_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=EntryKind.values), name="ledger_kind_known"
            ),
            models.CheckConstraint(
                condition=Q(quantity_mg__gt=0) | Q(kind="count", quantity_mg__gte=0),
                name="ledger_quantity_positive",
            ),
            models.CheckConstraint(
                condition=~Q(kind="receive")
                | Q(vials__gt=0, session__isnull=True, draw__isnull=True, witness__isnull=True),
                name="ledger_receive_shape",
            ),
            models.CheckConstraint(
                condition=~Q(kind="draw") | Q(session__isnull=False, draw__isnull=True),
                name="ledger_draw_for_a_session",
            ),
            models.CheckConstraint(
                condition=~Q(kind="administer") | Q(session__isnull=False, draw__isnull=False),
                name="ledger_administer_from_a_draw",
            ),
            models.CheckConstraint(
                condition=~Q(kind="waste")
                | (
                    Q(witness__isnull=False)
                    & (
                        Q(draw__isnull=True, session__isnull=True)
                        | Q(draw__isnull=False, session__isnull=False)
                    )
                ),
                name="ledger_waste_witnessed",
            ),
            models.CheckConstraint(
                condition=~Q(kind="count")
                | Q(
                    witness__isnull=False,
                    expected_mg__isnull=False,
                    discrepancy_mg__isnull=False,
                    session__isnull=True,
                    draw__isnull=True,
                ),
                name="ledger_count_witnessed",
            ),
            models.CheckConstraint(
                condition=Q(witness__isnull=True) | ~Q(witness=F("by")),
                name="ledger_witness_is_someone_else",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity_mg} mg, lot {self.lot_id}"

    @property
    def flagged(self) -> bool:
        """A count that does not match the ledger."""
        return self.kind == EntryKind.COUNT and self.discrepancy_mg != 0
