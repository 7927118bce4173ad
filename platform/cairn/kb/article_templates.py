"""Templates for new articles (how-to, troubleshooting, FAQ, reference): Markdown files in
config/templates/ (or the folder named by the ``article_templates_dir`` setting).

Each file is ``<key>.md`` and may start with a small header of ``name: value`` lines between
``---`` lines (``label``, ``description``); the rest is the body that prefills a new article.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from cairn.config import CONFIG_DIR
from cairn.errors import NotFound


@dataclass(frozen=True)
class ArticleTemplate:
    key: str
    label: str
    description: str
    body: str

    def as_dict(self) -> dict[str, str]:
        return {"key": self.key, "label": self.label, "description": self.description, "body": self.body}


def templates_dir() -> Path:
    configured = current_app.config["CAIRN"].get("article_templates_dir")
    return Path(configured) if configured else CONFIG_DIR / "templates"


def parse_template(key: str, text: str) -> ArticleTemplate:
    meta: dict[str, str] = {}
    text = text.replace("\r\n", "\n")
    if text.startswith("---\n") and "\n---\n" in text[4:]:
        header, text = text[4:].split("\n---\n", 1)
        for line in header.splitlines():
            name, sep, value = line.partition(":")
            if sep:
                meta[name.strip().lower()] = value.strip()
    label = meta.get("label") or key.replace("-", " ").replace("_", " ").capitalize()
    return ArticleTemplate(key, label, meta.get("description", ""), text.lstrip("\n"))


def list_templates() -> list[ArticleTemplate]:
    folder = templates_dir()
    if not folder.is_dir():
        return []
    return [parse_template(path.stem, path.read_text(encoding="utf-8"))
            for path in sorted(folder.glob("*.md")) if path.is_file()]


def get_template(key: str) -> ArticleTemplate:
    for template in list_templates():
        if template.key == key:
            return template
    raise NotFound("No such article template.")
