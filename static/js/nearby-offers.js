/*
 * Offers near me (/wallet/offers/): the browser's position, when the person allows it, and the map.
 *
 * Progressive: without JavaScript the page searches around a typed place or the profile's city. With it,
 * "Use my position" fills the form's hidden lat/lng from navigator.geolocation and submits; when the
 * browser has already been allowed to share the position, the page does that by itself once (a page
 * that already has lat/lng in its form never asks again). Typing a place clears the position, so the
 * place is searched.
 *
 * The map: Leaflet, markers from the JSON in #nearby-markers (json_script, which the CSP allows), popups
 * built as DOM nodes (never HTML from data). Without Leaflet or tiles, the list is the page.
 */
(function () {
  "use strict";

  function setUpLocate(form) {
    var button = form.querySelector("[data-locate]");
    var status = form.querySelector("[data-locate-status]");
    var lat = form.querySelector("input[name=lat]");
    var lng = form.querySelector("input[name=lng]");
    var place = form.querySelector("input[name=place]");
    if (!button || !lat || !lng || !("geolocation" in navigator)) {
      return;
    }
    button.hidden = false;

    function say(text) {
      if (status) {
        status.textContent = text;
      }
    }

    function locate() {
      say("Finding your position…");
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(
        function (position) {
          lat.value = position.coords.latitude.toFixed(6);
          lng.value = position.coords.longitude.toFixed(6);
          if (place) {
            place.value = "";
          }
          form.submit();
        },
        function () {
          button.disabled = false;
          say("Your browser did not share your position. Type a town or postcode instead.");
        },
        { enableHighAccuracy: false, timeout: 10000, maximumAge: 300000 }
      );
    }

    button.addEventListener("click", locate);
    if (place) {
      place.addEventListener("input", function () {
        lat.value = "";
        lng.value = "";
      });
    }
    var hasPosition = lat.value !== "" && lng.value !== "";
    var hasPlace = place && place.value.trim() !== "";
    if (!hasPosition && !hasPlace && navigator.permissions && navigator.permissions.query) {
      navigator.permissions.query({ name: "geolocation" }).then(
        function (result) {
          if (result.state === "granted") {
            locate();
          }
        },
        function () {}
      );
    }
  }

  function popup(shop) {
    var box = document.createElement("div");
    var name = document.createElement("strong");
    name.textContent = shop.name;
    box.appendChild(name);
    shop.offers.forEach(function (text) {
      var line = document.createElement("div");
      line.textContent = text;
      box.appendChild(line);
    });
    return box;
  }

  function setUpMap(container) {
    var data = document.getElementById("nearby-markers");
    if (typeof window.L === "undefined" || !data) {
      return;
    }
    var markers = JSON.parse(data.textContent);
    container.hidden = false;
    var L = window.L;
    var map = L.map(container, { scrollWheelZoom: false }).setView(markers.centre, 13);
    L.tileLayer(container.getAttribute("data-tile-url"), {
      maxZoom: 19,
      attribution: container.getAttribute("data-attribution") || ""
    }).addTo(map);
    var bounds = [markers.centre];
    L.circleMarker(markers.centre, { radius: 8, weight: 3, color: "#1f6f5c", fillOpacity: 0.6 })
      .addTo(map)
      .bindTooltip("You are here");
    markers.shops.forEach(function (shop) {
      var point = [shop.lat, shop.lng];
      bounds.push(point);
      L.marker(point, { title: shop.name, keyboard: true }).addTo(map).bindPopup(popup(shop));
    });
    if (bounds.length > 1) {
      map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16 });
    }
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-nearby-form]"), setUpLocate);
    Array.prototype.forEach.call(document.querySelectorAll("[data-nearby-map]"), setUpMap);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
