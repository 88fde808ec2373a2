// htm bound to Preact: tagged templates instead of JSX, so there is no build step.
import { h } from "preact";
import htm from "htm";
import DOMPurify from "dompurify";

export const html = htm.bind(h);

// Message HTML is sanitised on the server (nh3) and again here, before it touches the DOM.
export function safeHtml(dirty) {
  return { __html: DOMPurify.sanitize(dirty || "", { USE_PROFILES: { html: true } }) };
}
