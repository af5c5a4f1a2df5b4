// Receiving desk: a keyboard-wedge scanner types a barcode and Enter. Each scan is queued and
// posted in order (a fast scanner never loses one), answered at once in a large coloured panel
// and the log, the counters move, and the focus stays in the input. No sound: colour and text.
(function () {
  "use strict";

  function text(tag, className, value) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    node.textContent = value;
    return node;
  }

  function attach(form) {
    var input = form.querySelector("input[name=barcode]");
    var damaged = form.querySelector("input[name=damaged]");
    var result = document.querySelector("[data-result]");
    var log = document.querySelector("[data-log]");
    var progress = document.querySelector("[data-progress]");
    var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    var queue = [];
    var sending = false;

    function show(payload) {
      result.className = "receipt-result receipt-" + payload.outcome + " is-fresh";
      result.replaceChildren(
        text("strong", "receipt-outcome", payload.label),
        text("code", "receipt-code", payload.barcode),
        text("span", "receipt-message", payload.message)
      );
      if (payload.title) {
        result.appendChild(text("span", "receipt-title", payload.title + (payload.call_number ? " · " + payload.call_number : "")));
      }
      // Restart the flash so that two scans with the same outcome still show as two.
      void result.offsetWidth;
      result.classList.remove("is-fresh");

      var empty = log.querySelector("[data-empty]");
      if (empty) empty.remove();
      var line = document.createElement("li");
      line.className = "receipt-" + payload.outcome;
      line.append(text("span", "receipt-outcome", payload.label), " ", text("code", "", payload.barcode), " ",
        text("span", "muted", payload.title || payload.message), " ",
        text("time", "muted small", new Date().toLocaleTimeString("zh-CN", { hour12: false })));
      log.insertBefore(line, log.firstChild);
      while (log.children.length > 30) log.removeChild(log.lastChild);

      var counts = payload.counts || {};
      Object.keys(counts).forEach(function (key) {
        document.querySelectorAll('[data-count="' + key + '"]').forEach(function (node) {
          node.textContent = counts[key].toLocaleString("zh-CN");
        });
      });
      if (progress && counts.expected) {
        progress.max = counts.expected;
        progress.value = counts.received;
      }
    }

    function failed(code, message) {
      show({ outcome: "error", label: "×", barcode: code, message: message, counts: null });
    }

    function next() {
      if (sending || !queue.length) return;
      sending = true;
      var scan = queue.shift();
      var body = new FormData();
      body.append("barcode", scan.code);
      if (scan.damaged) body.append("damaged", "on");
      fetch(form.getAttribute("action") || window.location.href, {
        method: "POST",
        body: body,
        headers: { Accept: "application/json", "X-CSRFToken": csrf },
        credentials: "same-origin"
      })
        .then(function (response) {
          var json = (response.headers.get("Content-Type") || "").indexOf("json") !== -1;
          if (!json) throw new Error("HTTP " + response.status);
          return response.json().then(function (payload) {
            if (payload.error) failed(scan.code, payload.error);
            else show(payload);
          });
        })
        .catch(function (error) {
          // The page gives the pattern in its language: full-width brackets only in Chinese.
          var pattern = form.dataset.networkErrorReason || "{message} ({reason})";
          failed(scan.code, pattern.replace("{message}", form.dataset.networkError)
            .replace("{reason}", error.message));
        })
        .finally(function () { sending = false; next(); });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var code = input.value.trim();
      input.value = "";
      input.focus();
      if (!code) return;
      queue.push({ code: code, damaged: damaged && damaged.checked });
      if (damaged) damaged.checked = false;  // damage applies to one volume only
      next();
    });
    // The input keeps the focus: a click anywhere but on a control gives it back.
    document.addEventListener("click", function (event) {
      if (!event.target.closest("a, button, input, select, textarea, label, summary")) input.focus();
    });
    if (damaged) damaged.addEventListener("change", function () { input.focus(); });
    window.addEventListener("focus", function () { input.focus(); });
    input.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-receipt]").forEach(attach);
  });
})();
