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
// "News") a "# Hello" in a message would otherwise break. The headings are replaced in the
// sanitiser's own inert document, never by rewriting the serialised HTML: a pattern over the
// string also matches "<h1" inside an attribute value wherever the serialiser leaves "<" in
// attributes unescaped (Chromium before 138, Firefox before 140), and its inserted quotes would
// then end the attribute early (a link title '<h1 onclick=…>' would become an onclick
// attribute; docs/reliability.md, section 13).
export function safeMessageHtml(dirty) {
  const body = DOMPurify.sanitize(dirty || "", { USE_PROFILES: { html: true }, RETURN_DOM: true });
  for (const heading of body.querySelectorAll("h1, h2, h3, h4, h5, h6")) {
    const line = body.ownerDocument.createElement("p");
    line.className = `md-heading md-${heading.localName}`;
    line.append(...heading.childNodes);
    heading.replaceWith(line);
  }
  return { __html: body.innerHTML };
}
