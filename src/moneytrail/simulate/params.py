"""Presets: plain YAML parameter files in ``presets/``, plus ``--set key=value`` overrides.

A preset is a mapping of named parameters. ``--set networks.silver.kg_per_month=200`` changes one
value (the key must exist: a typo is an error, not a silent new parameter); values are read as
YAML scalars, so ``2018-01-15``, ``0.5``, ``null`` and ``true`` mean what they look like.
"""

from __future__ import annotations

import copy
from importlib import resources

import yaml

from moneytrail.errors import ConfigError

# libyaml's parser when PyYAML was built with it (same safe types, many times faster)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
REQUIRED = ("start", "days", "legit", "networks", "interventions", "casinos", "casino_weights")


def preset_names() -> list[str]:
    """Names of the presets shipped with moneytrail."""
    d = resources.files(__package__).joinpath("presets")
    return sorted(p.name.removesuffix(".yaml") for p in d.iterdir() if p.name.endswith(".yaml"))


def load_preset(name: str) -> dict:
    """The parameters of preset ``name`` (a fresh copy)."""
    if name not in preset_names():
        raise ConfigError(
            f"The option '--preset' must be one of {', '.join(preset_names())}. Got {name!r} instead."
        )
    text = resources.files(__package__).joinpath("presets", f"{name}.yaml").read_text(encoding="utf-8")
    params = yaml.load(text, Loader=_LOADER)
    if not isinstance(params, dict):
        raise ConfigError(f"The preset file presets/{name}.yaml must hold a mapping of parameters.")
    base = params.pop("extends", None)
    if base:
        params = _merge(load_preset(base), params)
    missing = [k for k in REQUIRED if k not in params]
    if missing:
        raise ConfigError(f"The preset file presets/{name}.yaml lacks the parameter(s) {', '.join(missing)}.")
    params["preset"] = name
    return params


# a preset that names these replaces them whole instead of merging into its base's
_REPLACED = ("networks", "calibration")


def _merge(base: dict, over: dict, top: bool = True) -> dict:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and not (top and k in _REPLACED):
            out[k] = _merge(out[k], v, top=False)
        else:
            out[k] = v
    return out


def apply_overrides(params: dict, overrides: list[str]) -> dict:
    """A copy of ``params`` with each ``dotted.key=value`` applied; unknown keys are errors."""
    out = copy.deepcopy(params)
    for item in overrides or []:
        if "=" not in item:
            raise ConfigError(f"The option '--set' takes key=value. Got {item!r} instead.")
        key, raw = item.split("=", 1)
        parts = key.strip().split(".")
        node = out
        for i, part in enumerate(parts):
            if not isinstance(node, dict) or part not in node:
                where = ".".join(parts[:i]) or "the top level"
                known = ", ".join(sorted(node)) if isinstance(node, dict) else "none"
                raise ConfigError(
                    f"The option '--set {key}' names no parameter: {where} has no '{part}' (known: {known})."
                )
            if i == len(parts) - 1:
                node[part] = yaml.safe_load(raw) if raw.strip() else None
            else:
                node = node[part]
    return out


def validate(params: dict) -> None:
    """Check the values the generator relies on; raise ConfigError naming the parameter."""
    if not isinstance(params.get("days"), int) or params["days"] < 1:
        raise ConfigError(
            f"The parameter 'days' must be a positive whole number of days. Got {params.get('days')!r} instead."
        )
    scale = params.get("scale", 1.0)
    if not isinstance(scale, int | float) or scale <= 0:
        raise ConfigError(f"The parameter 'scale' must be a positive number. Got {scale!r} instead.")
    if len(params["casinos"]) != len(params["casino_weights"]):
        raise ConfigError("The parameters 'casinos' and 'casino_weights' must have the same length.")
    for nid, cfg in params["networks"].items():
        chans = cfg.get("channels", {})
        bad = [k for k, v in chans.items() if not isinstance(v, int | float) or v < 0]
        if bad:
            raise ConfigError(
                f"The channel weights of network '{nid}' must be non-negative numbers ({', '.join(bad)})."
            )
        total = sum(chans.values())
        if abs(total - 1.0) > 1e-6:
            raise ConfigError(
                f"The channel weights of network '{nid}' must sum to 1. They sum to {total:.4f}."
            )
