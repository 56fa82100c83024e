/*
 * The public shop pages' maps (F-G1): markers for the shops, clustered where many are close.
 *
 * Markup: <div data-shops-map data-tile-url="https://…/{z}/{x}/{y}.png" data-attribution="…" hidden>
 * with either data-markers-url (the list page: JSON {"markers": [...]} for the same search as the list)
 * or a <script type="application/json" id="shop-markers"> block (a merchant's page). Each marker is
 * {lat, lng, name, merchant, address, url}. Without JavaScript the map stays hidden: the list and the
 * addresses are the page.
 *
 * On the list page, phones see the list first and a [data-shops-map-toggle] button that opens the map;
 * wider screens show the map beside the list at once. Tiles that fail to load leave a plain background:
 * the markers and the list still work. Popups are built from text nodes, never from HTML strings, and
 * styles go through the CSSOM (the CSP allows no style="" attributes).
 */
(function () {
  "use strict";

  var NORWAY = [64.5, 12.0];
  var NORWAY_ZOOM = 4;
  var SINGLE_ZOOM = 15;
  var WIDE = "(min-width: 56rem)";

  function popupFor(marker) {
    var box = document.createElement("div");
    var title = document.createElement("a");
    title.href = marker.url;
    title.textContent = marker.merchant;
    var name = document.createElement("p");
    name.textContent = marker.name;
    var address = document.createElement("p");
    address.textContent = marker.address;
    box.appendChild(title);
    box.appendChild(name);
    box.appendChild(address);
    return box;
  }

  function draw(container, markers) {
    var L = window.L;
    var map = L.map(container, { scrollWheelZoom: false });
    L.tileLayer(container.getAttribute("data-tile-url"), {
      maxZoom: 19,
      attribution: container.getAttribute("data-attribution") || ""
    }).addTo(map);
    var layer = typeof L.markerClusterGroup === "function" ? L.markerClusterGroup({ showCoverageOnHover: false }) : L.layerGroup();
    var points = [];
    markers.forEach(function (marker) {
      var point = [marker.lat, marker.lng];
      points.push(point);
      L.marker(point, { title: marker.merchant + ", " + marker.name, alt: marker.merchant })
        .bindPopup(popupFor(marker))
        .addTo(layer);
    });
    layer.addTo(map);
    if (points.length === 1) {
      map.setView(points[0], SINGLE_ZOOM);
    } else if (points.length > 1) {
      map.fitBounds(points, { padding: [24, 24], maxZoom: SINGLE_ZOOM });
    } else {
      map.setView(NORWAY, NORWAY_ZOOM);
    }
    container.setAttribute("data-marker-count", String(points.length));
    return map;
  }

  function loadMarkers(container) {
    var url = container.getAttribute("data-markers-url");
    if (!url) {
      var block = document.getElementById("shop-markers");
      return Promise.resolve(block ? JSON.parse(block.textContent) : []);
    }
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : { markers: [] };
      })
      .then(function (body) {
        return body.markers || [];
      });
  }

  function init(container) {
    if (typeof window.L === "undefined") {
      return;
    }
    var map = null;
    var started = false;
    function show() {
      container.hidden = false;
      if (map) {
        map.invalidateSize();
        return;
      }
      if (started) {
        return; // the markers are on their way
      }
      started = true;
      loadMarkers(container).then(function (markers) {
        map = draw(container, markers);
      });
    }

    var toggle = document.querySelector("[data-shops-map-toggle][aria-controls='" + container.id + "']");
    if (!toggle) {
      show();
      return;
    }
    var wide = window.matchMedia(WIDE);
    function fit() {
      if (wide.matches) {
        toggle.hidden = true;
        show();
      } else {
        toggle.hidden = false;
        container.hidden = toggle.getAttribute("aria-expanded") !== "true";
      }
    }
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", open ? "false" : "true");
      toggle.textContent = open ? "Show the map" : "Hide the map";
      if (open) {
        container.hidden = true;
      } else {
        show();
      }
    });
    if (typeof wide.addEventListener === "function") {
      wide.addEventListener("change", fit);
    }
    fit();
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-shops-map]"), init);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
