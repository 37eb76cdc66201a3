"""The networking core: trio only, never Textual or Rich, so it runs and tests on its own."""

from workbench.core.engine import Engine
from workbench.core.errors import BadArgument, Explanation, NetworkError, parse_endpoint
from workbench.core.hub import EventBatcher, Hub

__all__ = [
    "BadArgument",
    "Engine",
    "EventBatcher",
    "Explanation",
    "Hub",
    "NetworkError",
    "parse_endpoint",
]
