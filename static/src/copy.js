/* Copy buttons (progressive enhancement): <button data-copy="ID" data-done="message" hidden> copies the
   text of the element ID to the clipboard and says so in the element ID-status. Without JavaScript or
   a clipboard the button stays hidden and the text can still be selected by hand. */
(function () {
  "use strict";
  var doc = document;
  if (!navigator.clipboard) return;
  doc.querySelectorAll("button[data-copy]").forEach(function (button) {
    var id = button.getAttribute("data-copy"), source = doc.getElementById(id), status = doc.getElementById(id + "-status");
    if (!source) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        if (status) status.textContent = button.getAttribute("data-done");
      }, function () {
        var range = doc.createRange();  // refused (permissions): select the text for a manual copy
        range.selectNodeContents(source);
        window.getSelection().removeAllRanges();
        window.getSelection().addRange(range);
      });
    });
  });
})();
