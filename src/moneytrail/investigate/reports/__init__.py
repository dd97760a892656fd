"""Reports and interchange: STR drafts, case dossiers (HTML/PDF), graph exports and FollowTheMoney.

>>> from moneytrail.investigate.reports import render_report
>>> out = render_report(workspace, "L0001", "pdf", redact=True)   # doctest: +SKIP
>>> out.suffix, out.media_type, len(out.content) > 0               # doctest: +SKIP
('.pdf', 'application/pdf', True)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from moneytrail.errors import ConfigError
from moneytrail.workspace import Workspace

# format -> (file suffix, media type, one-line description)
FORMATS: dict[str, tuple[str, str, str]] = {
    "html": (".html", "text/html; charset=utf-8", "case dossier (self-contained HTML)"),
    "pdf": (".pdf", "application/pdf", "case dossier (PDF)"),
    "str": (".json", "application/json", "suspicious transaction report draft (JSON, schema-validated)"),
    "str-html": (".html", "text/html; charset=utf-8", "suspicious transaction report draft (HTML)"),
    "graphml": (".graphml", "application/graphml+xml", "network for Gephi, igraph, yEd"),
    "gexf": (".gexf", "application/gexf+xml", "network for Gephi"),
    "ftm": (".ftm.json", "application/x-ndjson", "FollowTheMoney entities (JSON lines) for Aleph"),
}


@dataclass(frozen=True)
class RenderedReport:
    """A rendered report: its bytes, the suffix for its file and its media type."""

    content: bytes
    suffix: str
    media_type: str
    fmt: str


def check_format(fmt: str) -> str:
    """Return ``fmt`` if it is a known report format, else raise a :class:`ConfigError`."""
    if fmt not in FORMATS:
        raise ConfigError(
            f"The '--format' option must be one of {', '.join(repr(f) for f in FORMATS)}. Got {fmt!r} instead."
        )
    return fmt


def render_report(
    workspace: Workspace,
    lead_or_case_id: str,
    fmt: str,
    redact: bool = False,
    *,
    now: dt.datetime | None = None,
    reporting_entity: dict | None = None,
) -> RenderedReport:
    """Render lead or case ``lead_or_case_id`` of ``workspace`` in format ``fmt`` (see :data:`FORMATS`).

    ``redact`` pseudonymises everyone who is not a subject. ``now`` fixes the generation time
    (for reproducible output); ``reporting_entity`` fills Part A of the STR (name, identifier,
    activity_sector, contact).
    """
    check_format(fmt)
    from moneytrail.investigate.reports.bundle import load_bundle
    from moneytrail.investigate.reports.redact import redact_bundle

    bundle = load_bundle(workspace, lead_or_case_id)
    if redact:
        bundle = redact_bundle(bundle)
    suffix, media, _ = FORMATS[fmt]
    return RenderedReport(_render(bundle, fmt, now, reporting_entity), suffix, media, fmt)


def _render(bundle, fmt: str, now, reporting_entity) -> bytes:
    if fmt in ("str", "str-html"):
        from moneytrail.investigate.reports.str_report import build_str, str_html, str_json

        doc = build_str(bundle, now=now, reporting_entity=reporting_entity)
        return str_json(doc) if fmt == "str" else str_html(doc).encode("utf-8")
    if fmt in ("html", "pdf"):
        from moneytrail.investigate.reports.dossier import dossier_html

        html = dossier_html(bundle, now=now)
        if fmt == "html":
            return html.encode("utf-8")
        from moneytrail.investigate.reports.pdf import html_to_pdf

        return html_to_pdf(html)
    if fmt == "graphml":
        from moneytrail.investigate.reports.graph_export import graphml_bytes

        return graphml_bytes(bundle)
    if fmt == "gexf":
        from moneytrail.investigate.reports.graph_export import gexf_bytes

        return gexf_bytes(bundle)
    from moneytrail.investigate.reports.ftm_export import ftm_jsonl

    return ftm_jsonl(bundle)


__all__ = ["FORMATS", "RenderedReport", "check_format", "render_report"]
