"""Regenerate the rule table inside docs/simulator.md from the code (the one source of truth).

Usage: python scripts/render_rule_table.py [--check]
"""

from __future__ import annotations

import sys
from pathlib import Path

from attunement.simulate.rules import rule_table_markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "simulator.md"
BEGIN, END = "<!-- rule-table:begin -->", "<!-- rule-table:end -->"


def render(text: str) -> str:
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{rule_table_markdown()}{END}{tail}"


def main() -> int:
    text = DOC.read_text(encoding="utf-8")
    new = render(text)
    if "--check" in sys.argv[1:]:
        if new != text:
            print(f"{DOC} is out of date: run python scripts/render_rule_table.py")
            return 1
        return 0
    DOC.write_text(new, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
