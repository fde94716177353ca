"""Helpers shared by the benchmarks: the machine's name, results as JSON, lesson corpora."""

from __future__ import annotations

import json
import os
import platform
import random
import ssl
from pathlib import Path
from typing import Any

from node.tls import certificate_path

RESULTS = Path(__file__).parent / "results"
_WORDS = [
    "facilitation",
    "safety",
    "consent",
    "training",
    "exchange",
    "debrief",
    "interpretation",
    "region",
    "hub",
    "comunicación",
    "sécurité",
    "formação",
    "checklist",
    "press",
    "legal",
    "cohort",
    "mentorship",
    "logistics",
    "accessibility",
    "translation",
    "nonviolent",
    "discipline",
    "documentation",
    "review",
    "commitment",
]


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }


def trusting(home: Path) -> ssl.SSLContext:
    """A client context that trusts the node at ``home`` by its own certificate, and only it
    (host names unchecked: the benchmarks reach it at 127.0.0.1)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=certificate_path(home))
    context.check_hostname = False
    # The certificate browsers get is issued by the node key, not by itself: trust it as is.
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


def write_result(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **result}, indent=2, ensure_ascii=False))
    return path


def lesson_text(index: int, body_bytes: int = 2000, seed: int = 0) -> str:
    """A realistic lesson file of about ``body_bytes`` of body."""
    rng = random.Random(seed * 1_000_003 + index)
    words: list[str] = []
    size = 0
    while size < body_bytes:
        word = rng.choice(_WORDS)
        words.append(word)
        size += len(word) + 1
    body = " ".join(words)
    tags = ", ".join(rng.sample(_WORDS[:10], 3))
    return (
        f"---\ntitle: Lesson {index} on {words[0]} and {words[1]}\nkind: checklist\n"
        f"summary: A generated lesson for benchmarks.\ntags: [{tags}]\n"
        "consent:\n  scope: federation\n---\n"
        f"# Lesson {index}\n\n{body}\n"
    )


def write_corpus(folder: Path, count: int, body_bytes: int = 2000) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        (folder / f"{index:07d}.md").write_text(lesson_text(index, body_bytes), encoding="utf-8")
    return folder
