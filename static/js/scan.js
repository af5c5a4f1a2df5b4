// Scanning pages: a keyboard-wedge scanner types the barcode and Enter. Each scan is posted in
// the background, answered at once in the log, the counters are updated, and the focus goes
// straight back to the input so the next scan never lands elsewhere.
(function () {
  "use strict";

  function csrfToken(form) {
    var field = form.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function logLine(log, payload) {
    var item = document.createElement("li");
    item.className = "scan-" + (payload.ok ? "ok" : "error") + (payload.outcome ? " scan-" + payload.outcome : "");
    item.textContent = payload.message;
    log.insertBefore(item, log.firstChild);
    while (log.children.length > 50) log.removeChild(log.lastChild);
  }

  function updateCounts(counts) {
    if (!counts) return;
    Object.keys(counts).forEach(function (key) {
      document.querySelectorAll('[data-count="' + key + '"]').forEach(function (node) {
        node.textContent = counts[key];
      });
    });
  }

  // A line added by a scan joins the page's list, so the list and its counts agree.
  function addLine(html) {
    var table = document.querySelector("[data-lines]");
    if (!table) return;
    table.tBodies[0].insertAdjacentHTML("afterbegin", html);
    table.hidden = false;
    document.querySelectorAll("[data-lines-empty]").forEach(function (node) { node.remove(); });
    document.querySelectorAll("[data-needs-lines]").forEach(function (node) { node.disabled = false; });
  }

  function attach(form) {
    var input = form.querySelector("input[name=barcode]");
    var log = form.querySelector(".scan-log");
    var busy = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var code = input.value.trim();
      if (!code || busy) { input.focus(); return; }
      busy = true;
      var body = new FormData(form);
      input.value = "";
      fetch(form.getAttribute("action") || window.location.href, {
        method: "POST",
        body: body,
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken(form) },
        credentials: "same-origin"
      })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.json();
        })
        .then(function (payload) {
          logLine(log, payload);
          updateCounts(payload.counts);
          if (payload.line) addLine(payload.line);
          (payload.barcodes || []).forEach(function (barcode) {
            var row = document.querySelector('[data-pending="' + CSS.escape(barcode) + '"]');
            if (row) row.remove();
          });
        })
        .catch(function () {
          var error = form.dataset.networkError || gettext("网络错误，请重扫");
          logLine(log, { ok: false, message: interpolate(gettext("%s：%s"), [code, error]) });
        })
        .finally(function () {
          busy = false;
          form.querySelectorAll("input[type=checkbox][data-sticky=false]").forEach(function (box) { box.checked = false; });
          input.focus();
        });
    });
    // A click on the page's empty space (not on a control) returns the focus to the scanner.
    document.addEventListener("click", function (event) {
      if (!event.target.closest("a, button, input, select, textarea, label, summary")) input.focus();
    });
  }

  // The pages load Django's JavaScript catalogue first; without it the Chinese stays.
  if (typeof window.gettext !== "function") {
    window.gettext = function (text) { return text; };
  }
  if (typeof window.interpolate !== "function") {
    window.interpolate = function (format, values) {
      var index = 0;
      return format.replace(/%s/g, function () { return String(values[index++]); });
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-scan]").forEach(attach);
  });
})();
