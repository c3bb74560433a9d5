"""Model specs: the accepted forms parse; anything else is one line listing them."""

from __future__ import annotations

from pathlib import Path

import pytest

from attunement.backends import (
    SPEC_FORMS,
    CachedBackend,
    ChatBackend,
    LlamaCppBackend,
    OpenAICompatBackend,
    load_backend,
    parse_spec,
)
from attunement.errors import ConfigError, SpecError


def test_accepted_forms():
    assert parse_spec("local").kind == "local"
    s = parse_spec("llamacpp:/models/x.gguf")
    assert (s.kind, s.path) == ("llamacpp", Path("/models/x.gguf"))
    assert s.spec == "llamacpp:/models/x.gguf"
    s = parse_spec("openai:gpt-4o-mini")
    assert (s.kind, s.model, s.base_url) == ("openai", "gpt-4o-mini", None)
    s = parse_spec("openai:Qwen/Qwen2.5-7B-Instruct@http://10.0.0.5:8000/v1")
    assert s.model == "Qwen/Qwen2.5-7B-Instruct" and s.base_url == "http://10.0.0.5:8000/v1"
    assert parse_spec("  scripted:mirror ").model == "mirror"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "gpt-4",
        "openai:",
        "openai:m@ftp://h",
        "openai:m@",
        "llamacpp:",
        "hf",
        "foo:bar",
        "scripted:",
        "openai:a b",
    ],
)
def test_bad_specs_give_one_line_listing_the_forms(bad):
    with pytest.raises(SpecError) as info:
        parse_spec(bad)
    message = str(info.value)
    assert "\n" not in message and SPEC_FORMS in message


def test_credentials_in_url_are_kept_out_of_the_name(monkeypatch, tmp_path):
    monkeypatch.delenv("ATTUNE_API_KEY", raising=False)
    s = parse_spec("openai:m@http://bob:hunter2@127.0.0.1:9/v1")
    assert "hunter2" not in s.spec and "hunter2" not in repr(s)
    backend = load_backend("openai:m@http://bob:hunter2@127.0.0.1:9/v1", cache_dir=tmp_path)
    assert "hunter2" not in backend.name and "hunter2" not in backend.inner.endpoint


def test_openai_needs_its_key(monkeypatch, tmp_path):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        load_backend("openai:gpt-4o-mini", cache_dir=tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-abc")
    backend = load_backend("openai:gpt-4o-mini", cache=False)
    assert isinstance(backend, OpenAICompatBackend) and isinstance(backend, ChatBackend)
    assert backend.base_url == "https://api.openai.com/v1" and backend.name == "openai:gpt-4o-mini"


def test_compatible_server_key_order(monkeypatch):
    from attunement.backends.spec import _api_key

    s = parse_spec("openai:m@http://127.0.0.1:1/v1")
    monkeypatch.delenv("ATTUNE_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert _api_key(s) == "not-needed"
    monkeypatch.setenv("OPENAI_API_KEY", "o")
    assert _api_key(s) == "o"
    monkeypatch.setenv("ATTUNE_API_KEY", "a")
    assert _api_key(s) == "a"


def test_load_backend_wraps_in_cache_unless_disabled(tmp_path, embedded_gguf):
    pytest.importorskip("llama_cpp")
    cached = load_backend("local", cache_dir=tmp_path)
    assert isinstance(cached, CachedBackend) and cached.name == "local"
    assert isinstance(cached, ChatBackend) and isinstance(cached.inner, ChatBackend)
    assert isinstance(cached.inner, LlamaCppBackend)
    plain = load_backend(f"llamacpp:{embedded_gguf}", cache=False)
    assert isinstance(plain, LlamaCppBackend) and plain.name == f"llamacpp:{embedded_gguf}"


def test_missing_gguf_is_a_config_error(tmp_path):
    pytest.importorskip("llama_cpp")
    with pytest.raises(ConfigError, match="no GGUF file"):
        load_backend(f"llamacpp:{tmp_path / 'nope.gguf'}")


def test_scripted_specs_go_to_the_scripted_policies_uncached(tmp_path):
    pytest.importorskip("attunement.simulate.policies")
    backend = load_backend("scripted:solver", cache_dir=tmp_path)
    assert not isinstance(backend, CachedBackend) and backend.name == "scripted:solver"
    assert not (tmp_path / "responses.sqlite").exists()
    with pytest.raises(SpecError):
        load_backend("scripted:no-such-policy")
