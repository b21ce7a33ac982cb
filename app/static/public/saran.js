/* "Mungkin maksud Anda: …" on the complaint form (issue 18). Progressive enhancement only: without this
   file the hint stays hidden and the form works as before. As the citizen types the title or the text,
   it asks POST /pengaduan/saran-opd (debounced) for the three most likely OPDs and shows them as
   buttons; a tap selects that OPD in the form's own <select>. The citizen still decides. */
(function () {
  "use strict";
  var box = document.querySelector("[data-saran-url]");
  if (!box || !window.fetch) { return; }
  var select = document.getElementById(box.getAttribute("data-saran-for"));
  var sources = (box.getAttribute("data-saran-from") || "").split(/\s+/)
    .map(function (id) { return document.getElementById(id); }).filter(Boolean);
  var list = box.querySelector("[data-saran-choices]");
  if (!select || !sources.length || !list) { return; }
  var url = box.getAttribute("data-saran-url");
  var WAIT = 700, MIN_CHARS = 8, MAX_CHARS = 4202;
  var timer = null, asked = "", pending = null, known = {};
  Array.prototype.forEach.call(select.options, function (o) { if (o.value) { known[o.value] = true; } });

  function typed() {
    return sources.map(function (el) { return el.value.trim(); }).filter(Boolean).join("\n").slice(0, MAX_CHARS);
  }

  function hide() { box.hidden = true; list.innerHTML = ""; }

  function mark() {
    Array.prototype.forEach.call(list.querySelectorAll("button"), function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-kode") === select.value));
    });
  }

  function choose(code) {
    if (!Array.prototype.some.call(select.options, function (o) { return o.value === code; })) {
      // The searchable select (portal.js) may be filtered: clear its filter so every OPD is back.
      var search = document.querySelector("input[aria-controls='" + select.id + "']");
      if (search) { search.value = ""; search.dispatchEvent(new Event("input")); }
    }
    select.value = code;
    select.dispatchEvent(new Event("change", { bubbles: true }));
    mark();
  }

  function show(saran) {
    list.innerHTML = "";
    saran.forEach(function (s) {
      if (!known[s.kode]) { return; }  // not an OPD this form offers
      var button = document.createElement("button");
      button.type = "button";
      button.className = "saran-choice";
      button.setAttribute("data-kode", s.kode);
      button.textContent = s.nama;
      button.addEventListener("click", function () { choose(s.kode); });
      list.appendChild(button);
    });
    box.hidden = !list.children.length;
    mark();
  }

  function ask() {
    var text = typed();
    if (text.replace(/\s+/g, "").length < MIN_CHARS) { asked = ""; hide(); return; }
    if (text === asked) { return; }
    asked = text;
    if (pending && pending.abort) { pending.abort(); }
    pending = window.AbortController ? new AbortController() : null;
    fetch(url, {
      method: "POST", credentials: "same-origin", signal: pending ? pending.signal : undefined,
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ teks: text })
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (body) {
      if (text === asked) { show(body.saran || []); }
    }).catch(function (error) {
      if (error && error.name === "AbortError") { return; }
      asked = "";  // refused or rate-limited: say nothing, try again on the next pause in typing
      hide();
    });
  }

  sources.forEach(function (el) {
    el.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, WAIT);
    });
  });
  select.addEventListener("change", mark);
  ask();  // a form sent back with its text already typed
})();
