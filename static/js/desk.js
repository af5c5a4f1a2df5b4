// The circulation desk: every scan is posted with fetch() and answered in place; the focus
// always comes back to the scan box. Scans are queued, so a fast scanner never overtakes the
// answer to the previous book. Without JavaScript the form posts and the page reloads.
(function () {
  "use strict";
  var form = document.getElementById("desk-form");
  if (!form) return;
  var input = document.getElementById("desk-code");
  var card = document.getElementById("desk-card");
  var log = document.getElementById("desk-log");
  var reader = document.getElementById("desk-reader");
  var prompt = document.getElementById("desk-prompt");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var queue = Promise.resolve();
  var MAX_ENTRIES = 60;

  function mode() {
    var checked = form.querySelector("input[name=mode]:checked");
    return checked ? checked.value : "checkout";
  }

  function refreshPrompt() {
    var m = mode();
    var key = m === "checkout" ? (card.value ? "checkoutItem" : "checkoutCard") : m;
    prompt.textContent = prompt.dataset[key];
    form.dataset.mode = m;
  }

  function focusScan() {
    if (document.activeElement !== input) input.focus({ preventScroll: true });
  }

  function addEntry(html) {
    var empty = document.getElementById("desk-log-empty");
    if (empty) empty.remove();
    var holder = document.createElement("ol");
    holder.innerHTML = html.trim();
    var entry = holder.firstElementChild;
    if (!entry) return;
    log.insertBefore(entry, log.firstChild);
    while (log.children.length > MAX_ENTRIES) log.lastElementChild.remove();
  }

  function readerPanel(currentCard) {
    var panel = reader.querySelector("[data-desk-card]");
    return currentCard && panel && panel.dataset.deskCard === currentCard ? panel : null;
  }

  // The new loan's line, in the panel's order (due date, then loan), and the new count.
  function addLoan(currentCard, loan) {
    var panel = readerPanel(currentCard);
    if (!panel) return;
    var list = panel.querySelector("[data-desk-loans]");
    var holder = document.createElement("ul");
    holder.innerHTML = loan.line.trim();
    var line = holder.firstElementChild;
    if (!line) return;
    var next = null;
    for (var i = 0; i < list.children.length && !next; i++) {
      if (list.children[i].dataset.order > loan.order) next = list.children[i];
    }
    list.insertBefore(line, next);
    list.hidden = false;
    panel.querySelector("[data-desk-count]").textContent = loan.count;
  }

  function failure(code) {
    var li = document.createElement("li");
    li.className = "desk-entry desk-entry-error";
    li.textContent = gettext("网络或服务器出错，这次扫描没有办理，请重新扫描：") + code;
    log.insertBefore(li, log.firstChild);
  }

  function send(code, m, currentCard) {
    var body = new FormData();
    body.append("csrfmiddlewaretoken", csrf);
    body.append("mode", m);
    body.append("card", currentCard);
    body.append("code", code);
    // How many loans the panel lists for this reader: when that is all of them, a checkout is
    // answered with the new loan's line alone instead of the whole panel again.
    var panel = readerPanel(currentCard);
    if (panel) body.append("shown", panel.querySelectorAll("[data-desk-loans] > li").length);
    return fetch(form.getAttribute("action") || window.location.href, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrf },
    })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (data) {
        addEntry(data.entry);
        // A reader ended (Esc, 结束读者) while this scan was on its way stays ended, unless the
        // answer brings a reader again (a card scanned, a panel sent whole).
        var ended = panel && !panel.isConnected && data.reader === undefined;
        if (ended) card.value = "";
        else if (m === "checkout" || data.reader !== undefined) card.value = data.card;
        if (data.reader !== undefined) reader.innerHTML = data.reader;
        if (data.loan !== undefined) addLoan(data.card, data.loan);
        // What waits to be sent or picked up here follows the scan, not the next reload.
        var piles = document.getElementById("desk-piles");
        if (data.piles !== undefined && piles) piles.outerHTML = data.piles;
        refreshPrompt();
      })
      .catch(function () {
        failure(code);
      })
      .then(function () {
        form.classList.toggle("is-busy", false);
        focusScan();
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var code = input.value.trim();
    input.value = "";
    focusScan();
    if (!code) return;
    var m = mode();
    form.classList.add("is-busy");
    // The card sent is the one known when this scan's turn comes, not when it was typed.
    queue = queue.then(function () {
      return send(code, m, card.value);
    });
  });

  form.addEventListener("change", function () {
    refreshPrompt();
    focusScan();
  });

  function endReader() {
    card.value = "";
    reader.innerHTML = "";
    refreshPrompt();
  }

  // A visible way to end the reader, for a phone without an Esc key. Without JavaScript the
  // link reloads the desk without a card.
  document.addEventListener("click", function (event) {
    var end = event.target.closest && event.target.closest("[data-desk-end]");
    if (!end) return;
    event.preventDefault();
    endReader();
    focusScan();
  });

  document.addEventListener("keydown", function (event) {
    var keys = { F2: "checkout", F3: "return", F4: "renew" };
    if (keys[event.key]) {
      event.preventDefault();
      form.querySelector("input[name=mode][value=" + keys[event.key] + "]").checked = true;
      refreshPrompt();
      focusScan();
    } else if (event.key === "Escape") {
      endReader();
      focusScan();
    }
  });

  // A click on anything that is not a control brings the focus back to the scan box, so that
  // the next scan never lands nowhere.
  document.addEventListener("click", function (event) {
    if (!event.target.closest("a, button, input, select, textarea, label, summary")) focusScan();
  });
  window.addEventListener("focus", focusScan);

  if (typeof window.gettext !== "function") {
    window.gettext = function (text) {
      return text;
    };
  }
  refreshPrompt();
  focusScan();
})();
