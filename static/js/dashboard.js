// Loans per month: the numbers come from the table's json_script twin.
document.addEventListener("DOMContentLoaded", function () {
  var source = document.getElementById("loans-by-month");
  var canvas = document.getElementById("loans-chart");
  if (!source || !canvas || !window.Chart) return;
  var rows = JSON.parse(source.textContent);
  var style = getComputedStyle(document.body);
  Chart.defaults.font.family = style.fontFamily;
  Chart.defaults.color = style.color;
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: rows.map(function (row) { return row.month.slice(0, 7); }),
      datasets: [{
        label: canvas.dataset.label,
        data: rows.map(function (row) { return row.count; }),
        backgroundColor: style.getPropertyValue("--accent").trim() || "#1d5c8f",
        borderRadius: 3,
      }],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { display: false } },
      scales: {
        x: { ticks: { maxRotation: 0, autoSkipPadding: 8 } },
        y: { beginAtZero: true, ticks: { precision: 0 } },
      },
    },
  });
});
