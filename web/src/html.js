// htm bound to Preact: tagged templates instead of JSX, so there is no build step.
import { h } from "preact";
import htm from "htm";
import DOMPurify from "dompurify";

export const html = htm.bind(h);

// Links open in a new tab without a window.opener (the server's renderer says so too; this
// keeps it true whatever HTML arrives): DOMPurify drops `target` by default.
DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.hasAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow ugc");
  }
});

// Message HTML is sanitised on the server (nh3) and again here, before it touches the DOM.
export function safeHtml(dirty) {
  return { __html: DOMPurify.sanitize(dirty || "", { USE_PROFILES: { html: true } }) };
}

// A chat message's HTML: sanitised as above, and its Markdown headings drawn as bold lines
// (p.md-h1 … p.md-h6, sized in app.css), not as headings of the page, whose outline ("Topics",
// "News") a "# Hello" in a message would otherwise break. The serialised HTML has every "<" of
// text escaped, so only tags match.
export function safeMessageHtml(dirty) {
  const clean = safeHtml(dirty).__html;
  return { __html: clean.replace(/<(\/?)h([1-6])(?=[\s>])/g, (_, close, n) => (close ? "</p" : `<p class="md-heading md-h${n}"`)) };
}
