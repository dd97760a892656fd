"""The Jinja environment for the HTML reports: package templates, autoescaping, one stylesheet."""

from __future__ import annotations

from functools import cache
from importlib import resources

import jinja2
from markupsafe import Markup


@cache
def environment() -> jinja2.Environment:
    """Templates from ``reports/templates``; HTML is escaped unless marked safe (the SVG charts)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("moneytrail.investigate.reports", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["money"] = lambda v: "" if v is None else f"{v:,.2f}"
    env.globals["stylesheet"] = Markup(stylesheet())
    return env


@cache
def stylesheet() -> str:
    """The report stylesheet, inlined so every report is one self-contained file."""
    return resources.files(__package__).joinpath("templates/report.css").read_text(encoding="utf-8")


def render(template: str, **context) -> str:
    """Render ``template`` with ``context``."""
    return environment().get_template(template).render(**context)
