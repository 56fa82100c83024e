/*
 * Small progressive enhancements for every page. Loaded with `defer`; pages work without it.
 *
 * - [data-nav-toggle]: the menu button of the site header (phones). Without JavaScript the
 *   navigation links are simply shown.
 * - [data-dismissible]: messages get a "Dismiss" button.
 * - form[data-confirm]: asks before submitting (e.g. removing a card); the text is the attribute.
 * - .table-wrap that scrolls sideways (a wide table on a phone): reachable by keyboard (tabindex),
 *   named after its table's caption, so arrow keys can scroll it (axe: scrollable-region-focusable).
 */
(function () {
  "use strict";

  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");

  function initNavigation() {
    var toggle = document.querySelector("[data-nav-toggle]");
    if (!toggle) {
      return;
    }
    var nav = document.getElementById(toggle.getAttribute("aria-controls"));
    if (!nav) {
      return;
    }
    toggle.hidden = false;
    toggle.setAttribute("aria-expanded", "false");
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", open ? "false" : "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
        toggle.setAttribute("aria-expanded", "false");
        toggle.focus();
      }
    });
  }

  function initDismissibleMessages() {
    var messages = document.querySelectorAll("[data-dismissible]");
    Array.prototype.forEach.call(messages, function (message) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "message-dismiss";
      button.setAttribute("aria-label", "Dismiss message");
      button.textContent = "×";
      button.addEventListener("click", function () {
        var list = message.parentElement;
        message.remove();
        if (list && list.children.length === 0) {
          list.remove();
        }
        var main = document.getElementById("main");
        if (main) {
          main.focus();
        }
      });
      message.appendChild(button);
    });
  }

  function initConfirmations() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    });
  }

  function initScrollableTables() {
    var wraps = document.querySelectorAll(".table-wrap");
    Array.prototype.forEach.call(wraps, function (wrap) {
      if (wrap.scrollWidth <= wrap.clientWidth || wrap.hasAttribute("tabindex")) {
        return;
      }
      var caption = wrap.querySelector("caption");
      var heading = wrap.closest("section") && wrap.closest("section").querySelector("h2, h3");
      var name = (caption && caption.textContent.trim()) || (heading && heading.textContent.trim()) || "Table";
      wrap.setAttribute("tabindex", "0");
      wrap.setAttribute("role", "region");
      wrap.setAttribute("aria-label", name + " (scrolls sideways)");
    });
  }

  initNavigation();
  initDismissibleMessages();
  initConfirmations();
  initScrollableTables();
  window.addEventListener("resize", initScrollableTables);
})();
