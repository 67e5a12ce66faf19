// The review queue keeps itself current without reloading the page (a reload moved focus and the
// reader's place): every few seconds it fetches the page, swaps in the new sections unless the
// reader is inside them, and says what happened in a polite live region. Focus never moves. The
// fetch is marked passive (X-HopLuc-Passive): it does not renew the session, so the idle timeout
// still applies to a queue left open.
(function () {
  "use strict";
  var root = document.getElementById("queue-sections");
  var status = document.getElementById("queue-status");
  if (!root || !status || !window.fetch || !window.DOMParser) return;
  var seconds = parseInt(root.getAttribute("data-queue-refresh"), 10);
  if (!(seconds > 0)) return;
  function check() {
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Requested-With": "fetch", "X-HopLuc-Passive": "1" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("queue-sections");
        if (!fresh || fresh.innerHTML === root.innerHTML) return;
        if (root.contains(document.activeElement)) {
          status.textContent = root.getAttribute("data-changed-message");
          return;
        }
        root.replaceChildren.apply(root, Array.prototype.map.call(fresh.childNodes, function (node) {
          return document.importNode(node, true);
        }));
        status.textContent = root.getAttribute("data-updated-message");
      })
      .catch(function () {})
      .then(function () { window.setTimeout(check, seconds * 1000); });
  }
  window.setTimeout(check, seconds * 1000);
})();
