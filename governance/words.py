"""A sentence the governance layer says, kept as a template and its values.

Governance cannot import ``node.i18n`` (layers point one way), so a reason keeps its
English template (marked with ``N_`` for the catalogs) and the values that fill it; the node
renders it in the reader's language (``node.reason_words``), and ``english`` is the text the
decision log, the JSON API and the tests keep. A value may itself be ``Words`` (a phrase
such as "the photo", or a reason quoted inside another), rendered the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from crypto.errors import N_

__all__ = ["N_", "Words"]


@dataclass(frozen=True)
class Words:
    template: str
    values: tuple[tuple[str, str | Words], ...] = ()

    @classmethod
    def of(cls, template: str, **values: str | int | Words) -> Words:
        return cls(
            template,
            tuple((name, v if isinstance(v, Words) else str(v)) for name, v in values.items()),
        )

    @property
    def english(self) -> str:
        return self.template.format(
            **{name: v.english if isinstance(v, Words) else v for name, v in self.values}
        )
