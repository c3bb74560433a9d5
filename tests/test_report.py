"""report.html of a real run folder: self-contained, complete, escaped, and one-line errors."""

from __future__ import annotations

import html
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attunement.coding.taxonomy import ACT_DEFINITIONS, ACTS
from attunement.errors import InputError
from attunement.jsonl import read_jsonl, write_jsonl
from attunement.metrics.summary import headline
from attunement.report import load_report_data, render_report, write_report
from attunement.report.html import emotion_trajectories
from attunement.report.svg import Bar, Series, bar_chart, line_chart
from attunement.simulate.run import run_eval
from attunement.types import ActSpan, CodedUtterance, Conversation, RunConfig, Turn

PAYLOADS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "Tom & Jerry")
VOID = {"meta", "br", "img", "input", "hr", "link"}  # SVG shapes self-close with "/>"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "reflector"
    run_eval(RunConfig(model="scripted:reflector", suite="core", limit=4), out, progress=False)
    return out


def _copy(run_dir: Path, dest: Path) -> Path:
    shutil.copytree(run_dir, dest)
    (dest / "report.html").unlink(missing_ok=True)
    return dest


class _Balance(HTMLParser):
    """Checks that every element opened is closed, in order (catches broken markup)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()


def _assert_balanced(page: str) -> None:
    parser = _Balance()
    parser.feed(page)
    assert not parser.errors, parser.errors[:5]
    assert parser.stack == [], parser.stack


def test_eval_writes_the_report_and_write_report_rewrites_it(run_dir: Path, tmp_path: Path):
    assert (run_dir / "report.html").stat().st_size > 10_000  # written by run_eval itself
    target = tmp_path / "elsewhere" / "r.html"
    assert write_report(run_dir, target) == target
    page = target.read_text(encoding="utf-8")
    assert write_report(run_dir) == run_dir / "report.html"
    _assert_balanced(page)

    # self-contained: nothing fetched, nothing run
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    for banned in ("<script", "<link", "@import", "url(", "<iframe"):
        assert banned not in page.lower()

    config, convs = RunConfig.model_validate_json((run_dir / "config.json").read_text()), []
    convs = read_jsonl(run_dir / "conversations.jsonl", Conversation).items
    assert len(convs) == 4
    for conv in convs:
        assert f'id="conv-{conv.id}"' in page
        for turn in conv.turns:  # every sentence is shown, coloured by its act
            for span in turn.codes.spans if turn.codes else []:
                assert f'class="act-{span.act}" title="{span.act} (' in page
                assert html.escape(span.text, quote=True) in page
            for reason in turn.reasons:
                assert html.escape(reason.partition(": ")[2], quote=True) in page
    for act in ACTS:  # the legend defines every act
        assert html.escape(ACT_DEFINITIONS[act], quote=True) in page
    summary = json.loads((run_dir / "summary.json").read_text())
    for label, text in headline(summary):
        assert f'<td>{html.escape(label)}</td><td class="num">{text}</td>' in page
    assert config.config_hash() in page and "scripted:reflector" in page
    assert page.count("<details") == 4 and page.count("<svg") >= 4 + 3  # sparklines + charts


def test_every_written_string_is_escaped(run_dir: Path, tmp_path: Path):
    folder = _copy(run_dir, tmp_path / "evil")
    convs = read_jsonl(folder / "conversations.jsonl", Conversation).items
    bad = " | ".join(PAYLOADS)
    coded = CodedUtterance(
        text=bad, spans=[ActSpan(start=0, end=len(bad), text=bad, act="advise")], coder=bad
    )
    evil = convs[0].model_copy(
        update={
            "id": "evil-" + PAYLOADS[1],
            "domain": bad,
            "scenario_id": bad,
            "policy": bad,
            "error": bad,
            "facts_uncovered": [bad],
            "turns": [
                Turn(index=0, role="user", content=bad),
                Turn(index=1, role="assistant", content=bad, codes=coded),
                Turn(index=2, role="user", content=bad, emotion=50.0, emotion_delta=3.0,
                     reasons=[f"{bad}: {bad}", bad], facts_revealed=[bad], error=bad),
                Turn(index=3, role="assistant", content=bad,
                     codes=CodedUtterance(text=bad, error=bad)),
            ],
        }
    )  # fmt: skip
    write_jsonl(folder / "conversations.jsonl", [*convs, evil])
    cfg = json.loads((folder / "config.json").read_text())
    cfg["model"], cfg["versions"]["evil"] = bad, bad
    (folder / "config.json").write_text(json.dumps(cfg))

    page = write_report(folder).read_text(encoding="utf-8")
    _assert_balanced(page)
    for raw in PAYLOADS:
        assert raw not in page
        assert html.escape(raw, quote=True) in page
    assert "<script" not in page and "<img" not in page
    assert "summary.json counts 4 dialogues" in page  # stale summary: recomputed, and said so


def test_render_report_is_pure_and_accepts_bare_conversations():
    conv = Conversation(id="a<b>", need="vent", emotion_start=30.0, emotion_final=30.0)
    page = render_report([conv], {}, None)
    assert "a&lt;b&gt;" in page and "a<b>" not in page
    assert page.count("n/a") >= 5  # missing figures show as n/a, not an error


def test_emotion_trajectories_average_per_need_holding_early_ends(run_dir: Path):
    convs = read_jsonl(run_dir / "conversations.jsonl", Conversation).items
    trajs = emotion_trajectories(convs)
    needs = {c.need for c in convs}
    assert set(trajs) == needs
    for need, (means, n) in trajs.items():
        mine = [c.emotions for c in convs if c.need == need]
        assert n == len(mine) and len(means) == max(len(t) for t in mine)
        assert means[0] == pytest.approx(sum(t[0] for t in mine) / n)
        assert means[-1] == pytest.approx(sum(t[-1] for t in mine) / n)


def test_charts_escape_labels_and_draw_intervals():
    svg = bar_chart([Bar("<x>", 0.5, 0.4, 0.6), Bar("none", None)], max_value=1.0)
    assert "&lt;x&gt;" in svg and "<x>" not in svg and "50% [40%, 60%]" in svg and "n/a" in svg
    lines = line_chart([Series("a&b", [10.0, 50.0, 90.0], n=2), Series("c", [20.0], n=1)])
    assert lines.count("<polyline") == 2 and "a&amp;b (n=2)" in lines


def test_bad_lines_are_skipped_and_listed_or_raise_when_strict(run_dir: Path, tmp_path: Path):
    folder = _copy(run_dir, tmp_path / "torn")
    path = folder / "conversations.jsonl"
    lines = path.read_text().splitlines()
    lines.insert(2, '{"id": "x", "turns": [')  # line 3: not JSON
    path.write_text("\n".join(lines) + "\n")

    data = load_report_data(folder)
    assert len(data.conversations) == 4 and len(data.skipped) == 1
    page = data.write().read_text(encoding="utf-8")
    assert "line 3" in page and "not valid JSON" in page

    with pytest.raises(InputError) as err:
        write_report(folder, strict=True)
    assert err.value.line == 3 and err.value.path == str(path)
    assert "\n" not in str(err.value) and "line 3" in str(err.value)

    path.write_text("garbage\n")  # nothing readable: an error, not an empty report
    with pytest.raises(InputError, match="line 1"):
        write_report(folder)


def test_missing_inputs_are_one_line_errors(run_dir: Path, tmp_path: Path):
    with pytest.raises(InputError, match="no such run folder"):
        write_report(tmp_path / "nope")
    folder = _copy(run_dir, tmp_path / "noconv")
    (folder / "conversations.jsonl").unlink()
    with pytest.raises(InputError, match=r"conversations\.jsonl: file not found"):
        write_report(folder)
    (folder / "config.json").unlink()
    with pytest.raises(InputError, match=r"config\.json: not a run folder"):
        write_report(folder)
    probe = _copy(run_dir, tmp_path / "probe")
    cfg = json.loads((probe / "config.json").read_text())
    (probe / "config.json").write_text(json.dumps({**cfg, "kind": "probe"}))
    with pytest.raises(InputError, match="a probe run folder"):
        write_report(probe)


def test_missing_summary_is_recomputed_to_the_same_figures(run_dir: Path, tmp_path: Path):
    folder = _copy(run_dir, tmp_path / "nosummary")
    summary = json.loads((folder / "summary.json").read_text())
    (folder / "summary.json").unlink()
    data = load_report_data(folder)
    assert data.notes and "is missing: figures recomputed" in data.notes[0]
    assert headline(data.summary) == headline(summary)


def _app():
    from attunement.cli import report
    from attunement.cli.main import app

    if not any(c.name == "report" for c in app.registered_commands):
        report.register(app)
    return app


def test_cli_prints_the_path_and_fails_in_one_line(run_dir: Path, tmp_path: Path):
    runner = CliRunner()
    out = tmp_path / "cli.html"
    res = runner.invoke(_app(), ["report", str(run_dir), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == str(out) and out.stat().st_size > 10_000

    res = runner.invoke(_app(), ["report", str(tmp_path / "missing")])
    assert res.exit_code == 2
    assert res.stderr.strip().startswith("error:") and "no such run folder" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.output

    folder = _copy(run_dir, tmp_path / "cli-torn")
    with (folder / "conversations.jsonl").open("a") as fh:
        fh.write("{oops\n")
    res = runner.invoke(_app(), ["report", str(folder)])
    assert res.exit_code == 0 and "skipped" in res.stderr and "line 5" in res.stderr
    res = runner.invoke(_app(), ["report", str(folder), "--strict"])
    assert res.exit_code == 2 and "line 5" in res.stderr
