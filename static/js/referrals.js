/*
 * Referral page: "Copy" buttons next to the invitation links. The buttons stay hidden without
 * JavaScript or without the Clipboard API; the links can always be selected and copied by hand.
 */
(function () {
  "use strict";

  if (!navigator.clipboard) {
    return;
  }
  var status = document.querySelector(".copy-status");
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-copy-target"));
    if (!input) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(
        function () {
          if (status) {
            status.textContent = "Copied to the clipboard.";
          }
        },
        function () {
          input.select();
        }
      );
    });
  });
})();
