// A warning before the idle timeout, with a button to stay signed in (one small request that
// renews the session). Nothing reloads by itself. Time is measured on the clock, not by counting
// timer ticks, so a phone that slept in between still warns (or says the session ended) on time.
(function () {
  var box = document.getElementById("session-warning");
  if (!box) {
    return;
  }
  var idle = parseInt(box.dataset.idleSeconds, 10) * 1000;
  var warnBefore = parseInt(box.dataset.warnSeconds, 10) * 1000;
  var stay = box.querySelector("[data-session-stay]");
  var warning = box.querySelector("[data-session-warning-text]");
  var ended = box.querySelector("[data-session-ended-text]");
  var lastActivity = Date.now();
  var shown = false;
  var previousFocus = null;

  function token() {
    var input = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  function show(hasEnded) {
    box.hidden = false;
    warning.hidden = hasEnded;
    stay.hidden = hasEnded;
    ended.hidden = !hasEnded;
    if (!shown) {
      shown = true;
      previousFocus = document.activeElement;
      stay.focus();
    }
  }

  function hide() {
    box.hidden = true;
    shown = false;
    if (previousFocus && previousFocus.focus) {
      previousFocus.focus();
    }
  }

  function tick() {
    var elapsed = Date.now() - lastActivity;
    if (elapsed >= idle) {
      show(true);
      window.clearInterval(timer);
    } else if (elapsed >= idle - warnBefore) {
      show(false);
    }
  }

  stay.addEventListener("click", function () {
    fetch(box.dataset.extendUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": token(), "Accept": "application/json" }
    }).then(function (response) {
      if (response.ok) {
        lastActivity = Date.now();
        hide();
      } else {
        show(true);
      }
    }).catch(function () {});
  });

  var timer = window.setInterval(tick, 1000);
})();
