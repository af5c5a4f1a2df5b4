// Progress of background jobs. A page marks each job it shows with
// <div data-job-status-url="…" data-job-running>; this script polls that URL, fills the
// elements marked data-job-field="…" and data-job-bar, and reloads the page once the job has
// ended so the server renders its result. No inline script: the Content-Security-Policy
// allows scripts from static files only.
(function () {
  "use strict";
  var INTERVAL = 1000;

  function fill(box, job) {
    box.querySelectorAll("[data-job-field]").forEach(function (node) {
      var value = job[node.dataset.jobField];
      if (value === undefined || value === null) return;
      node.textContent = typeof value === "number" ? value.toLocaleString() : value;
    });
    var counts = box.querySelector("[data-job-counts]");
    if (counts) counts.hidden = !job.total;
    var bar = box.querySelector("[data-job-bar]");
    if (bar) {
      bar.value = job.percent;
      bar.textContent = job.percent + "%";
    }
  }

  function watch(box) {
    var url = box.dataset.jobStatusUrl;
    function poll() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.json();
        })
        .then(function (job) {
          fill(box, job);
          if (job.finished) {
            window.location.reload();
          } else {
            window.setTimeout(poll, INTERVAL);
          }
        })
        .catch(function () {
          window.setTimeout(poll, INTERVAL * 5);
        });
    }
    window.setTimeout(poll, INTERVAL);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-job-status-url][data-job-running]").forEach(watch);
  });
})();
