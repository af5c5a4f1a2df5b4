// Behaviour shared by every page. No inline event handlers anywhere: the Content-Security-Policy
// refuses them, so pages ask for behaviour with data- attributes handled here.
document.addEventListener("DOMContentLoaded", function () {
  // A region that scrolls (a wide table, a long side table) takes the keyboard focus, so that
  // it can be scrolled without a mouse.
  document.querySelectorAll(".table-scroll, .report-side").forEach(function (region) {
    if (region.scrollWidth > region.clientWidth || region.scrollHeight > region.clientHeight) {
      region.tabIndex = 0;
    }
  });
  // Collapsible navigation on narrow screens. Without JavaScript the menu simply stays open.
  var toggle = document.querySelector(".nav-toggle");
  var nav = document.getElementById("site-nav");
  if (toggle && nav) {
    toggle.addEventListener("click", function () {
      var open = nav.classList.toggle("is-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
});

// <form data-confirm="…">: ask before a step that cannot be undone.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.dataset && form.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

// <select data-autosubmit>: a filter that applies as soon as it is chosen.
document.addEventListener("change", function (event) {
  var field = event.target;
  if (field.hasAttribute && field.hasAttribute("data-autosubmit") && field.form) {
    HTMLFormElement.prototype.submit.call(field.form);
  }
});

// <button data-print>: print the page (pick lists, overdue notices).
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-print]");
  if (button) window.print();
});
