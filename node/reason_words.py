"""A governance reason in the reader's language.

Governance keeps each reason as an English template and its values
(:class:`governance.words.Words`); here, where a person reads it (``policy explain``, the
web policy and lesson pages), the template goes through the catalog and is filled. JSON
answers keep the English ``text``. Values that are names (peers, regions, tags, people)
stay as they are; a value that is itself ``Words`` is translated the same way.
"""

from __future__ import annotations

from typing import Protocol

from governance.attachment_consent import AttachmentDecision
from governance.words import Words
from node.i18n import _


class SaysWhy(Protocol):
    @property
    def text(self) -> str: ...

    @property
    def words(self) -> Words | None: ...


def say_words(words: Words) -> str:
    values = {name: say_words(v) if isinstance(v, Words) else v for name, v in words.values}
    return _(words.template).format(**values)


def say_reason(reason: SaysWhy) -> str:
    """The reason in the current language (its English text when it has no template)."""
    return reason.text if reason.words is None else say_words(reason.words)


def say_attachment_decision(item: AttachmentDecision) -> str:
    """:attr:`AttachmentDecision.words` in the current language."""
    if item.allowed:
        return say_reason(item.reasons[0])
    return "; ".join(say_reason(reason) for reason in item.reasons if not reason.allows)
