"""The top: text commands through the cache."""
from wit_world import exports
from wit_world.imports import cache


class Handler(exports.Handler):
    def handle(self, command: str) -> str:
        match command.split():
            case ["set", key, value]:
                cache.set(key, value)
                return "ok"
            case ["get", key]:
                value = cache.get(key)
                return "none" if value is None else value
            case ["hits"]:
                return str(cache.hits())
            case _:
                return "error: usage: set K V | get K | hits"
