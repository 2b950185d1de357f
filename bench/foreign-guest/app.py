import wit_world
from wit_world.imports import types


class WitWorld(wit_world.WitWorld):
    def transform(self, input: types.SomeDataStruct) -> types.SomeDataStruct:
        return types.SomeDataStruct(name=input.name, names=list(input.names) + ["new name"])

    def button_text(self, status: str) -> str:
        s = status.lower() if status.isascii() else "".join(c.lower() if c.isascii() else c for c in status)
        return {"pending": "edit", "done": "delete"}.get(s, "an error has occurred")
