// The view registry: a view is a name, a hash pattern ("#/room/:room") and a component that
// receives the pattern's parameters. Adding a view is one registerView() call in its module
// and one import in main.js.
const registry = [];

// `bare`: drawn alone, without the header and sidebar (the presenter view, for screen sharing).
export function registerView({ name, pattern, component, bare = false }) {
  const keys = [];
  const query = pattern.endsWith("?");
  const source = pattern.replace(/\?$/, "").replace(/:(\w+)/g, (_, key) => {
    keys.push(key);
    return "([^/]+)";
  });
  registry.push({ name, component, bare, query, regex: new RegExp(`^${source}$`), keys });
}

// A view whose pattern ends in "?" takes the hash's query ("#/search?q=…") as `query` (the
// text after "?", "" without one).
export function resolve(hash) {
  const full = hash.replace(/^#/, "") || "/";
  const mark = full.indexOf("?");
  const path = mark < 0 ? full : full.slice(0, mark);
  for (const view of registry) {
    const match = view.regex.exec(view.query ? path : full);
    if (match) {
      const params = Object.fromEntries(view.keys.map((key, i) => [key, decodeURIComponent(match[i + 1])]));
      if (view.query) params.query = mark < 0 ? "" : full.slice(mark + 1);
      return { view, params };
    }
  }
  return null;
}
