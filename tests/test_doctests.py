"""The examples in the docstrings run and give what they show: every module of the package."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import attunement

MODULES = sorted(m.name for m in pkgutil.walk_packages(attunement.__path__, "attunement."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_the_examples_are_found():
    examples = sum(
        doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS).attempted
        for name in MODULES
    )
    assert len(MODULES) > 50 and examples > 100
