"""The report's look, as data: one colour per act (hue by group), per need, and the stylesheet.

Why a table: the charts, the transcript highlighting and the legend must agree on colours, and
a reader learns them once. Colours are constants written here, never taken from input.
"""

from __future__ import annotations

import html

from attunement.coding.taxonomy import ACTS, Group

ACT_COLORS: dict[str, str] = {
    # EXPLORE: blues
    "ask_open": "#1565c0",
    "ask_clarify": "#0288d1",
    "ask_need": "#00838f",
    "ask_permission": "#3949ab",
    "checkin": "#7986cb",
    # REFLECT: greens
    "reflect_feeling": "#2e7d32",
    "reflect_content": "#689f38",
    "validate": "#00897b",
    "acknowledge": "#a0a020",
    # SOLVE: oranges
    "advise": "#d84315",
    "inform": "#f57c00",
    # SUPPORT: purples
    "reassure": "#8e24aa",
    "self_disclose": "#c2185b",
    # OTHER
    "other": "#757575",
}

GROUP_COLORS: dict[Group, str] = {
    "EXPLORE": "#1565c0",
    "REFLECT": "#2e7d32",
    "SOLVE": "#d84315",
    "SUPPORT": "#8e24aa",
    "OTHER": "#757575",
}

NEED_COLORS: dict[str, str] = {
    "vent": "#6a1b9a",
    "validation": "#2e7d32",
    "advice": "#d84315",
    "information": "#f9a825",
    "clarify": "#0277bd",
    "clear_task": "#455a64",
    "encouragement": "#c2185b",
}
FALLBACK_COLOR = "#616161"
REFERENCE_COLOR = "#b0b0b0"


def act_color(act: str) -> str:
    """The colour of an act (grey for an unknown one)."""
    return ACT_COLORS.get(act, FALLBACK_COLOR)


def act_class(act: str) -> str:
    """CSS class of an act; unknown acts share one class, so input never names a class."""
    return f"act-{act}" if act in ACT_COLORS else "act-unknown"


def _act_rules() -> str:
    rules = []
    for act in ACTS:
        color = ACT_COLORS[act]
        rules.append(f".{act_class(act)}{{background:{color}1f;border-bottom:2px solid {color}}}")
    rules.append(f".act-unknown{{background:#eee;border-bottom:2px dotted {FALLBACK_COLOR}}}")
    return "\n".join(rules)


CSS = """
:root{--fg:#1d1d1f;--muted:#666;--line:#ddd;--bg:#fff;--soft:#f6f7f9}
*{box-sizing:border-box}
body{font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);
background:var(--bg);margin:0 auto;max-width:1100px;padding:16px 24px 64px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:18px;margin:32px 0 8px;
border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}
p.lead{color:var(--muted);margin:0 0 12px}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}
th,td{padding:3px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums;
white-space:nowrap}
table.meta td:first-child{color:var(--muted);white-space:nowrap}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:8px 24px}
figure{margin:8px 0}figcaption{color:var(--muted);font-size:12px}
svg text{font-family:system-ui,sans-serif}
.note{background:#fff8e1;border-left:4px solid #f9a825;padding:6px 10px;margin:8px 0}
.legend{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:4px 18px;
font-size:12px;margin:8px 0 16px}
.legend div{display:flex;gap:6px;align-items:baseline}
.sw{display:inline-block;width:11px;height:11px;border-radius:2px;flex:none;position:relative;
top:1px}
.grp{font-size:11px;color:var(--muted)}
details.conv{border:1px solid var(--line);border-radius:6px;margin:6px 0;background:var(--bg)}
details.conv>summary{cursor:pointer;padding:6px 10px;background:var(--soft);border-radius:6px;
display:flex;flex-wrap:wrap;gap:4px 12px;align-items:center}
details.conv[open]>summary{border-bottom:1px solid var(--line);border-radius:6px 6px 0 0}
.cid{font-weight:600}.pill{font-size:11px;padding:0 6px;border-radius:8px;background:#e8eaed}
.pill.err{background:#fdecea;color:#b71c1c}.pill.ok{background:#e8f5e9;color:#1b5e20}
.convmeta{color:var(--muted);font-size:12px;padding:6px 12px 0}
ol.turns{list-style:none;margin:0;padding:6px 12px 10px}
li.turn{margin:8px 0;padding:6px 10px;border-radius:8px;max-width:88%}
li.user{background:#f1f3f4}li.assistant{background:#fff;border:1px solid var(--line);
margin-left:auto}li.system{background:#fffde7;font-size:12px}
.who{font-size:11px;color:var(--muted);display:flex;flex-wrap:wrap;gap:2px 10px;margin-bottom:2px}
.who b{color:var(--fg)}.up{color:#1b5e20}.down{color:#b71c1c}
.said{white-space:pre-wrap;word-wrap:break-word}
.said span[title]{border-radius:3px;padding:0 1px}
ul.reasons{margin:4px 0 0;padding-left:18px;font-size:12px;color:#333}
.facts{font-size:12px;margin-top:3px}.fact{background:#e3f2fd;border-radius:8px;padding:0 6px;
margin-right:4px}
.acttag{font-size:11px;color:#fff;border-radius:3px;padding:0 4px;margin-right:3px}
.err{color:#b71c1c}
""" + _act_rules()


def style_block() -> str:
    """The ``<style>`` element (constants only; nothing from input goes in)."""
    return f"<style>{CSS}</style>"


def swatch(act: str) -> str:
    """A small colour square for an act."""
    return f'<span class="sw" style="background:{html.escape(act_color(act))}"></span>'
