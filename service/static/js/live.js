/* Live text sessions, with JavaScript: the server's event stream (our own origin) shows
   each message as it is written, and messages are sent without reloading the page.
   Without this file the page works the same way through the refreshing frame. */
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var list = document.getElementById("live-messages");
    var form = document.getElementById("live-form");
    if (!list || !form || !window.EventSource || !window.fetch) { return; }
    var frame = document.getElementById("live-frame");
    var stateLine = document.getElementById("live-state");
    var box = document.getElementById("live-body");
    var problem = document.getElementById("live-error");
    var shown = {};
    var names = {visitor: list.dataset.nameVisitor, staff: list.dataset.nameStaff, statement: list.dataset.nameStatement};
    var lastState = null;

    if (frame) { frame.parentNode.removeChild(frame); }
    list.hidden = false;

    function add(message) {
      // Ids only grow and each is shown once, whatever the network did.
      if (shown[message.id]) { return; }
      shown[message.id] = true;
      var item = document.createElement("li");
      item.className = "live-line live-" + message.author;
      item.id = "line-" + message.id;
      var meta = document.createElement("p");
      meta.className = "live-meta";
      var author = document.createElement("span");
      author.className = "live-author";
      author.textContent = names[message.author] || "";
      var time = document.createElement("time");
      time.textContent = message.at;
      meta.appendChild(author);
      meta.appendChild(document.createTextNode(" "));
      meta.appendChild(time);
      var text = document.createElement("p");
      text.className = "live-text";
      text.textContent = message.text;
      item.appendChild(meta);
      item.appendChild(text);
      list.appendChild(item);
      item.scrollIntoView({block: "nearest"});
    }

    var stream = new EventSource(list.dataset.events + "?after=0");
    var leaving = false;
    // Another form of the page (end, keep as a thread) is leaving it: the stream's news
    // of the end must not reload the page over the answer to that form.
    document.addEventListener("submit", function (event) {
      if (event.target !== form) { leaving = true; stream.close(); }
    }, true);
    stream.addEventListener("message", function (event) { add(JSON.parse(event.data)); });
    stream.addEventListener("state", function (event) {
      var state = JSON.parse(event.data);
      var sentence = stateLine.dataset[state.state] || "";
      stateLine.textContent = sentence.replace("999999", String(state.place));
      if (!leaving && lastState !== null && lastState !== state.state && state.state === "ended") {
        stream.close();
        window.location.reload();
      }
      lastState = state.state;
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      problem.hidden = true;
      var sending = box.value;
      fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                          headers: {"Accept": "application/json"}})
        .then(function (response) {
          if (response.status === 204) {
            if (box.value === sending) { box.value = ""; }
            box.focus();
            return null;
          }
          return response.json().catch(function () { return {problem: form.dataset.tooFast}; })
            .then(function (body) {
              problem.textContent = (body && body.problem) || form.dataset.tooFast;
              problem.hidden = false;
            });
        })
        .catch(function () {
          problem.textContent = form.dataset.offline;
          problem.hidden = false;
        });
    });
  });
}());
