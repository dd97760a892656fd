"""Detection: the typology catalogue (one YAML and one query per detector) and its runner.

>>> from moneytrail.detect import load_catalog
>>> sorted(load_catalog())[:2]
['bipartite_layers', 'card_paydown_bulk_purchase']
"""

from moneytrail.detect.catalog import Detector, load_catalog
from moneytrail.detect.runner import DetectResult, run_detectors

__all__ = ["DetectResult", "Detector", "load_catalog", "run_detectors"]
