"""Converting imported documents to an article's Markdown: HTML with the standard library's
html.parser, reStructuredText with docutils (to HTML, then the same converter).

Each converter returns ``(title, body)``: the title is the document's first heading (None when it
has none), and the body no longer starts with that heading.
"""

from __future__ import annotations

import io
import re
from html import unescape as html_unescape
from html.parser import HTMLParser

from docutils import nodes
from docutils.core import publish_parts
from docutils.parsers.rst import Directive, directives, roles

BLOCKS = {"p", "div", "section", "article", "header", "footer", "main", "aside", "figure",
          "figcaption", "dl", "dt", "dd", "address", "details", "summary", "form", "fieldset"}
# page chrome and code, not content
SKIPPED = {"script", "style", "noscript", "template", "head", "svg", "button", "select", "textarea", "nav"}
HEADINGS = {f"h{n}": n for n in range(1, 7)}
SPACE_RE = re.compile(r"\s+")


class _MarkdownWriter(HTMLParser):
    """Walks HTML once, collecting Markdown blocks. Tolerant: unknown tags keep their text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.buf: list[str] = []
        self.skip = 0
        self.pre: list[str] | None = None
        self.lists: list[list] = []      # [kind, next number]
        self.quote = 0
        self.heading: int | None = None
        self.item_prefix: str | None = None
        self.links: list[tuple[int, str | None]] = []
        self.spans: list[bool] = []      # per open span: is it inline code?
        self.table: list[list[str]] | None = None
        self.row: list[str] | None = None
        self.html_title: list[str] | None = None
        self.page_title = ""
        self.first_heading: str | None = None
        self.first_heading_block: int | None = None
        self.prev_item = False

    # --- blocks ---------------------------------------------------------------------------------
    def _text(self) -> str:
        text = "".join(self.buf)
        self.buf = []
        lines = [SPACE_RE.sub(" ", line).strip() for line in text.split("\n")]
        return "\n".join(line for line in lines if line)

    def flush(self) -> None:
        text = self._text()
        if not text:
            return
        if self.row is not None:  # inside a table cell: the cell collects it
            self.row.append(text.replace("\n", " ").replace("|", "\\|"))
            return
        if self.heading:
            text = text.replace("\n", " ")
            if self.first_heading is None:
                self.first_heading, self.first_heading_block = text, len(self.blocks)
            text = "#" * self.heading + " " + text
        elif self.item_prefix is not None:
            indent = "  " * (len(self.lists) - 1)
            text = indent + self.item_prefix + text.replace("\n", "\n" + indent + "  ")
            self.item_prefix = None
            self.emit(text, tight=self.prev_item)
            self.prev_item = True
            return
        elif self.lists:  # a further paragraph of a list item
            indent = "  " * len(self.lists)
            text = indent + text.replace("\n", "\n" + indent)
        self.emit(text)

    def emit(self, text: str, tight: bool = False) -> None:
        if self.quote:
            text = "\n".join("> " * self.quote + line for line in text.split("\n"))
        self.blocks.append(("\n" if tight else "\n\n") + text)
        self.prev_item = False

    # --- parser callbacks -------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs) -> None:
        attrs = dict(attrs)
        if tag == "title":
            self.html_title = []
            return
        if tag in SKIPPED:
            self.skip += 1
            return
        if self.skip:
            return
        if self.pre is not None:
            return
        if tag in BLOCKS or tag in HEADINGS or tag in ("li", "blockquote", "ul", "ol", "table", "tr", "hr"):
            self.flush()
        if tag in HEADINGS:
            self.heading = HEADINGS[tag]
        elif tag == "pre":
            self.flush()
            self.pre = []
        elif tag in ("ul", "ol"):
            self.lists.append([tag, 1])
        elif tag == "li":
            kind, number = self.lists[-1] if self.lists else ("ul", 1)
            self.item_prefix = f"{number}. " if kind == "ol" else "- "
            if self.lists:
                self.lists[-1][1] += 1
        elif tag == "blockquote":
            self.quote += 1
        elif tag == "dt":
            self.buf.append("**")
        elif tag == "hr":
            self.emit("---")
        elif tag == "br":
            self.buf.append("\n")
        elif tag in ("strong", "b"):
            self.buf.append("**")
        elif tag in ("em", "i", "cite"):
            self.buf.append("*")
        elif tag in ("code", "kbd", "samp", "tt"):
            self.buf.append("`")
        elif tag == "span":
            code = "literal" in (attrs.get("class") or "").split()
            self.spans.append(code)
            if code:
                self.buf.append("`")
        elif tag == "a":
            href = attrs.get("href")
            if "headerlink" in (attrs.get("class") or ""):
                self.skip += 1
                self.links.append((-1, None))
                return
            self.links.append((len(self.buf), href))
        elif tag == "img":
            alt = (attrs.get("alt") or "").replace("]", "")
            if attrs.get("src"):
                self.buf.append(f"![{alt}]({attrs['src']})")
        elif tag == "table":
            self.table = []
        elif tag == "tr" and self.table is not None:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.buf = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self.html_title is not None:
            self.page_title = SPACE_RE.sub(" ", "".join(self.html_title)).strip()
            self.html_title = None
            return
        if tag in SKIPPED:
            self.skip = max(0, self.skip - 1)
            return
        if tag == "a" and self.links and self.links[-1][0] == -1:
            self.links.pop()
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        if self.pre is not None:
            if tag == "pre":
                code = "".join(self.pre).strip("\n")
                self.pre = None
                if code.strip():
                    self.emit("```\n" + code + "\n```")
            return
        if tag in HEADINGS:
            self.flush()
            self.heading = None
        elif tag in ("strong", "b"):
            self.buf.append("**")
        elif tag in ("em", "i", "cite"):
            self.buf.append("*")
        elif tag in ("code", "kbd", "samp", "tt"):
            self.buf.append("`")
        elif tag == "span":
            if self.spans and self.spans.pop():
                self.buf.append("`")
        elif tag == "a" and self.links:
            start, href = self.links.pop()
            text = "".join(self.buf[start:]).strip()
            if href and text and not href.startswith(("#", "javascript:")):
                self.buf[start:] = [f"[{text}]({href})"]
        elif tag == "dt":
            self.buf.append("**")
            self.flush()
        elif tag in ("td", "th") and self.row is not None:
            self.row.append(self._text().replace("\n", " ").replace("|", "\\|"))
        elif tag == "tr" and self.table is not None and self.row is not None:
            self.table.append(self.row)
            self.row = None
        elif tag == "table" and self.table is not None:
            rows, self.table = self.table, None
            if rows:
                self.emit(_markdown_table(rows))
        elif tag in ("ul", "ol"):
            self.flush()
            if self.lists:
                self.lists.pop()
        elif tag == "blockquote":
            self.flush()
            self.quote = max(0, self.quote - 1)
        elif tag in BLOCKS or tag == "li":
            self.flush()

    def handle_data(self, data: str) -> None:
        if self.html_title is not None:
            self.html_title.append(data)
        elif self.skip:
            return
        elif self.pre is not None:
            self.pre.append(data)
        else:
            self.buf.append(SPACE_RE.sub(" ", data))

    def markdown(self) -> str:
        self.flush()
        return "".join(self.blocks).strip() + "\n"


def _markdown_table(rows: list[list[str]]) -> str:
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * width]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(lines)


def html_to_markdown(html: str, strip_title: bool = True) -> tuple[str | None, str]:
    """(title, Markdown body): the title is the first heading, else the page's <title>."""
    writer = _MarkdownWriter()
    writer.feed(html)
    writer.close()
    if strip_title and writer.first_heading is not None and writer.first_heading_block == 0:
        writer.blocks.pop(0)  # the title is the article's title, not its first line
    body = writer.markdown()
    return writer.first_heading or writer.page_title or None, body


# --- reStructuredText ---------------------------------------------------------------------------

# Sphinx directives that only steer the build: dropped.
HIDDEN_DIRECTIVES = {"toctree", "index", "highlight", "testsetup", "testcleanup", "sectionauthor",
                     "moduleauthor", "tabularcolumns", "currentmodule", "default-role", "autosummary",
                     "audit-event-table", "limited-api-list", "c:namespace", "py:currentmodule"}
CODE_DIRECTIVES = {"code-block", "sourcecode", "doctest", "testcode", "testoutput", "productionlist",
                   "literalinclude"}
DIRECTIVE_RE = re.compile(r"^\s*\.\.\s+([A-Za-z][\w:.+-]*)::", re.MULTILINE)
ROLE_RE = re.compile(r":([A-Za-z][\w.+-]*(?::[\w.+-]+)?):`")
ROLE_TEXT_RE = re.compile(r"^(.*?)\s*<[^<>]+>$", re.DOTALL)


class _AnyOptions(dict):
    """Accept every directive option (Sphinx's :noindex:, :linenos: ...) as plain text."""

    def __contains__(self, key) -> bool:
        return True

    def __missing__(self, key):
        return directives.unchanged


class _SphinxDirective(Directive):
    """A directive docutils does not know (function::, versionadded::, code-block:: ...): keep its
    argument as a line and its content as nested text (or a code block)."""

    optional_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec = _AnyOptions(name=directives.unchanged)  # not empty: docutils skips options then

    def run(self):
        name = self.name.split(":")[-1]
        if self.name in HIDDEN_DIRECTIVES or name in HIDDEN_DIRECTIVES:
            return []
        if name in CODE_DIRECTIVES:
            text = "\n".join(self.content) or (self.arguments[0] if self.arguments else "")
            return [nodes.literal_block(text, text)] if text.strip() else []
        out = []
        if self.arguments:
            line = nodes.paragraph()
            line += nodes.strong(text=name)
            line += nodes.Text(" ")
            line += nodes.literal(text=self.arguments[0])
            out.append(line)
        if self.content:
            box = nodes.container()
            self.state.nested_parse(self.content, self.content_offset, box)
            out.append(box)
        return out


def _sphinx_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    shown = text.lstrip("~!")
    match = ROLE_TEXT_RE.match(shown)
    if match and match.group(1):
        shown = match.group(1)
    elif text.startswith("~"):
        shown = shown.rsplit(".", 1)[-1]
    if name.split(":")[-1] in ("ref", "doc", "term", "abbr", "pep", "rfc", "dfn", "title"):
        return [nodes.emphasis(rawtext, shown)], []
    return [nodes.literal(rawtext, shown)], []


def _register_unknown_names(text: str) -> None:
    """Teach docutils the Sphinx directives and roles this text uses, so their content is kept."""
    for name in set(DIRECTIVE_RE.findall(text)):
        if directives._directives.get(name) is None and name not in directives._directive_registry:
            directives.register_directive(name, _SphinxDirective)
    for name in set(ROLE_RE.findall(text)):
        if name not in roles._roles and name not in roles._role_registry:
            roles.register_local_role(name, _sphinx_role)


RST_SETTINGS = {
    "report_level": 5, "halt_level": 5, "file_insertion_enabled": False, "raw_enabled": False,
    "syntax_highlight": "none", "doctitle_xform": True, "input_encoding": "unicode",
    "_disable_config": True, "embed_stylesheet": False, "math_output": "MathML",
}


def rst_to_markdown(text: str) -> tuple[str | None, str]:
    _register_unknown_names(text)
    settings = {**RST_SETTINGS, "warning_stream": io.StringIO()}
    parts = publish_parts(source=text, writer="html5", settings_overrides=settings)
    title = SPACE_RE.sub(" ", html_unescape(_plain(parts.get("title", "")))).strip() or None
    heading, body = html_to_markdown(parts["body"], strip_title=title is None)
    return title or heading, body


def _plain(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


# --- Markdown -----------------------------------------------------------------------------------

ATX_RE = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
SETEXT_RE = re.compile(r"^(=+|-+)\s*$")


def markdown_title(text: str) -> tuple[str | None, str]:
    """The first heading of a Markdown text; it is cut from the body when it opens the text."""
    lines = text.replace("\r\n", "\n").split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None:
        match = ATX_RE.match(lines[first])
        if match:
            return match.group(1).strip(), "\n".join(lines[first + 1:]).strip("\n") + "\n"
        if first + 1 < len(lines) and SETEXT_RE.match(lines[first + 1]) and lines[first + 1].startswith("="):
            return lines[first].strip(), "\n".join(lines[first + 2:]).strip("\n") + "\n"
    in_fence = False
    for line in lines:
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        match = None if in_fence else ATX_RE.match(line)
        if match:
            return match.group(1).strip(), text
    return None, text
