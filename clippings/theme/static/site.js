// Progressive enhancements only: every page works without this script.
(function () {
  "use strict";
  // Opened from file://, a link to "dir/" shows a folder listing: point it at dir/index.html.
  if (location.protocol === "file:") {
    document.querySelectorAll("a[href]").forEach(function (a) {
      var href = a.getAttribute("href");
      if (!/^[a-z]+:/i.test(href) && !href.startsWith("#")) {
        var parts = href.split("#");
        if (parts[0] === "" || parts[0].endsWith("/")) {
          parts[0] = (parts[0] || "./") + "index.html";
          a.setAttribute("href", parts.join("#"));
        }
      }
    });
  }
  // Sortable overview tables: by name, by surname (people) or by article count; a second
  // click on the same button reverses the order. Counts sort most first, names A to Z.
  document.querySelectorAll("table[data-sortable]").forEach(function (table) {
    var body = table.tBodies[0];
    var current = "name", ascending = true;
    table.querySelectorAll("button[data-sort]").forEach(function (button) {
      button.addEventListener("click", function () {
        var key = button.dataset.sort;
        ascending = key === current ? !ascending : key !== "count";
        current = key;
        var header = button.closest("th");
        table.querySelectorAll("th").forEach(function (th) { th.removeAttribute("aria-sort"); });
        header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        table.querySelectorAll("button[data-sort]").forEach(function (other) {
          other.setAttribute("aria-pressed", String(other === button));
        });
        var rows = Array.from(body.rows);
        rows.sort(function (a, b) {
          var x = a.dataset[key], y = b.dataset[key];
          var order = key === "count" ? Number(x) - Number(y) : x.localeCompare(y);
          order = order || a.dataset.name.localeCompare(b.dataset.name);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
})();
