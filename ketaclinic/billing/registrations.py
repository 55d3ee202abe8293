"""Where billing shows itself on earlier apps' pages (chart tab, plan page, worklist, booking)."""

from __future__ import annotations


def register() -> None:
    from ketaclinic.outcomes import worklist_sections
    from ketaclinic.patients import chart
    from ketaclinic.plans import sections as plan_sections
    from ketaclinic.scheduling import course_warnings

    from . import authorization_services, sections
    from .tabs import coverage_tab

    chart.register_tab("coverage", "Coverage", "coverage.view", coverage_tab, position=120)
    from .charges_tab import charges_tab

    chart.register_tab("charges", "Charges", "charges.view", charges_tab, position=130)
    plan_sections.register_section("prior_authorization", sections.plan_authorization_section)
    worklist_sections.register_section(
        "prior_authorizations", sections.worklist_authorizations_section
    )
    course_warnings.register_provider("prior_authorization", authorization_services.course_warnings)
