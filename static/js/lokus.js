/* Lokus: small progressive enhancements. The pages work without it. No inline scripts. */
(function () {
  "use strict";

  // Ask before an irreversible action: <form data-confirm="...">.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    // One tap only: a double tap on a phone must not send the action twice.
    if (form.dataset.submitted === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = "1";
    window.setTimeout(function () { form.dataset.submitted = ""; }, 8000);
  }, true);

  // Keep what was typed in forms marked data-draft="key" in this browser, so a dropped
  // connection or a failed submit never loses text. Cleared when the server confirms.
  function draftKey(form) { return "lokus-draft:" + form.getAttribute("data-draft"); }
  function restore(form) {
    var saved;
    try { saved = JSON.parse(window.localStorage.getItem(draftKey(form)) || "null"); } catch (e) { saved = null; }
    if (!saved) { return; }
    Object.keys(saved).forEach(function (name) {
      var field = form.elements.namedItem(name);
      if (field && field.type !== "file" && field.type !== "hidden" && !field.value) { field.value = saved[name]; }
    });
  }
  function save(form) {
    var data = {};
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name && field.type !== "file" && field.type !== "hidden" && field.type !== "checkbox" &&
          field.type !== "submit" && field.name !== "csrfmiddlewaretoken" &&
          (field.type !== "radio" || field.checked)) {  // a radio group keeps the ticked choice
        data[field.name] = field.value;
      }
    });
    try { window.localStorage.setItem(draftKey(form), JSON.stringify(data)); } catch (e) { /* storage full or off */ }
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-clear-draft]").forEach(function (el) {
      try { window.localStorage.removeItem("lokus-draft:" + el.getAttribute("data-clear-draft")); } catch (e) { /* ignore */ }
    });
    document.querySelectorAll("form[data-draft]").forEach(function (form) {
      restore(form);
      form.addEventListener("input", function () { save(form); });
    });

    // Fill latitude/longitude fields from the phone's position when allowed:
    // <button data-geo-target="prefix"> fills #id_prefix_lat / #id_prefix_lng or the
    // fields named latitude/longitude inside the same form.
    document.querySelectorAll("[data-geolocate]").forEach(function (button) {
      if (!("geolocation" in navigator)) { button.hidden = true; return; }
      button.addEventListener("click", function () {
        var form = button.form || button.closest("form");
        var status = form.querySelector("[data-geo-status]");
        if (status) { status.textContent = button.getAttribute("data-wait") || "…"; }
        navigator.geolocation.getCurrentPosition(function (pos) {
          form.elements.namedItem("latitude").value = pos.coords.latitude.toFixed(6);
          form.elements.namedItem("longitude").value = pos.coords.longitude.toFixed(6);
          if (status) { status.textContent = button.getAttribute("data-done") || "OK"; }
        }, function () {
          if (status) { status.textContent = button.getAttribute("data-fail") || "-"; }
        }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
      });
    });

    // After the drafts are restored: lists narrowed by another field of their form.
    document.querySelectorAll("select[data-filter-by]").forEach(narrowList);
  });

  // <select data-filter-by="kecamatan"> offers only the options whose data-kecamatan is the
  // value chosen in the form's "kecamatan" field, at once, from what the page already holds
  // (nothing is fetched, so nothing picked meanwhile is lost). It is off until a kecamatan is
  // chosen, and a choice that no longer fits is cleared where it can be seen, with the
  // select's data-cleared text beside it. Options are taken out rather than hidden: some
  // phones list hidden options all the same.
  function narrowList(select) {
    var by = select.form && select.form.elements.namedItem(select.getAttribute("data-filter-by"));
    if (!by) { return; }
    var key = "data-" + select.getAttribute("data-filter-by");
    var options = Array.prototype.slice.call(select.options);
    var blank = options.filter(function (option) { return !option.value; })[0];
    var blankText = blank ? blank.textContent : "";
    var note = document.createElement("small");
    note.className = "help filter-note";
    note.setAttribute("role", "status");
    note.setAttribute("data-filter-note", "");
    select.insertAdjacentElement("afterend", note);

    function apply() {
      var chosen = by.value;
      var had = select.value;
      while (select.options.length) { select.remove(0); }
      if (blank) {
        blank.textContent = chosen ? blankText : (select.getAttribute("data-wait") || blankText);
        select.appendChild(blank);
      }
      options.forEach(function (option) {
        if (option.value && chosen && option.getAttribute(key) === chosen) { select.appendChild(option); }
      });
      var fits = options.some(function (option) { return option.value === had && option.parentNode === select; });
      select.value = fits ? had : "";
      select.disabled = !chosen;
      if (had && !fits) {
        note.textContent = select.getAttribute("data-cleared") || "";
        // The draft kept in this browser forgets the cleared choice too.
        select.dispatchEvent(new Event("input", { bubbles: true }));
      }
    }
    apply();
    by.addEventListener("change", apply);
    select.addEventListener("change", function () { note.textContent = ""; });
  }
})();

/* The backup codes page (templates/accounts/two_factor_done.html). A button with
   data-enabled-by="id" stays greyed out until the checkbox of that id is ticked (without
   JavaScript the box is `required`, which holds the form as well). A button with data-print,
   hidden for browsers without JavaScript, prints the page; the print stylesheet keeps only
   the codes. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-enabled-by]").forEach(function (button) {
      var box = document.getElementById(button.getAttribute("data-enabled-by"));
      if (!box) { return; }
      function sync() { button.disabled = !box.checked; }
      sync();
      box.addEventListener("change", sync);
      window.addEventListener("pageshow", sync);  // a page restored by "back" keeps its tick
    });
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  });
})();
