"""A corpus of cross-site scripting payloads (docs/reliability.md, section 13), written for this
repository (nothing is downloaded): the OWASP XSS filter evasion cheat sheet's kinds of trick,
Markdown link and image tricks, SVG, data:/javascript:/vbscript: URLs, bidi overrides, HTML in
names, attribute breakouts and template syntax.

Every payload that could run script calls `xss(N)`, N its index in PAYLOADS, or `alert(N)`:
tests/browser/test_xss.py defines both on the page (an init script), so a payload that runs is
named by the hit it records. A few use `confirm`/`prompt`, caught as dialogs.

Some families are generated: each way of hiding a scheme (entities, whitespace, case, control
characters) in each place a Markdown or HTML URL can stand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

JS = "xss({n})"  # replaced by the payload's own index


@dataclass(frozen=True)
class Payload:
    n: int
    family: str
    text: str


# OWASP filter-evasion style: tags and handlers, the way filters get fooled.
_HTML = [
    "<script>xss({n})</script>",
    "<SCRIPT>xss({n})</SCRIPT>",
    "<ScRiPt>xss({n})</sCrIpT>",
    "<script src=data:text/javascript,xss({n})></script>",
    "<script>/*</script><script>xss({n})//*/</script>",
    "<scr<script>ipt>xss({n})</scr</script>ipt>",
    "<<script>xss({n});//<</script>",
    "<script\x0c>xss({n})</script>",
    "<script/xss>xss({n})</script>",
    "<img src=x onerror=xss({n})>",
    "<IMG SRC=x ONERROR=xss({n})>",
    "<img src=x onerror=\"xss({n})\">",
    "<img src=x onerror='xss({n})'>",
    "<img src=x onerror=`xss({n})`>",
    "<img/src=x/onerror=xss({n})>",
    "<img src=x:alert(alt) onerror=eval(src) alt={n}>",
    "<img src=\"x\" onerror=\"&#120;&#115;&#115;&#40;{n}&#41;\">",
    "<img src=x onerror=\"&#x78;&#x73;&#x73;&#x28;{n}&#x29;\">",
    "<img src=x onerror=\\u0078ss({n})>",
    "<img src=javascript:xss({n})>",
    "<img dynsrc=javascript:xss({n})>",
    "<img lowsrc=javascript:xss({n})>",
    "<img \"\"\"><script>xss({n})</script>\">",
    "<img src=`x`onerror=xss({n})>",
    "<image src=x onerror=xss({n})>",
    "<body onload=xss({n})>",
    "<body onpageshow=xss({n})>",
    "<BODY BACKGROUND=\"javascript:xss({n})\">",
    "<iframe src=javascript:xss({n})></iframe>",
    "<iframe srcdoc=\"<script>parent.xss({n})</script>\"></iframe>",
    "<iframe src=\"data:text/html,<script>parent.xss({n})</script>\"></iframe>",
    "<object data=javascript:xss({n})></object>",
    "<object data=\"data:text/html,<script>xss({n})</script>\"></object>",
    "<embed src=javascript:xss({n})>",
    "<embed src=\"data:image/svg+xml,<svg onload=xss({n})>\">",
    "<details open ontoggle=xss({n})>",
    "<marquee onstart=xss({n})>x</marquee>",
    "<video><source onerror=xss({n})></video>",
    "<audio src=x onerror=xss({n})>",
    "<video src=x onerror=xss({n})></video>",
    "<input autofocus onfocus=xss({n})>",
    "<input type=image src=x onerror=xss({n})>",
    "<select autofocus onfocus=xss({n})></select>",
    "<textarea autofocus onfocus=xss({n})></textarea>",
    "<keygen autofocus onfocus=xss({n})>",
    "<button autofocus onfocus=xss({n})>b</button>",
    "<a href=javascript:xss({n}) autofocus onfocus=xss({n})>a</a>",
    "<div tabindex=0 autofocus onfocus=xss({n})>d</div>",
    "<div onmouseover=xss({n}) style=position:fixed;inset:0>cover</div>",
    "<div style=\"background:url(javascript:xss({n}))\">x</div>",
    "<div style=\"width:expression(xss({n}))\">x</div>",
    "<style>@import 'javascript:xss({n})';</style>",
    "<style>*{{background:url(\"javascript:xss({n})\")}}</style>",
    "<link rel=stylesheet href=javascript:xss({n})>",
    "<link rel=import href=data:text/html,<script>xss({n})</script>>",
    "<meta http-equiv=refresh content=\"0;url=javascript:xss({n})\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=data:text/html;base64,PHNjcmlwdD54c3MoMSk8L3NjcmlwdD4=\">",
    "<base href=javascript:xss({n})//>",
    "<form action=javascript:xss({n})><button>go</button></form>",
    "<form><button formaction=javascript:xss({n})>go</button></form>",
    "<isindex action=javascript:xss({n}) type=image>",
    "<table background=javascript:xss({n})>",
    "<td background=javascript:xss({n})>",
    "<frameset onload=xss({n})>",
    "<math><mtext><table><mglyph><style><img src=x onerror=xss({n})>",
    "<math href=javascript:xss({n})>click</math>",
    "<noscript><p title=\"</noscript><img src=x onerror=xss({n})>\">",
    "<template><script>xss({n})</script></template>",
    "<xmp><img src=x onerror=xss({n})></xmp>",
    "<noembed><img src=x onerror=xss({n})></noembed>",
    "<plaintext><img src=x onerror=xss({n})>",
    "<!--<img src=\"--><img src=x onerror=xss({n})//\">",
    "<![CDATA[><img src=x onerror=xss({n})>]]>",
    "<?xml version=\"1.0\"?><img src=x onerror=xss({n})>",
    "<a href=\"jav&#x09;ascript:xss({n})\">tab</a>",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;xss({n})\">dec</a>",
    "<a href=\"&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058xss({n})\">pad</a>",
    "<a href=\"&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A;xss({n})\">hex</a>",
    "<a href=\" &#14;  javascript:xss({n})\">lead</a>",
    "<a href=\"javascript&colon;xss({n})\">colon</a>",
    "<a href=\"javas\ncript:xss({n})\">nl</a>",
    "<a href=\"vbscript:msgbox({n})\">vb</a>",
    "<a href=\"livescript:xss({n})\">ls</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">b64</a>",
    "<a href=# onclick=xss({n})>click</a>",
    "<a href=# onmouseover=xss({n})>hover</a>",
    "<a id=x tabindex=1 onfocusin=xss({n})></a>",
    "<a href=\"https://example.org\" target=_self rel=opener>opener</a>",
    "<custom-el onpointerenter=xss({n})>c</custom-el>",
    "<x onclick=xss({n})>x</x>",
    "<svg><a xlink:href=javascript:xss({n})><text y=20>svg link</text></a></svg>",
    "<p style=\"animation-name:spin\" onanimationstart=xss({n})>anim</p>",
    "<p style=\"transition:color 1s\" ontransitionend=xss({n})>t</p>",
    "<img src=x onerror=xss({n})//",
    "<img src=x onerror=xss({n}) ",
    "\"><img src=x onerror=xss({n})>",
    "'><img src=x onerror=xss({n})>",
    "</p><img src=x onerror=xss({n})><p>",
    "<img src=\"x` `<script>xss({n})</script>\"` `>",
    "<img src= onerror=\"xss({n})\"",
    "<scRipt>window['xs'+'s']({n})</scRipt>",
    "<script>top['x'+'ss']({n})</script>",
    "<script>setTimeout('xss({n})')</script>",
    "<script>eval(atob('eHNzKDEp'))</script>",
    "<script>Function('xss({n})')()</script>",
    "<script>[].constructor.constructor('xss({n})')()</script>",
    "<script>confirm({n})</script>",
    "<script>prompt({n})</script>",
    "<img src=x onerror=alert({n})>",
    "<img src=x onerror=confirm({n})>",
    "<img src=x onerror=prompt({n})>",
    "<object type=text/x-scriptlet data=javascript:xss({n})></object>",
    "<applet code=javascript:xss({n})></applet>",
    "<bgsound src=javascript:xss({n})>",
    "<layer src=javascript:xss({n})></layer>",
    "<xss style=\"behavior:url(xss.htc)\">",
    "<!--[if gte IE 4]><script>xss({n})</script><![endif]-->",
    "<portal src=javascript:xss({n})></portal>",
    "<dialog open onclose=xss({n})><form method=dialog><button>x</button></form></dialog>",
    "<slot onslotchange=xss({n})></slot>",
]

# Attribute and element breakouts: text that closes whatever it might be pasted into.
_BREAKOUT = [
    "\" onmouseover=\"xss({n})",
    "' onfocus='xss({n})' autofocus='",
    "\" autofocus onfocus=\"xss({n})",
    "\"><script>xss({n})</script>",
    "'><script>xss({n})</script>",
    "</title><script>xss({n})</script>",
    "</textarea><script>xss({n})</script>",
    "</style><script>xss({n})</script>",
    "</script><script>xss({n})</script>",
    "--><script>xss({n})</script>",
    "]]><script>xss({n})</script>",
    "\"/><svg onload=xss({n})>",
    "` onmouseover=xss({n}) `",
    "x\" style=\"animation-name:spin\" onanimationstart=\"xss({n})",
    "\\\"; xss({n}); //",
    "'; xss({n}); //",
    "\"; xss({n}); //",
    "</a><a href=javascript:xss({n})>",
    "<h1 onmouseover=xss({n})>h1</h1>",
    "<h2 title=\"<h1 \" onclick=xss({n})>h2</h2>",
    "${{xss({n})}}",
    "{{{{constructor.constructor('xss({n})')()}}}}",
    "#{{xss({n})}}",
    "<%= xss({n}) %>",
    "{{{{$on.constructor('xss({n})')()}}}}",
    "__proto__",
    "constructor",
    "\u0000<script>xss({n})</script>",
    "\ufeff<script>xss({n})</script>",
    "&lt;script&gt;xss({n})&lt;/script&gt;",
    "&amp;lt;img src=x onerror=xss({n})&amp;gt;",
    "%3Cscript%3Exss({n})%3C%2Fscript%3E",
    "\\u003cscript\\u003exss({n})\\u003c/script\\u003e",
    "＜script＞xss({n})＜/script＞",
    "<img src=x onerror=xss({n})>@everyone",
    "@<img src=x onerror=xss({n})>",
    "#<img src=x onerror=xss({n})>",
]

# SVG: inline, as an image, as a link, as data.
_SVG = [
    "<svg onload=xss({n})>",
    "<svg/onload=xss({n})>",
    "<svg><script>xss({n})</script></svg>",
    "<svg><script href=data:,xss({n}) />",
    "<svg><script xlink:href=data:,xss({n})></script></svg>",
    "<svg><animate onbegin=xss({n}) attributeName=x dur=1s>",
    "<svg><set onbegin=xss({n}) attributeName=x to=1>",
    "<svg><animate attributeName=href values=javascript:xss({n}) /><a id=q><text y=20>a</text></a></svg>",
    "<svg><use href=\"data:image/svg+xml,<svg id='x' xmlns='http://www.w3.org/2000/svg'><image href='1' onerror='xss({n})'/></svg>#x\"/></svg>",
    "<svg><foreignObject><img src=x onerror=xss({n})></foreignObject></svg>",
    "<svg><style><img src=x onerror=xss({n})></style></svg>",
    "<svg><title><img src=x onerror=xss({n})></title></svg>",
    "<svg><desc><![CDATA[</desc><script>xss({n})</script>]]></svg>",
    "<svg><image href=x onerror=xss({n})></image></svg>",
    "<svg><feImage href=javascript:xss({n})></feImage></svg>",
    "<svg><handler xmlns:ev=\"http://www.w3.org/2001/xml-events\" ev:event=\"load\">xss({n})</handler></svg>",
    "<svg><a><animate attributeName=href values=javascript:xss({n}) /><text x=20 y=20>Click</text></a></svg>",
    "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"xss({n})\"/>",
    "![svg](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9eHNzKDEpPg==)",
    "![svg](data:image/svg+xml,<svg onload=xss({n})>)",
    "[svg](data:image/svg+xml,%3Csvg%20onload%3Dxss({n})%3E)",
    "<img src=\"data:image/svg+xml,%3Csvg%20xmlns='http://www.w3.org/2000/svg'%20onload='xss({n})'/%3E\">",
    "<math><maction actiontype=statusline xlink:href=javascript:xss({n})>m</maction></math>",
    "<svg><discard onbegin=xss({n}) />",
    "<svg><animatetransform onbegin=xss({n})>",
]

# Bidi overrides and invisible characters: spoofed names, links and file names.
_BIDI = [
    "\u202eevil.exe\u202c.txt",
    "Anna \u202eadmin\u202c",
    "\u202e<script>xss({n})</script>",
    "\u2066<img src=x onerror=xss({n})>\u2069",
    "[https://bank.example\u202e/moc.elgoog](javascript:xss({n}))",
    "[paypal.com](https://evil.example/\u202emoc.lapyap)",
    "<a href=\"javascript:xss({n})\">\u202egoogle.com</a>",
    "\u200bjavascript:xss({n})",
    "[x](\u200bjavascript:xss({n}))",
    "[x](java\u200bscript:xss({n}))",
    "[x](java\u00adscript:xss({n}))",
    "[x](\u202ejavascript:xss({n}))",
    "\u202d\u202e\u2067\u2068\u2069\u200e\u200f mixed marks",
    "admin\u200d",
    "\u061c<img src=x onerror=xss({n})>",
    "مرحبا \u202e<b>bold</b>",
    "Ⓐⓓⓜⓘⓝ",
    "\U0001d400dmin",
]

# Ways to hide a dangerous scheme, each to be put where a URL goes.
_SCHEMES = [
    "javascript:xss({n})",
    "JAVASCRIPT:xss({n})",
    "JaVaScRiPt:xss({n})",
    "javascript:xss({n})//",
    "javascript://%0Axss({n})",
    "javascript:%78ss({n})",
    "javascript&colon;xss({n})",
    "javascript&#58;xss({n})",
    "javascript&#x3A;xss({n})",
    "&#106;avascript:xss({n})",
    "&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;:xss({n})",
    "jav&#x09;ascript:xss({n})",
    "jav&#x0A;ascript:xss({n})",
    "jav&#x0D;ascript:xss({n})",
    "jav&Tab;ascript:xss({n})",
    "java\tscript:xss({n})",
    "%6A%61%76%61%73%63%72%69%70%74:xss({n})",
    "\x01javascript:xss({n})",
    "vbscript:msgbox({n})",
    "VBScript:msgbox({n})",
    "data:text/html,<script>xss({n})</script>",
    "data:text/html;base64,PHNjcmlwdD54c3MoMSk8L3NjcmlwdD4=",
    "DATA:text/html,<script>xss({n})</script>",
    "data:application/javascript,xss({n})",
    "livescript:xss({n})",
    "javascript\\:xss({n})",
]

# Where a URL can stand in Markdown or raw HTML; {url} is one of _SCHEMES.
_URL_PLACES = [
    ("md-link", "[click me]({url})"),
    ("md-link-angle", "[click me](<{url}>)"),
    ("md-image", "![alt]({url})"),
    ("md-reference", "[click me][r{n}]\n\n[r{n}]: {url}"),
    ("md-autolink", "<{url}>"),
    ("md-title", "[t](https://example.org \"{url}\")"),
    ("html-a", "<a href=\"{url}\">a</a>"),
    ("html-img", "<img src=\"{url}\">"),
]

# Markdown tricks that need no scheme list: nesting, titles, alt text, emphasis in URLs, code.
_MARKDOWN = [
    "[a](javascript:xss({n}) \"title\")",
    "[a]( javascript:xss({n}))",
    "[a](javascript:xss%28{n}%29)",
    "[a](javascript:window.xss({n}))",
    "[a](javascript:this;xss({n}))",
    "[a](javascript:/**/xss({n}))",
    "[a](javascript:alert`{n}`)",
    "[a](j a v a s c r i p t:xss({n}))",
    "[a](https://example.org\"onmouseover=\"xss({n}))",
    "[a](https://example.org\" onmouseover=\"xss({n})\")",
    "[a](https://example.org 'x\" onmouseover=\"xss({n})')",
    "[a](https://example.org \"<img src=x onerror=xss({n})>\")",
    "[a](https://example.org \"<h1 onmouseover=xss({n})>\")",
    "[<img src=x onerror=xss({n})>](https://example.org)",
    "![<img src=x onerror=xss({n})>](https://example.org/x.png)",
    "![\" onerror=\"xss({n})](x)",
    "![x](x\" onerror=\"xss({n}))",
    "![x](https://example.org/x.png\"onerror=\"xss({n}))",
    "[![img](javascript:xss({n}))](javascript:xss({n}))",
    "[a][x]\n\n[x]: javascript:xss({n}) \"t\"",
    "[a][]\n\n[a]: <javascript:xss({n})>",
    "[javascript:xss({n})]",
    "<javascript:xss({n})>",
    "<JavaScript:xss({n})>",
    "<vbscript:msgbox({n})>",
    "<data:text/html,<script>xss({n})</script>>",
    "<https://example.org/\"onmouseover=\"xss({n})>",
    "<mailto:x@example.org?body=<script>xss({n})</script>>",
    "https://example.org/<script>xss({n})</script>",
    "https://example.org/\"><img src=x onerror=xss({n})>",
    "mailto:a@example.org\"onmouseover=\"xss({n})",
    "`<script>xss({n})</script>`",
    "```html\n<script>xss({n})</script>\n```",
    "    <img src=x onerror=xss({n})>",
    "> <img src=x onerror=xss({n})>",
    "* <svg onload=xss({n})>",
    "| a | <img src=x onerror=xss({n})> |\n|---|---|\n| <script>xss({n})</script> | b |",
    "**<img src=x onerror=xss({n})>**",
    "_[a](javascript:xss({n}))_",
    "~~<script>xss({n})</script>~~",
    "# <img src=x onerror=xss({n})>",
    "Setext <svg onload=xss({n})>\n===",
    "[a](javascript:xss({n}))[b](https://example.org)",
    "[a](<javascript:xss({n})> \"t\")",
    "[a\\](javascript:xss({n}))",
    "\\<script>xss({n})\\</script>",
    "&lt;img src=x onerror=xss({n})&gt;",
    "[a](#\" onclick=\"xss({n}))",
    "[a](//example.org/%22onmouseover=%22xss({n}))",
    "[a](https://example.org/?q=\"><script>xss({n})</script>)",
    "<a href=\"https://example.org\">ok</a><script>xss({n})</script>",
    "1. <img src=x onerror=xss({n})>\n2. [x](javascript:xss({n}))",
    "[a](https://example.org)<!-- <img src=x onerror=xss({n})> -->",
    "[![a](https://example.org/a.png)](javascript:xss({n}))",
    "*[a](javascript:xss({n}))*",
]


def _build() -> list[Payload]:
    raw: list[tuple[str, str]] = []
    raw += [("html", p) for p in _HTML]
    raw += [("breakout", p) for p in _BREAKOUT]
    raw += [("svg", p) for p in _SVG]
    raw += [("bidi", p) for p in _BIDI]
    raw += [("markdown", p) for p in _MARKDOWN]
    for place, template in _URL_PLACES:
        for scheme in _SCHEMES:
            raw.append((f"url:{place}", template.replace("{url}", scheme)))
    payloads = []
    for n, (family, text) in enumerate(raw, start=1):
        payloads.append(Payload(n, family, text.replace("{n}", str(n)).replace("{{", "{").replace("}}", "}")))
    return payloads


PAYLOADS: list[Payload] = _build()


def families() -> dict[str, int]:
    """How many payloads of each family (url:* counted as one family per place)."""
    counts: dict[str, int] = {}
    for payload in PAYLOADS:
        counts[payload.family] = counts.get(payload.family, 0) + 1
    return counts


def packed(max_chars: int, *, separator: str = " ", one_line: bool = False,
           keep: Callable[[str], bool] = lambda text: True) -> list[str]:
    """Every payload that `keep` accepts, packed in order into texts of at most `max_chars`
    characters (a payload longer than that is cut): for fields that show text as text (names,
    titles), where many payloads per field keep the number of objects small. `one_line` turns
    line breaks into spaces (single-line fields); `keep` leaves out what the field refuses, so
    that one refused payload does not take its neighbours with it."""
    texts: list[str] = []
    current = ""
    for payload in PAYLOADS:
        text = payload.text.replace("\n", " ") if one_line else payload.text
        text = text[:max_chars]
        if not keep(text):
            continue
        if current and len(current) + len(separator) + len(text) > max_chars:
            texts.append(current)
            current = ""
        current = f"{current}{separator}{text}" if current else text
    if current:
        texts.append(current)
    return texts
