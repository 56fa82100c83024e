/*
 * Location form: a Leaflet map to place a shop by hand (F-M2).
 *
 * Markup: <div data-location-map data-tile-url="https://…/{z}/{x}/{y}.png" data-attribution="…" hidden>
 * and the inputs [data-map-latitude] / [data-map-longitude] in the same form. Without JavaScript (or
 * without Leaflet) the map stays hidden and the coordinates are plain inputs.
 *
 * Clicking the map (or dragging the pin) fills the inputs with six decimals; typing coordinates
 * moves the pin. Styles are set through the CSSOM, which the CSP allows (no style="" in markup).
 */
(function () {
  "use strict";

  var DEFAULT_CENTRE = [59.9139, 10.7522]; // Oslo
  var DEFAULT_ZOOM = 5;
  var PLACED_ZOOM = 16;

  function parse(input) {
    var value = parseFloat(String(input.value).replace(",", "."));
    return isNaN(value) ? null : value;
  }

  function init(container) {
    if (typeof window.L === "undefined") {
      return;
    }
    var form = container.closest("form");
    var latInput = form && form.querySelector("[data-map-latitude]");
    var lngInput = form && form.querySelector("[data-map-longitude]");
    if (!latInput || !lngInput) {
      return;
    }
    container.hidden = false;
    container.style.height = "20rem";
    container.style.borderRadius = "0.375rem";
    container.style.marginBottom = "1rem";

    var lat = parse(latInput);
    var lng = parse(lngInput);
    var placed = lat !== null && lng !== null;
    var map = window.L.map(container, { scrollWheelZoom: false }).setView(
      placed ? [lat, lng] : DEFAULT_CENTRE,
      placed ? PLACED_ZOOM : DEFAULT_ZOOM
    );
    window.L.tileLayer(container.getAttribute("data-tile-url"), {
      maxZoom: 19,
      attribution: container.getAttribute("data-attribution") || ""
    }).addTo(map);

    var marker = null;
    function place(latlng, pan) {
      if (marker) {
        marker.setLatLng(latlng);
      } else {
        marker = window.L.marker(latlng, { draggable: true, keyboard: true, title: "Shop position" }).addTo(map);
        marker.on("dragend", function () {
          fill(marker.getLatLng());
        });
      }
      if (pan) {
        map.setView(latlng, Math.max(map.getZoom(), PLACED_ZOOM));
      }
    }
    function fill(latlng) {
      latInput.value = latlng.lat.toFixed(6);
      lngInput.value = window.L.Util.wrapNum(latlng.lng, [-180, 180], true).toFixed(6);
      latInput.dispatchEvent(new Event("change", { bubbles: true }));
    }

    if (placed) {
      place([lat, lng], false);
    }
    map.on("click", function (event) {
      place(event.latlng, false);
      fill(event.latlng);
    });
    function onTyped() {
      var typedLat = parse(latInput);
      var typedLng = parse(lngInput);
      if (typedLat !== null && typedLng !== null && Math.abs(typedLat) <= 90 && Math.abs(typedLng) <= 180) {
        place([typedLat, typedLng], true);
      }
    }
    latInput.addEventListener("input", onTyped);
    lngInput.addEventListener("input", onTyped);
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-location-map]"), init);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
