"""Slack's message markup ("mrkdwn") and emoji names, turned into Cairn's Markdown and emoji.

Slack stores ``<@U123>`` for mentions, ``<#C123|name>`` for channels, ``<https://x|label>`` for
links, ``*bold*`` and ``~strike~``, and escapes ``&``, ``<`` and ``>`` as entities.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from cairn.errors import Invalid
from cairn.stream.actions import check_emoji

TOKEN_RE = re.compile(r"<([^<>|\n]+)(?:\|([^<>\n]*))?>")
CODE_RE = re.compile(r"(```.*?```|`[^`\n]*`)", re.DOTALL)
BOLD_RE = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])")
STRIKE_RE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])")
HEADING_RE = re.compile(r"^( {0,3})(#{1,6})(?=\s|$)", re.MULTILINE)
MENTION_ID_RE = re.compile(r"<@([A-Z0-9]+)(?:\|[^<>]*)?>")

# Slack short names people use most, as Unicode; any other name is kept as a :short_code:
EMOJI = {
    "+1": "👍", "thumbsup": "👍", "-1": "👎", "thumbsdown": "👎", "tada": "🎉", "heart": "❤️",
    "eyes": "👀", "white_check_mark": "✅", "heavy_check_mark": "✔️", "joy": "😂", "laughing": "😆",
    "smile": "😄", "slightly_smiling_face": "🙂", "grinning": "😀", "wink": "😉", "rocket": "🚀",
    "fire": "🔥", "pray": "🙏", "clap": "👏", "raised_hands": "🙌", "ok_hand": "👌", "100": "💯",
    "thinking_face": "🤔", "cry": "😢", "sob": "😭", "rolling_on_the_floor_laughing": "🤣",
    "sweat_smile": "😅", "wave": "👋", "muscle": "💪", "star": "⭐", "sparkles": "✨", "bulb": "💡",
    "warning": "⚠️", "x": "❌", "question": "❓", "exclamation": "❗", "coffee": "☕", "sunglasses": "😎",
    "heart_eyes": "😍", "smiley": "😃", "blush": "😊", "open_mouth": "😮", "scream": "😱",
    "facepalm": "🤦", "shrug": "🤷", "see_no_evil": "🙈", "party_popper": "🎉", "partying_face": "🥳",
}


def emoji_for(slack_name: str) -> str | None:
    """A reaction's Slack name as Cairn stores it (Unicode, or the short code that
    ``check_emoji`` accepts), or None when Cairn cannot store it."""
    name = slack_name.split("::", 1)[0].strip(":").lower()  # "+1::skin-tone-3" -> "+1"
    if name in EMOJI:
        return EMOJI[name]
    try:
        return check_emoji(f":{name}:")
    except Invalid:
        return None


def mentioned_ids(text: str) -> set[str]:
    return set(MENTION_ID_RE.findall(text or ""))


def to_markdown(text: str, handles: Mapping[str, str], channels: Mapping[str, str]) -> str:
    """Slack message text -> Markdown source for ``render_markdown``.

    ``handles``: Slack user id -> Cairn @handle; ``channels``: Slack channel id -> Cairn name.
    """
    def token(m: re.Match[str]) -> str:
        target, label = m.group(1), m.group(2)
        if target.startswith("@"):
            return "@" + (handles.get(target[1:]) or (label or target[1:]).lstrip("@"))
        if target.startswith("#"):
            return "#" + (channels.get(target[1:]) or label or target[1:])
        if target.startswith("!"):
            special = target[1:].split("^", 1)[0]
            if special in ("here", "channel", "everyone"):
                return "@" + special
            return _unescape(label or "")  # <!subteam^S1|@team>, <!date^...|fallback>
        url = _unescape(target)
        if not label or _unescape(label) == url:
            return f"<{url}>" if re.match(r"^[a-zA-Z][\w+.-]*:[^\s<>]*$", url) else url
        return f"[{_escape_label(_unescape(label))}]({_escape_url(url)})"

    parts = CODE_RE.split(text or "")
    out = []
    for i, part in enumerate(parts):
        if i % 2:  # code: only the entities change
            out.append(_unescape(TOKEN_RE.sub(lambda m: m.group(2) or m.group(1), part)))
            continue
        part = TOKEN_RE.sub(token, part)
        part = BOLD_RE.sub(r"**\1**", part)
        part = STRIKE_RE.sub(r"~~\1~~", part)
        part = HEADING_RE.sub(r"\1\\\2", part)  # "# of people" is chat, not a heading
        out.append(_unescape(part))
    return "".join(out).strip()


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _escape_label(label: str) -> str:
    return re.sub(r"([\[\]\\])", r"\\\1", label)


def _escape_url(url: str) -> str:
    url = url.replace(" ", "%20").replace("<", "%3C").replace(">", "%3E")
    return f"<{url}>" if re.search(r"[()]", url) else url
