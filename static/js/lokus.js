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
  });
})();
