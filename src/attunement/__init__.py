"""attunement: measure, explain and train proactive emotional attunement in LLM dialogue agents."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("attunement")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
