// While a check runs, poll its listing's status and reload the page when the result is in.
(function () {
  "use strict";
  var nodes = Array.prototype.slice.call(document.querySelectorAll("[data-poll-url]"));
  if (!nodes.length) return;
  var INTERVAL_MS = 1500;
  var MAX_POLLS = 160; // about four minutes, then stop and say so
  var polls = 0;

  function money(amount, currency) {
    if (amount === null) return "";
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: currency || "USD" }).format(Number(amount));
    } catch (e) {
      return amount + " " + (currency || "");
    }
  }

  function check(node) {
    return fetch(node.getAttribute("data-poll-url"), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      cache: "no-store"
    })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data || data.checking) return false;
        var text = node.querySelector(".poll-text");
        if (data.status !== "ok" || data.last_price === null) node.classList.add("failed");
        if (text) {
          text.textContent = data.status === "ok" && data.last_price !== null
            ? "Found " + money(data.last_price, data.currency) + ". Updating…"
            : data.status_label + (data.reason ? ": " + data.reason : "");
        }
        node.setAttribute("data-done", "1");
        return true;
      })
      .catch(function () { return false; });
  }

  function tick() {
    polls += 1;
    var pending = nodes.filter(function (node) { return node.getAttribute("data-done") !== "1"; });
    Promise.all(pending.map(check)).then(function () {
      var left = nodes.filter(function (node) { return node.getAttribute("data-done") !== "1"; });
      if (!left.length) {
        window.setTimeout(function () { window.location.reload(); }, 400);
      } else if (polls >= MAX_POLLS) {
        left.forEach(function (node) {
          var text = node.querySelector(".poll-text");
          if (text) text.textContent = "Still waiting for a worker to check this page. Reload later to see the result.";
          node.classList.add("stalled");
        });
      } else {
        window.setTimeout(tick, INTERVAL_MS);
      }
    });
  }

  window.setTimeout(tick, 800);
})();
