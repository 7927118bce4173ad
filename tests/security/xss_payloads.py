"""A corpus of cross-site scripting payloads: each one, if it ever ran, calls ``XSS(n)``.

``XSS(n)`` is spelled ``__xss(n)`` in the payloads: the browser test defines ``window.__xss`` to
record ``n`` (and watches ``alert``/``confirm``/``prompt`` dialogs and console output too), so a
payload that executes is caught and named. The list mixes raw HTML, Markdown tricks, URL schemes
with every obfuscation a sanitiser has been fooled by, attribute and tag breakouts (for places
that put text in attributes or scripts), mutation-XSS strings and template injection.
"""

from __future__ import annotations

MARK = "__xss"


def _payloads() -> list[str]:
    m = MARK
    return [
        # 1-8 script tags
        f"<script>{m}(1)</script>",
        f"<SCRIPT SRC=data:text/javascript,{m}(2)></SCRIPT>",
        f"<scr<script>ipt>{m}(3)</scr</script>ipt>",
        f"<script\x20type=\"text/javascript\">{m}(4);</script>",
        f"</title><script>{m}(5)</script>",
        f"</textarea><script>{m}(6)</script>",
        f"<script>/*</script><script>{m}(7)//*/</script>",
        f"';{m}(8);//",
        # 9-20 event handlers
        f"<img src=x onerror={m}(9)>",
        f"<img src=x onerror=\"{m}(10)\">",
        f"<body onload={m}(11)>",
        f"<div onmouseover=\"{m}(12)\" style=\"width:2000px;height:2000px\">hover</div>",
        f"<input autofocus onfocus={m}(13)>",
        f"<details open ontoggle={m}(14)>",
        f"<video><source onerror=\"{m}(15)\"></video>",
        f"<audio src=x onerror={m}(16)>",
        f"<marquee onstart={m}(17)>x</marquee>",
        f"<img src=x:x onerror&#x3d;{m}(18)>",
        f"<IMG SRC=\"x\" ONERROR=\"{m}(19)\">",
        f"<img/src/onerror={m}(20)>",
        # 21-32 javascript:, data:, vbscript: URLs (raw HTML and obfuscated)
        f"<a href=\"javascript:{m}(21)\">click 21</a>",
        f"<a href=\"jav&#x09;ascript:{m}(22)\">click 22</a>",
        f"<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;{m}(23)\">click 23</a>",
        f"<a href=\" &#14; javascript:{m}(24)\">click 24</a>",
        f"<a href=\"JaVaScRiPt:{m}(25)\">click 25</a>",
        "<a href=\"data:text/html;base64,PHNjcmlwdD5wYXJlbnQuX194c3MoMjYpPC9zY3JpcHQ+\">click 26</a>",
        f"<a href=\"vbscript:{m}(27)\">click 27</a>",
        f"<iframe src=\"javascript:parent.{m}(28)\"></iframe>",
        f"<form action=\"javascript:{m}(29)\"><button>go 29</button></form>",
        f"<object data=\"javascript:{m}(30)\"></object>",
        f"<embed src=\"javascript:{m}(31)\">",
        f"<a href=\"java\tscript:{m}(32)\">click 32</a>",
        # 33-40 SVG and MathML
        f"<svg onload={m}(33)>",
        f"<svg><script>{m}(34)</script></svg>",
        f"<svg><animate onbegin={m}(35) attributeName=x dur=1s>",
        f"<svg><a xlink:href=\"javascript:{m}(36)\"><text x=20 y=20>click 36</text></a></svg>",
        f"<svg><use href=\"data:image/svg+xml,<svg id='x' xmlns='http://www.w3.org/2000/svg'><image href='1' onerror='{m}(37)'/></svg>#x\"/></svg>",
        f"<math><mtext><table><mglyph><style><img src=x onerror={m}(38)>",
        f"<math href=\"javascript:{m}(39)\">click 39</math>",
        f"<svg><set attributeName=onmouseover to={m}(40)>",
        # 41-44 srcdoc iframes, style and expression()
        f"<iframe srcdoc=\"<script>parent.{m}(41)</script>\"></iframe>",
        f"<iframe srcdoc=\"&lt;img src=x onerror=parent.{m}(42)&gt;\"></iframe>",
        f"<div style=\"background:url(javascript:{m}(43))\">style 43</div>",
        f"<div style=\"width:expression({m}(44))\">style 44</div>",
        # 45-56 Markdown link, image and autolink tricks
        f"[click 45](javascript:{m}(45))",
        f"[click 46](JaVaScRiPt:{m}(46))",
        f"[click 47](&#106;avascript:{m}(47))",
        f"[click 48](javascript&colon;{m}(48))",
        f"[click 49]( javascript:{m}(49) )",
        f"![img 50](javascript:{m}(50))",
        f"![img 51](x \"onerror={m}(51)\")",
        f"<javascript:{m}(52)>",
        "[click 53](data:text/html;base64,PHNjcmlwdD5wYXJlbnQuX194c3MoNTMpPC9zY3JpcHQ+)",
        f"[click 54](vbscript:{m}(54))",
        f"[click 55][ref55]\n\n[ref55]: javascript:{m}(55)",
        f"[a](https://example.com\"onmouseover=\"{m}(56))",
        # 57-62 attribute breakouts and tag-closing
        f"\"><img src=x onerror={m}(57)>",
        f"'><svg onload={m}(58)>",
        f"\" autofocus onfocus=\"{m}(59)",
        f"' onmouseover='{m}(60)' x='",
        f"</a><img src=x onerror={m}(61)>",
        f"</p></div></main><img src=x onerror={m}(62)>",
        # 63-68 HTML entities, mutation XSS, comments and CDATA
        f"&lt;img src=x onerror={m}(63)&gt;",
        f"<noscript><p title=\"</noscript><img src=x onerror={m}(64)>\">",
        f"<!--<img src=\"--><img src=x onerror={m}(65)//\">",
        f"<![CDATA[><img src=x onerror={m}(66)>]]>",
        f"<listing>&lt;img src=x onerror={m}(67)&gt;</listing>",
        f"<style><img src=\"</style><img src=x onerror={m}(68)//\">",
        # 69-74 template injection and markup that reaches scripts
        "{{7*7}} {{constructor.constructor('" + m + "(69)')()}}",
        "{% raw %}{{ config }}{% endraw %} ${" + m + "(70)}",
        f"<base href=\"javascript:{m}(71)//\"><a href=\"x\">click 71</a>",
        f"<meta http-equiv=\"refresh\" content=\"0;url=javascript:{m}(72)\">",
        f"<link rel=import href=\"data:text/html,<script>{m}(73)</script>\">",
        f"<template><img src=x onerror={m}(74)></template>",
    ]


PAYLOADS: list[str] = _payloads()
assert len(PAYLOADS) >= 50 and all(MARK in p or "base64," in p for p in PAYLOADS)  # base64 hides it


def batches(size: int) -> list[list[str]]:
    """The corpus cut into ``size`` payloads per object (each object's text stays small)."""
    return [PAYLOADS[i:i + size] for i in range(0, len(PAYLOADS), size)]
