"""Messages that domain code returns to be shown in the reader's language (no catalogue here).

The msgid is the Chinese source text; the catalogue (``qunlian.platform.i18n``) translates it where it
is shown. ``N_`` marks a literal for ``pybabel extract`` and returns it unchanged; ``Message`` keeps a
msgid with its parameters and *is* the Chinese text, so code, tests and JSON that treat it as a str
see exactly the source text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

Gettext = Callable[[str], str]


def N_(message: str) -> str:
    """Mark ``message`` as a msgid for extraction; translated later, where it is shown."""
    return message


def _same(message: str) -> str:
    return message


def _fill(template: str, params: dict[str, Any], gettext: Gettext) -> str:
    if not params:
        return template
    return template % {k: v.render(gettext) if isinstance(v, Message) else v for k, v in params.items()}


class Message(str):
    """A msgid (Chinese, ``%(name)s`` placeholders when it has parameters) with its parameters.

    ``str(m)`` is the Chinese text; ``m.render(gettext)`` the text through a catalogue (parameters
    that are Messages are rendered through it too). Immutable, picklable, equal to its Chinese text.
    """

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, /, **params: Any) -> Message:
        self = super().__new__(cls, _fill(msgid, params, _same))
        self.msgid = msgid
        self.params = params
        return self

    def render(self, gettext: Gettext) -> str:
        return _fill(gettext(self.msgid), self.params, gettext)

    def __reduce__(self):
        return _rebuild, (type(self), self.msgid, self.params)

    def __copy__(self) -> Message:
        return self

    def __deepcopy__(self, memo: dict) -> Message:
        return self


class Joined(Message):
    """Parts joined by a separator that is itself a msgid ("；" reads "; " in English)."""

    parts: tuple[str, ...]

    def __new__(cls, separator: str, parts: Iterable[str]) -> Joined:
        parts = tuple(parts)
        self = str.__new__(cls, separator.join(parts))
        self.msgid, self.params, self.parts = separator, {}, parts
        return self

    def render(self, gettext: Gettext) -> str:
        return gettext(self.msgid).join(p.render(gettext) if isinstance(p, Message) else p for p in self.parts)

    def __reduce__(self):
        return Joined, (self.msgid, self.parts)


def _rebuild(cls: type[Message], msgid: str, params: dict[str, Any]) -> Message:
    return cls(msgid, **params)
