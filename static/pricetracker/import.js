// While an import runs, poll its status and show the progress and each row's result.
(function () {
  "use strict";
  var box = document.getElementById("import");
  if (!box) return;
  var url = box.getAttribute("data-import-url");
  var INTERVAL_MS = 1500;

  function row(result) {
    var tr = document.createElement("tr");
    tr.className = "outcome-" + result.outcome;
    var line = document.createElement("td");
    line.textContent = result.line === null ? "" : String(result.line);
    var address = document.createElement("td");
    address.className = "url";
    if (result.product_id) {
      var link = document.createElement("a");
      link.href = "/products/" + result.product_id + "/";
      link.textContent = result.url;
      address.appendChild(link);
    } else {
      address.textContent = result.url;
    }
    var outcome = document.createElement("td");
    var badge = document.createElement("span");
    badge.className = "badge " + result.outcome;
    badge.textContent = result.outcome;
    outcome.appendChild(badge);
    outcome.appendChild(document.createTextNode(" " + result.message));
    tr.appendChild(line);
    tr.appendChild(address);
    tr.appendChild(outcome);
    return tr;
  }

  function show(data) {
    box.querySelector(".import-progress").textContent = data.done + " of " + data.total + " rows handled";
    box.querySelector(".import-counts").textContent =
      data.counts.added + " added, " + data.counts.duplicate + " already tracked, " + data.counts.refused + " refused";
    box.querySelector(".import-state").textContent = data.status === "done" ? "Done." : "Working…";
    var progress = box.querySelector("progress");
    progress.max = data.total;
    progress.value = data.done;
    var body = box.querySelector("tbody");
    for (var i = body.children.length; i < data.results.length; i++) body.appendChild(row(data.results[i]));
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data) show(data);
        if (!data || (data.status !== "done" && data.status !== "failed")) setTimeout(poll, INTERVAL_MS);
      })
      .catch(function () { setTimeout(poll, INTERVAL_MS * 4); });
  }
  setTimeout(poll, INTERVAL_MS);
})();
