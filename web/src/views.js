// The view registry: a view is a name, a hash pattern ("#/room/:room") and a component that
// receives the pattern's parameters. Adding a view is one registerView() call in its module
// and one import in main.js.
const registry = [];

// `bare`: drawn alone, without the header and sidebar (the presenter view, for screen sharing).
export function registerView({ name, pattern, component, bare = false }) {
  const keys = [];
  const source = pattern.replace(/:(\w+)/g, (_, key) => {
    keys.push(key);
    return "([^/]+)";
  });
  registry.push({ name, component, bare, regex: new RegExp(`^${source}$`), keys });
}

export function resolve(hash) {
  const path = hash.replace(/^#/, "") || "/";
  for (const view of registry) {
    const match = view.regex.exec(path);
    if (match) {
      const params = Object.fromEntries(view.keys.map((key, i) => [key, decodeURIComponent(match[i + 1])]));
      return { view, params };
    }
  }
  return null;
}
