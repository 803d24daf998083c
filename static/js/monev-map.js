/* The monitoring map (templates/monev/map.html): Leaflet (static/vendor/leaflet) draws the
   markers it fetches as JSON from the page's data-markers-url (monev/views_map.py, the
   page's own filters), coloured by risk level through CSS classes (static/css/lokus.css, "Monev map"). No inline script or
   style: Leaflet positions its elements through the DOM, which the CSP allows, and the popups
   are built from text nodes, never from HTML. When the tiles cannot load (offline, blocked),
   the markers stay on a plain background and a note says so; when the markers cannot load,
   a note says that; the table under the map holds the same counts whatever happens here. */
(function () {
  "use strict";

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  function popup(marker, openLabel) {
    var box = element("div", "map-popup");
    box.appendChild(element("strong", "", marker.title));
    marker.lines.forEach(function (line) { box.appendChild(element("span", "map-popup-line", line)); });
    if (marker.url) {
      var link = element("a", "", openLabel);
      link.href = marker.url;
      box.appendChild(link);
    }
    return box;
  }

  function markerClass(marker) {
    if (marker.restricted) { return "map-marker map-marker-restricted"; }
    if (marker.kind === "plan") { return "map-marker map-marker-plan"; }
    return "map-marker map-marker-risk-" + (marker.risk || "none");
  }

  document.addEventListener("DOMContentLoaded", function () {
    var holder = document.getElementById("monev-map");
    if (!holder || typeof window.L === "undefined") { return; }
    var L = window.L;
    var status = document.getElementById("monev-map-status");
    var fallback = holder.querySelector("[data-map-fallback]");
    if (fallback) { fallback.remove(); }

    // Each trouble once, side by side (the tiles and the markers can both fail).
    var said = [];
    function say(text) {
      if (!status || !text || said.indexOf(text) !== -1) { return; }
      said.push(text);
      status.textContent = said.join(" ");
      status.hidden = false;
    }

    var centre = (holder.getAttribute("data-centre") || "-6.18,106.64").split(",").map(Number);
    var map = L.map(holder, { zoomControl: true }).setView(centre, 12);
    map.attributionControl.setPrefix(false);
    var tileUrl = holder.getAttribute("data-tile-url");
    if (tileUrl) {
      var tiles = L.tileLayer(tileUrl, {
        maxZoom: 19,
        attribution: holder.getAttribute("data-tile-attribution") || "",
        // The tile server sees this site's origin only, never a page's path (OpenStreetMap's
        // tile policy asks for a referrer; the site's own policy sends none).
        referrerPolicy: "strict-origin"
      });
      var failed = false;
      tiles.on("tileerror", function () {
        if (failed) { return; }
        failed = true;
        holder.classList.add("map-offline");
        say(holder.getAttribute("data-offline-text"));
      });
      tiles.addTo(map);
    } else {
      holder.classList.add("map-offline");
      say(holder.getAttribute("data-no-tiles-text"));
    }

    var openLabel = holder.getAttribute("data-open-text") || "Open";

    function draw(markers) {
      var layer = L.featureGroup();
      markers.forEach(function (marker) {
        var point = L.circleMarker([marker.lat, marker.lng], {
          radius: marker.kind === "plan" ? 6 : 8,
          weight: 2,
          className: markerClass(marker)
        });
        point.bindPopup(function () { return popup(marker, openLabel); });
        // An element, never a string: Leaflet would put a string in as HTML.
        point.bindTooltip(element("span", "", marker.title));
        layer.addLayer(point);
      });
      layer.addTo(map);
      if (markers.length) {
        map.fitBounds(layer.getBounds(), { padding: [24, 24], maxZoom: 15 });
      }
      holder.setAttribute("data-markers-drawn", String(markers.length));
    }

    // A session that ended answers with the sign-in page (HTML), not JSON: a failure too.
    fetch(holder.getAttribute("data-markers-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || response.redirected || type.indexOf("application/json") !== 0) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (data) { draw(data.markers); })
      .catch(function () {
        holder.setAttribute("data-markers-failed", "true");
        say(holder.getAttribute("data-markers-failed-text"));
      });
  });
})();
