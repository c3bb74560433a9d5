"""Evaluation throughput and cost: is the simulator ever the bottleneck?

1. Offline: structural user + local coder + each scripted policy, dialogues/s (target >= 200),
   with the time split between policy, coder, user and the engine (incl. the JSONL appends).
2. Against a local llama.cpp server on the embedded model: dialogues/min at 1, 4 and 16
   connections.
3. Cost per dialogue: model calls, tokens and input characters for the policy and for the user
   (structural and LLM user), set against SAGE's ~16 simulator calls and ~100k input characters.

Usage:
    python benchmarks/eval_throughput.py                    # everything (a few minutes)
    python benchmarks/eval_throughput.py --skip-server      # offline part only (seconds)

Prints markdown tables (paste into docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from attunement.coding import load_coder
from attunement.metrics.summary import usage_summary
from attunement.scenarios import load_scenarios, select_suite
from attunement.simulate.base import UserReply
from attunement.simulate.llm_user import LLMUser
from attunement.simulate.policies import scripted_policy
from attunement.simulate.rollout import RolloutSettings, plan_dialogues, run_rollouts
from attunement.simulate.structural import StructuralUser
from attunement.types import CodedUtterance, Completion, Message, Scenario

SAGE_CALLS, SAGE_CHARS = 16, 100_000


# ----------------------------------------------------------------------------- instrumentation
class Clock:
    """Seconds spent in each component (wrapped objects add to it)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {"policy": 0.0, "coder": 0.0, "user": 0.0}
        self.chars: dict[str, int] = {"policy": 0, "user": 0}


class TimedBackend:
    def __init__(self, inner, clock: Clock, who: str) -> None:  # noqa: ANN001
        self.inner, self.clock, self.who, self.name = inner, clock, who, inner.name

    async def generate(self, messages: Sequence[Message], **kw) -> Completion:  # noqa: ANN003
        self.clock.chars[self.who] += sum(len(m.content) for m in messages)
        t0 = time.perf_counter()
        try:
            return await self.inner.generate(messages, **kw)
        finally:
            self.clock.seconds[self.who] += time.perf_counter() - t0

    async def aclose(self) -> None:
        await self.inner.aclose()


class TimedCoder:
    def __init__(self, inner, clock: Clock) -> None:  # noqa: ANN001
        self.inner, self.clock, self.name = inner, clock, inner.name

    async def code(self, text: str, *, context: str | None = None) -> CodedUtterance:
        t0 = time.perf_counter()
        try:
            return await self.inner.code(text, context=context)
        finally:
            self.clock.seconds["coder"] += time.perf_counter() - t0


class TimedUser:
    def __init__(self, inner, clock: Clock) -> None:  # noqa: ANN001
        self.inner, self.clock, self.name = inner, clock, inner.name

    def start(self, scenario: Scenario, *, seed: int):  # noqa: ANN201
        session = self.inner.start(scenario, seed=seed)
        clock = self.clock

        class Session:
            @property
            def emotion(self) -> float:
                return session.emotion

            async def respond(self, text: str, codes: CodedUtterance) -> UserReply:
                t0 = time.perf_counter()
                try:
                    return await session.respond(text, codes)
                finally:
                    clock.seconds["user"] += time.perf_counter() - t0

        return Session()


# ----------------------------------------------------------------------------- 1. offline
def offline(n_dialogues: int, repeats: int = 1) -> list[dict]:
    """Best of ``repeats`` runs per policy (other jobs share this machine's CPUs)."""
    runs = [_offline(n_dialogues) for _ in range(repeats)]
    return [max(rows, key=lambda r: r["dialogues_per_s"]) for rows in zip(*runs, strict=True)]


def _offline(n_dialogues: int) -> list[dict]:
    bank = select_suite(load_scenarios(), "all")
    epochs = max(1, -(-n_dialogues // len(bank)))
    specs = plan_dialogues(bank, epochs=epochs, seed=0)[:n_dialogues]
    coder = load_coder("local")
    rows = []
    for name in ("solver", "reflector", "asker"):
        clock = Clock()
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            convs = asyncio.run(
                run_rollouts(
                    specs,
                    policy=TimedBackend(scripted_policy(name), clock, "policy"),
                    user=TimedUser(StructuralUser(), clock),
                    coder=TimedCoder(coder, clock),
                    settings=RolloutSettings(max_connections=4),
                    out_path=Path(tmp) / "conversations.jsonl",
                    progress=False,
                )
            )
            wall = time.perf_counter() - t0
        turns = sum(len(c.assistant_turns()) for c in convs)
        engine = wall - sum(clock.seconds.values())
        rows.append(
            {
                "policy": f"scripted:{name}",
                "dialogues": len(convs),
                "turns": turns,
                "wall_s": wall,
                "dialogues_per_s": len(convs) / wall,
                "share": {k: v / wall for k, v in clock.seconds.items()}
                | {"engine": engine / wall},
                "errors": sum(c.error is not None for c in convs),
            }
        )
    return rows


# ----------------------------------------------------------------------------- 2. server
def start_server() -> tuple[subprocess.Popen, str]:
    from attunement.backends import embedded_gguf_path

    sock = __import__("socket").socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    url = f"http://127.0.0.1:{port}/v1"
    cmd = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_gguf_path()),
        "--model_alias", "smollm2", "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "2048",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("llama.cpp server did not start")


def server_runs(
    url: str, n: int, connections: Sequence[int], max_turns: int, max_tokens: int
) -> tuple[list[dict], list[dict]]:
    from attunement.backends import load_backend

    core = select_suite(load_scenarios(), "core")
    coder = load_coder("local")
    rows, costs = [], []
    for conns in connections:
        specs = plan_dialogues(core, seed=conns, limit=n, max_turns=max_turns)
        clock = Clock()
        policy = TimedBackend(
            load_backend(f"openai:smollm2@{url}", cache=False, max_connections=conns, timeout=300),
            clock,
            "policy",
        )
        t0 = time.perf_counter()
        convs = asyncio.run(_run(specs, policy, StructuralUser(), coder, conns, max_tokens))
        wall = time.perf_counter() - t0
        rows.append(
            {
                "connections": conns,
                "dialogues": len(convs),
                "wall_s": wall,
                "per_min": 60 * len(convs) / wall,
                "errors": sum(c.error is not None for c in convs),
            }
        )
        if conns == connections[0]:
            costs.append(_cost("local model + structural user", convs, clock))
    # The LLM user (the same small model plays the user): calls, tokens and characters.
    clock = Clock()
    policy = TimedBackend(scripted_policy("reflector"), clock, "policy")
    user_backend = TimedBackend(
        load_backend(f"openai:smollm2@{url}", cache=False, timeout=300), clock, "user"
    )
    specs = plan_dialogues(core, seed=1, limit=max(2, n // 4), max_turns=max_turns)
    convs = asyncio.run(_run(specs, policy, LLMUser(user_backend), coder, 1, max_tokens))
    costs.append(_cost("scripted policy + LLM user (135M)", convs, clock))
    return rows, costs


async def _run(specs, policy, user, coder, conns, max_tokens):  # noqa: ANN001, ANN202
    try:
        return await run_rollouts(
            specs,
            policy=policy,
            user=user,
            coder=coder,
            settings=RolloutSettings(
                max_connections=conns,
                max_tokens=max_tokens,
                temperature=0.7,
                turn_timeout=600,
                dialogue_timeout=3600,
            ),
            progress=False,
        )
    finally:
        await policy.aclose()
        backend = getattr(user, "backend", None)
        if backend is not None:
            await backend.aclose()


def _cost(label: str, convs: list, clock: Clock) -> dict:
    usage = usage_summary(convs)
    n = max(len(convs), 1)
    return {
        "setup": label,
        "policy_calls": usage["policy_calls_per_dialogue"],
        "policy_tokens": usage["policy_prompt_tokens_per_dialogue"]
        + usage["policy_completion_tokens_per_dialogue"],
        "policy_chars_in": clock.chars["policy"] / n,
        "user_calls": usage["user_calls_per_dialogue"],
        "user_tokens": usage["user_prompt_tokens_per_dialogue"]
        + usage["user_completion_tokens_per_dialogue"],
        "user_chars_in": clock.chars["user"] / n,
        "failed_user_turns": sum(1 for c in convs for t in c.turns if t.error) / n,
    }


# ----------------------------------------------------------------------------- output
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialogues", type=int, default=2000, help="offline dialogues per policy")
    parser.add_argument("--server-dialogues", type=int, default=8)
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--max-turns", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2, help="offline: best of N runs")
    parser.add_argument("--skip-server", action="store_true")
    args = parser.parse_args()

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(
        f"\n## Offline: structural user + local coder + scripted policy (best of {args.repeats})\n"
    )
    print(
        "| policy | dialogues | turns | wall s | dialogues/s | policy | coder | user | engine+I/O |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in offline(args.dialogues, args.repeats):
        s = r["share"]
        print(
            f"| {r['policy']} | {r['dialogues']} | {r['turns']} | {r['wall_s']:.2f} | "
            f"**{r['dialogues_per_s']:.0f}** | {s['policy']:.0%} | {s['coder']:.0%} | "
            f"{s['user']:.0%} | {s['engine']:.0%} |"
        )
    if args.skip_server:
        return
    proc, url = start_server()
    try:
        rows, costs = server_runs(
            url, args.server_dialogues, args.connections, args.max_turns, args.max_tokens
        )
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    print(
        f"\n## llama.cpp server, embedded SmolLM2-135M (max {args.max_turns} turns, "
        f"{args.max_tokens} tokens per reply)\n"
    )
    print("| connections | dialogues | wall s | dialogues/min | failed |")
    print("|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['connections']} | {r['dialogues']} | {r['wall_s']:.1f} | "
            f"{r['per_min']:.1f} | {r['errors']} |"
        )
    print("\n## Cost per dialogue\n")
    print(
        "| setup | policy calls | policy tokens | user calls | user tokens | "
        "user input chars | failed user turns |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    print("| structural user (any policy) | - | - | 0 | 0 | 0 | 0 |")
    for c in costs:
        print(
            f"| {c['setup']} | {c['policy_calls']:.1f} | {c['policy_tokens']:.0f} | "
            f"{c['user_calls']:.1f} | {c['user_tokens']:.0f} | {c['user_chars_in']:.0f} | "
            f"{c['failed_user_turns']:.1f} |"
        )
    print(f"| SAGE (reported) | - | - | ~{SAGE_CALLS} | - | ~{SAGE_CHARS:,} | - |")


if __name__ == "__main__":
    main()
