"""Simulation presets: one YAML file of named parameters each (see docs/simulator.md)."""
