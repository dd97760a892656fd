"""The investigator's workbench: a FastAPI app over a workspace (see ``create_app``)."""

from __future__ import annotations


def create_app(*args, **kwargs):
    """Build the workbench app; see :func:`moneytrail.investigate.web.app.create_app`."""
    from moneytrail.investigate.web.app import create_app as _create

    return _create(*args, **kwargs)


__all__ = ["create_app"]
