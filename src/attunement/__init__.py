"""attunement: measure, explain and train proactive emotional attunement in LLM dialogue agents."""

# The one place the version is written (pyproject.toml reads it from here): a literal, not
# importlib.metadata, which costs every `attune` run ~0.1 s of imports.
__version__ = "0.1.0"

__all__ = ["__version__"]
