"""The bottom of the stack: a dict."""
from wit_world import exports

_values: dict[str, str] = {}


class Store(exports.Store):
    def set(self, key: str, value: str) -> None:
        _values[key] = value

    def get(self, key: str) -> str | None:
        return _values.get(key)
