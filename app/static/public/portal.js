/* Progressive enhancement only: the form works without this file. */
(function () {
  "use strict";

  // Character counter for textareas with data-counter="<id of the output element>".
  document.querySelectorAll("textarea[data-counter]").forEach(function (area) {
    var out = document.getElementById(area.getAttribute("data-counter"));
    var max = parseInt(area.getAttribute("maxlength"), 10);
    if (!out || !max) { return; }
    function update() {
      var n = area.value.length;
      out.textContent = n + " / " + max;
      out.classList.toggle("near", n > max * 0.9);
    }
    area.addEventListener("input", update);
    update();
  });

  // Searchable select: a filter box above a plain <select data-searchable>. Options are rebuilt rather
  // than hidden, because some mobile browsers ignore hidden <option>s.
  document.querySelectorAll("select[data-searchable]").forEach(function (select, index) {
    var all = Array.prototype.map.call(select.options, function (o) {
      return { value: o.value, text: o.text };
    });
    var placeholder = all.length && all[0].value === "" ? all[0] : null;
    var box = document.createElement("div");
    box.className = "opd-search";
    var id = "search-" + (select.id || index);
    var label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = select.getAttribute("data-search-label") || "Cari";
    var input = document.createElement("input");
    input.type = "search";
    input.id = id;
    input.autocomplete = "off";
    input.placeholder = select.getAttribute("data-search-hint") || "";
    input.setAttribute("aria-controls", select.id);
    box.appendChild(label);
    box.appendChild(input);
    select.parentNode.insertBefore(box, select);

    input.addEventListener("input", function () {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var current = select.value;
      var matches = all.filter(function (o) {
        if (o === placeholder) { return false; }
        var text = o.text.toLowerCase();
        return words.every(function (w) { return text.indexOf(w) !== -1; });
      });
      select.innerHTML = "";
      if (placeholder) { select.add(new Option(placeholder.text, placeholder.value)); }
      matches.forEach(function (o) { select.add(new Option(o.text, o.value, false, o.value === current)); });
      if (matches.length === 1) { select.value = matches[0].value; }
    });
  });

  // Bring the error summary into view and focus after a refused submission.
  var summary = document.getElementById("ringkasan-kesalahan");
  if (summary) { summary.focus(); }
})();

// The receipt's "Cetak" button (the page prints without it too, from the browser's menu).
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
