// The service worker (web/sw.js) that lets the installed app start offline. Where it is not
// available (an insecure origin, an old browser, a private window) the client runs as before.
export function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
}
