"""Scenarios: the schema (``attunement.types.Scenario``), the loader, suites, and the bank.

>>> from attunement.scenarios import load_scenarios, select_suite
>>> core = select_suite(load_scenarios(), "core")
>>> len({s.need for s in core})
7
"""

from attunement.scenarios.loader import BANK_DIR, load_scenarios
from attunement.scenarios.suites import SUITES, Suite, bank_hash, list_suites, select_suite

__all__ = [
    "BANK_DIR",
    "SUITES",
    "Suite",
    "bank_hash",
    "list_suites",
    "load_scenarios",
    "select_suite",
]
