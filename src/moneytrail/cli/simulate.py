"""``moneytrail simulate``: generate a synthetic world with ground truth (and its report)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from moneytrail.cli.app import app, console
from moneytrail.errors import ConfigError


@app.command("simulate")
def simulate_command(
    preset: Annotated[str, typer.Option("--preset", help="Preset name: tiny, bc-2015, bc-2018.")] = "tiny",
    seed: Annotated[
        int | None, typer.Option("--seed", help="Random seed (required): same seed, same files.")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder to write the world to.")] = None,
    scale: Annotated[float | None, typer.Option("--scale", help="Multiply population and volumes.")] = None,
    days: Annotated[
        int | None, typer.Option("--days", help="Length of the simulated window in days.")
    ] = None,
    sets: Annotated[
        list[str] | None, typer.Option("--set", help="Override a parameter: key.path=value (repeatable).")
    ] = None,
    report: Annotated[
        bool, typer.Option("--report", help="Also write the calibration and volume report to OUT/report/.")
    ] = False,
    compare: Annotated[
        Path | None,
        typer.Option("--compare", help="Another world to compare with in the report (displacement)."),
    ] = None,
    only_report: Annotated[
        bool,
        typer.Option("--only-report", help="Do not simulate; write the report of the world already in OUT."),
    ] = False,
) -> None:
    """Write a world in the canonical format (OUT/<table>.parquet, OUT/truth/, OUT/world.json)."""
    from moneytrail.simulate import simulate
    from moneytrail.simulate.report import write_report

    if out is None:
        raise ConfigError("The option '--out' is required: the folder to write the world to.")
    if compare is not None and not (compare / "world.json").is_file():
        raise ConfigError(f"The option '--compare' must name a simulated world; {compare} has no world.json.")
    if not only_report:
        if seed is None:
            raise ConfigError("The option '--seed' is required: the same seed gives byte-identical files.")
        summary = simulate(preset, seed, out, scale=scale, days=days, overrides=sets or [], progress=True)
        c = summary["counts"]
        console.print(
            f"wrote {out}: {c['transactions']:,} transactions, {c['parties']:,} parties, "
            f"{c['casino_sessions']:,} casino sessions, {len(summary['networks'])} networks"
        )
    elif not (out / "world.json").is_file():
        raise ConfigError(f"The option '--only-report' needs a world in {out}, which has no world.json.")
    if report or compare is not None or only_report:
        data = write_report(out, compare=compare)
        cov = [r for r in data["calibration"] if r["covered"] and r["ratio"] is not None]
        within = sum(1 for r in cov if 0.75 <= r["ratio"] <= 1.25)
        console.print(
            f"report: {out / 'report' / 'report.md'} ({within} of {len(cov)} calibrated figures within 25%)"
        )
        _write_brief(out, compare)


def _write_brief(out: Path, compare: Path | None) -> None:
    """The printable policy brief beside the report: HTML always, PDF when Chromium is there."""
    from moneytrail.simulate.brief import write_brief

    try:
        written = write_brief(out, compare=compare)
    except ConfigError as e:
        # the HTML brief does not need a browser: keep it and say why the PDF is missing
        written = write_brief(out, compare=compare, pdf=False)
        console.print(f"brief: no PDF ({e})")
    console.print("brief: " + ", ".join(str(p) for p in written))
