// Confide page behaviour. No third-party code, no tracking.
// Idle sign-out: the server signs a person out after IDLE_TIMEOUT_MINUTES without a request.
// While someone is active on the page (typing a long message counts), tell the server at most
// once a minute; when they have really been away, leave the page so nothing stays on screen.
(function () {
  "use strict";
  const body = document.body;
  const idleSeconds = Number(body.dataset.idleSeconds || 0);
  if (!idleSeconds) return;
  const pingUrl = body.dataset.pingUrl;
  const loginUrl = body.dataset.loginUrl;
  let lastActivity = Date.now();
  let lastPing = Date.now();

  function activity() {
    lastActivity = Date.now();
    if (Date.now() - lastPing > 60000) {
      lastPing = Date.now();
      fetch(pingUrl, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .catch(function () { /* offline: the next request decides */ });
    }
  }
  ["keydown", "pointerdown", "scroll", "touchstart"].forEach(function (name) {
    window.addEventListener(name, activity, { passive: true });
  });
  window.setInterval(function () {
    // A few seconds of slack so the server has already ended the session.
    if (Date.now() - lastActivity > (idleSeconds + 5) * 1000) {
      window.location.assign(loginUrl);
    }
  }, 5000);
})();
