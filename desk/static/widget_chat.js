/*
 * Baken chat, inside its frame (GET /widget/frame, served by the desk itself). The host
 * page's widget.js only draws the "Chat met ons" button and this frame; everything that
 * opens the conversation (the visitor id, messages not yet sent) lives here, in the desk
 * origin's localStorage, out of reach of the host site's scripts.
 *
 * The frame and the host page talk through postMessage only, with the origin checked both
 * ways, and never about the conversation itself: "open", "close", "ready" and the number of
 * unread messages. All text goes in with textContent: a message is never parsed as HTML.
 * Messages not yet confirmed by the desk wait in localStorage and are resent with the same
 * id after a network drop or a reload; the desk recognises the id, so nothing is doubled.
 */
(function () {
  "use strict";

  var params = new URLSearchParams(location.search);
  var API = location.origin + "/api/widget";
  var SOURCE = (params.get("source") || "").replace(/[^A-Za-z0-9_.-]/g, "").slice(0, 64) || null;
  var TITLE = (params.get("title") || "").slice(0, 120) || "Baken: hulp bij geld en meer";
  var STORE_KEY = "baken.chat.v2"; // not widget.js's old key, which the loader removes from host pages
  var MAX_CHARS = 10000;

  // The host page that embeds this frame: one of the sites the desk allows (the same list as
  // the frame's Content-Security-Policy frame-ancestors), or the desk's own pages.
  var allowed = (document.documentElement.getAttribute("data-origins") || "").split(" ").filter(Boolean);
  allowed.push(location.origin);
  var claimed = params.get("host") || "";
  var HOST = window.parent !== window && allowed.indexOf(claimed) >= 0 ? claimed : null;

  function tellHost(type, extra) {
    if (!HOST) return;
    var message = { baken: "widget", type: type };
    Object.keys(extra || {}).forEach(function (k) { message[k] = extra[k]; });
    window.parent.postMessage(message, HOST);
  }

  var AUTHOR_LABEL = { citizen: "Jij", bot: "Digitale assistent", worker: "Medewerker", system: "Bericht" };
  var STATUS_TEXT = {
    queued: "Je gesprek wacht op een medewerker.",
    with_worker: "Je praat nu met een medewerker.",
    closed: "Dit gesprek is afgesloten. Typ een bericht om een nieuw gesprek te beginnen."
  };

  // ---- storage (a browser that blocks localStorage still works, for this page view) ----
  var memoryStore = {};
  function load() {
    try {
      return JSON.parse(localStorage.getItem(STORE_KEY) || "{}") || {};
    } catch (e) {
      return memoryStore;
    }
  }
  function save() {
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify(state));
    } catch (e) {
      memoryStore = state;
    }
  }
  var state = load();
  state.outbox = Array.isArray(state.outbox) ? state.outbox : [];

  function randomId(bytes) {
    var a = new Uint8Array(bytes);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function visitor() {
    if (!state.visitor) {
      state.visitor = randomId(16);
      save();
    }
    return state.visitor;
  }

  // ---- DOM ----
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  var panel = el("section", { id: "baken-panel", class: "panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "baken-title", hidden: "" });
  var header = el("header", { class: "header" });
  var titleBox = el("div", { class: "titles" });
  titleBox.appendChild(el("h2", { id: "baken-title" }, TITLE));
  var subtitle = el("p", { class: "subtitle" }, "Je praat met de digitale assistent. Je kunt ook vragen om een medewerker.");
  titleBox.appendChild(subtitle);
  header.appendChild(titleBox);
  var menuButton = el("button", { type: "button", class: "icon", "aria-label": "Wis mijn gesprek", title: "Wis mijn gesprek, ook bij ons" }, "Wissen");
  var closeButton = el("button", { type: "button", class: "icon", "aria-label": "Chat sluiten" }, "×");
  // "Samenvatting bewaren" (issue 15, warm referral): a note to take to an appointment
  var summaryButton = el("button", { type: "button", class: "icon", "aria-label": "Samenvatting bewaren", title: "Een samenvatting van dit gesprek bewaren" }, "Samenvatting");
  header.appendChild(summaryButton);
  header.appendChild(menuButton);
  header.appendChild(closeButton);

  var connection = el("p", { class: "connection", role: "status", hidden: "" }, "");
  var statusBar = el("p", { class: "status", role: "status", "aria-live": "polite", hidden: "" }, "");
  var log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions", tabindex: "0", "aria-label": "Berichten" });
  var intro = el("p", { class: "intro" }, "Hoi! Stel je vraag over toeslagen, bijstand, schulden of iets anders waar je mee zit. Je hoeft je naam of BSN niet te geven.");
  log.appendChild(intro);
  var typing = el("p", { class: "typing", role: "status", hidden: "" }, "De assistent is aan het typen…");

  var form = el("form", { class: "composer", novalidate: "" });
  var label = el("label", { for: "baken-input", class: "visually-hidden" }, "Typ je bericht");
  var input = el("textarea", { id: "baken-input", rows: "2", maxlength: String(MAX_CHARS), placeholder: "Typ je bericht…", autocomplete: "off" });
  var sendButton = el("button", { type: "submit", class: "send" }, "Verstuur");
  var hint = el("p", { class: "hint", role: "alert", hidden: "" }, "");
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(sendButton);

  panel.appendChild(header);
  panel.appendChild(connection);
  panel.appendChild(statusBar);
  panel.appendChild(log);
  panel.appendChild(typing);
  panel.appendChild(hint);
  panel.appendChild(form);
  // "Wis mijn gesprek" asks first, in the chat itself (a confirm() from a frame may be blocked)
  var ERASE_ASK = "Wil je je gesprek wissen? Je berichten en bestanden worden dan ook bij ons verwijderd. " +
    "Een medewerker kan ze daarna niet meer lezen. Dit kun je niet ongedaan maken.";
  var ask = el("div", { class: "ask", role: "alertdialog", "aria-labelledby": "baken-ask-text", hidden: "" });
  ask.appendChild(el("p", { id: "baken-ask-text" }, ERASE_ASK));
  var askYes = el("button", { type: "button", class: "send" }, "Ja, wis alles");
  var askNo = el("button", { type: "button", class: "choice" }, "Nee, niet wissen");
  ask.appendChild(askYes);
  ask.appendChild(askNo);
  panel.insertBefore(ask, log);
  // the summary: asked first (consent), then shown as text to copy or download; not kept here
  var SUMMARY_ASK = "Wil je een korte samenvatting van dit gesprek? Die kun je meenemen naar een afspraak. " +
    "Dan hoef je je verhaal niet opnieuw te vertellen. Je kunt hem kopiëren of als tekstbestand bewaren.";
  var summaryAsk = el("div", { class: "ask", role: "alertdialog", "aria-labelledby": "baken-summary-ask", hidden: "" });
  summaryAsk.appendChild(el("p", { id: "baken-summary-ask" }, SUMMARY_ASK));
  var summaryYes = el("button", { type: "button", class: "send" }, "Ja, maak een samenvatting");
  var summaryNo = el("button", { type: "button", class: "choice" }, "Nee, liever niet");
  summaryAsk.appendChild(summaryYes);
  summaryAsk.appendChild(summaryNo);
  var summaryBox = el("div", { class: "ask summary", role: "region", "aria-label": "Je samenvatting", hidden: "" });
  var summaryText = el("pre", { class: "summary-text", tabindex: "0" }, "");
  var summaryCopy = el("button", { type: "button", class: "choice" }, "Kopiëren");
  var summarySave = el("button", { type: "button", class: "choice" }, "Downloaden (.txt)");
  var summaryClose = el("button", { type: "button", class: "choice" }, "Sluiten");
  summaryBox.appendChild(summaryText);
  summaryBox.appendChild(summaryCopy);
  summaryBox.appendChild(summarySave);
  summaryBox.appendChild(summaryClose);
  panel.insertBefore(summaryAsk, log);
  panel.insertBefore(summaryBox, log);
  var summaryFile = "samenvatting-baken.txt";

  // ---- rendering ----
  var shown = {}; // message id -> element
  var lastId = 0;
  var unread = 0;

  function linkify(node, text) {
    var pattern = /(https?:\/\/[^\s<>"')]+[^\s<>"').,;:!?])/g;
    var at = 0;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      if (match.index > at) node.appendChild(document.createTextNode(text.slice(at, match.index)));
      var a = el("a", { href: match[0], target: "_blank", rel: "noopener noreferrer" }, match[0]);
      node.appendChild(a);
      at = match.index + match[0].length;
    }
    if (at < text.length) node.appendChild(document.createTextNode(text.slice(at)));
  }

  function bubble(author, text) {
    var item = el("div", { class: "msg msg-" + author });
    item.appendChild(el("span", { class: "visually-hidden" }, (AUTHOR_LABEL[author] || "Bericht") + ": "));
    var body = el("p", { class: "text" });
    linkify(body, text);
    item.appendChild(body);
    return item;
  }

  // Messages stay in id order whichever way they arrive (the POST answer or the stream);
  // messages still being sent stay at the end.
  function placeFor(id) {
    var nodes = log.querySelectorAll(".msg[data-id], .msg-pending");
    for (var i = 0; i < nodes.length; i++) {
      var other = nodes[i].getAttribute("data-id");
      if (other === null || Number(other) > id) return nodes[i];
    }
    return null;
  }

  function clearButtons() {
    Array.prototype.forEach.call(log.querySelectorAll(".choices"), function (c) { c.remove(); });
  }

  function addMessage(m) {
    if (shown[m.id]) return;
    var item = bubble(m.author, m.text);
    item.setAttribute("data-id", String(m.id));
    if (m.author !== "citizen") {
      item.insertBefore(el("span", { class: "who", "aria-hidden": "true" }, AUTHOR_LABEL[m.author] || ""), item.firstChild);
    }
    shown[m.id] = item;
    if (m.id > lastId) lastId = m.id;
    if (m.author === "citizen") clearButtons();
    if (m.client_message_id) {
      var draft = log.querySelector('[data-cid="' + m.client_message_id + '"]');
      if (draft) draft.remove();
    }
    log.insertBefore(item, placeFor(m.id));
    if (m.buttons && m.buttons.length) {
      clearButtons();
      var group = el("div", { class: "choices", role: "group", "aria-label": "Kies een antwoord" });
      m.buttons.forEach(function (b) {
        var button = el("button", { type: "button", class: "choice" }, b.title);
        button.addEventListener("click", function () { send(b.payload, b.title); });
        group.appendChild(button);
      });
      item.appendChild(group);
    }
    if (m.author !== "citizen" && !isOpen) {
      unread += 1;
      tellHost("unread", { count: unread });
    }
    scrollDown();
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function setStatus(s) {
    if (!s) return;
    var text = STATUS_TEXT[s.status] || "";
    if (s.status === "queued" && s.queue_text) text += " " + s.queue_text;
    statusBar.textContent = text;
    statusBar.hidden = !text;
    statusBar.setAttribute("data-status", s.status || "");
    subtitle.textContent = s.status === "with_worker"
      ? "Een medewerker van het wijkteam leest mee."
      : s.status === "queued"
        ? "Je gesprek wacht op een medewerker van het wijkteam."
        : "Je praat met de digitale assistent. Je kunt ook vragen om een medewerker.";
  }

  function setOnline(online) {
    connection.hidden = online;
    connection.textContent = online ? "" : "Geen verbinding. Je berichten zijn bewaard; we proberen het opnieuw…";
  }

  function showHint(text) {
    hint.textContent = text;
    hint.hidden = !text;
  }

  // ---- sending: outbox with stable ids, retried until the desk confirms ----
  var flushing = false;

  function send(text, shownText) {
    var clean = (text || "").replace(/\u0000/g, "");
    if (!clean.trim()) {
      showHint("Typ eerst een bericht.");
      input.focus();
      return;
    }
    showHint("");
    var item = { cid: randomId(12), text: clean.slice(0, MAX_CHARS), shown: (shownText || clean).slice(0, MAX_CHARS) };
    state.outbox.push(item);
    save();
    renderPending(item);
    clearButtons();
    flush();
  }

  function renderPending(item) {
    var node = bubble("citizen", item.shown);
    node.classList.add("msg-pending");
    node.setAttribute("data-cid", item.cid);
    node.appendChild(el("span", { class: "sending" }, "wordt verstuurd…"));
    log.appendChild(node);
    scrollDown();
  }

  function sleep(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  async function flush() {
    if (flushing) return;
    flushing = true;
    var backoff = 1000;
    try {
      while (state.outbox.length) {
        var item = state.outbox[0];
        typing.hidden = false;
        var response;
        try {
          response = await fetch(API + "/messages", {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ visitor_id: visitor(), client_message_id: item.cid, text: item.text, source: SOURCE })
          });
        } catch (e) {
          response = null;
        }
        if (!response || response.status >= 500) {
          typing.hidden = true;
          setOnline(false);
          await sleep(backoff);
          backoff = Math.min(backoff * 2, 15000);
          continue;
        }
        setOnline(true);
        backoff = 1000;
        if (response.status === 429) {
          // too many messages at once: the message stays in the outbox and goes when the desk allows it
          var busy = await response.json().catch(function () { return {}; });
          showHint(typeof busy.detail === "string" ? busy.detail : "Even wachten, je bericht gaat zo.");
          typing.hidden = true;
          await sleep(Math.min(Number(response.headers.get("Retry-After")) || 20, 120) * 1000);
          showHint("");
          continue;
        }
        var pending = log.querySelector('[data-cid="' + item.cid + '"]');
        if (!response.ok) {
          var problem = await response.json().catch(function () { return {}; });
          if (pending) pending.remove();
          showHint(typeof problem.detail === "string" ? problem.detail : "Dit bericht kon niet worden verstuurd. Probeer het anders te schrijven.");
        } else {
          var data = await response.json();
          if (pending) pending.remove();
          data.messages.forEach(addMessage);
          setStatus({ status: data.status, queue_text: data.queue_text });
          ensureStream();
        }
        state.outbox.shift();
        save();
      }
    } finally {
      typing.hidden = true;
      flushing = false;
    }
  }

  // ---- receiving: history once, then a live stream that resumes by message id ----
  var stream = null;
  var streamRetry = null;

  // The visitor id never goes in a URL: EventSource cannot send a header, so the widget
  // trades it (in a header) for a ticket that opens the stream within a minute.
  var connecting = false;
  async function ensureStream() {
    if (stream || connecting || !state.visitor) return;
    if (typeof EventSource === "undefined") { startPolling(); return; }
    connecting = true;
    var ticket = null;
    try {
      var response = await fetch(API + "/stream-ticket", { method: "POST", headers: { "X-Baken-Visitor": state.visitor } });
      if (response.ok) ticket = (await response.json()).ticket;
    } catch (e) { ticket = null; }
    connecting = false;
    if (!ticket) {
      startPolling();
      clearTimeout(streamRetry);
      streamRetry = setTimeout(ensureStream, 5000);
      return;
    }
    if (stream) return;
    stream = new EventSource(API + "/stream?ticket=" + encodeURIComponent(ticket) + "&after=" + lastId);
    stream.addEventListener("message", function (e) {
      addMessage(JSON.parse(e.data));
    });
    stream.addEventListener("status", function (e) { setStatus(JSON.parse(e.data)); });
    stream.addEventListener("open", function () { setOnline(true); stopPolling(); });
    stream.onerror = function () {
      if (stream && stream.readyState === EventSource.CLOSED) {
        stream = null;
        startPolling();
        clearTimeout(streamRetry);
        streamRetry = setTimeout(ensureStream, 3000);
      }
      if (!navigator.onLine) setOnline(false);
    };
  }

  // Without a live stream (no EventSource, no ticket, or the stream refused) the widget asks for
  // new messages every few seconds instead: a reply that another desk process handles, or a
  // worker's answer, still arrives without a reload. The stream, once open, stops the polling.
  var pollTimer = null;
  var POLL_MS = 4000;
  function startPolling() {
    if (pollTimer || !state.visitor) return;
    pollTimer = setInterval(pollOnce, POLL_MS);
  }
  function stopPolling() {
    clearInterval(pollTimer);
    pollTimer = null;
  }
  async function pollOnce() {
    if (!state.visitor) { stopPolling(); return; }
    try {
      var response = await fetch(API + "/messages?after=" + lastId, { headers: { "X-Baken-Visitor": state.visitor } });
      if (!response.ok) return;
      var data = await response.json();
      data.messages.forEach(addMessage);
      if (data.status) setStatus({ status: data.status, queue_text: data.queue_text });
    } catch (e) {
      // offline for now: the next round tries again
    }
  }

  async function loadHistory() {
    if (!state.visitor) return;
    try {
      var response = await fetch(API + "/messages", { headers: { "X-Baken-Visitor": state.visitor } });
      if (response.ok) {
        var data = await response.json();
        data.messages.forEach(addMessage);
        setStatus({ status: data.status, queue_text: data.queue_text });
        unread = 0;
        tellHost("unread", { count: 0 });
      }
    } catch (e) {
      setOnline(false);
    }
  }

  // ---- open and closed: the host page shows or hides this frame ----
  var isOpen = false;
  function opened() {
    isOpen = true;
    unread = 0;
    tellHost("unread", { count: 0 });
    state.open = true;
    save();
    scrollDown();
    input.focus();
  }
  function closed() {
    isOpen = false;
    state.open = false;
    save();
  }
  function closePanel() {
    closed();
    tellHost("close");
  }

  window.addEventListener("message", function (e) {
    if (!HOST || e.source !== window.parent || e.origin !== HOST) return;
    var data = e.data || {};
    if (data.baken !== "widget") return;
    if (data.type === "open") opened();
    else if (data.type === "close") closed();
  });
  closeButton.addEventListener("click", closePanel);
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      if (!ask.hidden) { ask.hidden = true; menuButton.focus(); return; }
      closePanel();
    }
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value;
    if (!text.trim()) {
      showHint("Typ eerst een bericht.");
      return;
    }
    input.value = "";
    send(text);
    input.focus();
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit"));
    }
  });
  input.addEventListener("input", function () { if (input.value.trim()) showHint(""); });
  // "Wis mijn gesprek": erased on the server first (AVG art. 17); only then does this device
  // forget the visitor id (a failed request keeps it, so the citizen can still reach it).
  menuButton.addEventListener("click", function () {
    ask.hidden = false;
    askNo.focus();
  });
  askNo.addEventListener("click", function () {
    ask.hidden = true;
    menuButton.focus();
  });
  askYes.addEventListener("click", async function () {
    ask.hidden = true;
    menuButton.disabled = true;
    var said = "";
    try {
      if (state.visitor) {
        var response = await fetch(API + "/erase", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ visitor_id: state.visitor })
        });
        if (!response.ok) throw new Error("status " + response.status);
        said = (await response.json()).text || "";
      }
    } catch (e) {
      showHint("Wissen lukte nu niet. Je gesprek is nog bewaard. Probeer het zo nog eens.");
      menuButton.disabled = false;
      menuButton.focus();
      return;
    }
    menuButton.disabled = false;
    if (stream) stream.close();
    stream = null;
    stopPolling();
    state = { outbox: [], open: state.open };
    save();
    shown = {};
    lastId = 0;
    Array.prototype.forEach.call(log.querySelectorAll(".msg"), function (m) { m.remove(); });
    setStatus({ status: "bot" });
    statusBar.hidden = true;
    showHint(said || "Je gesprek is gewist.");
    input.focus();
  });
  summaryButton.addEventListener("click", function () {
    summaryBox.hidden = true;
    summaryAsk.hidden = false;
    summaryNo.focus();
  });
  summaryNo.addEventListener("click", function () { summaryAsk.hidden = true; summaryButton.focus(); });
  summaryYes.addEventListener("click", async function () {
    summaryAsk.hidden = true;
    try {
      var response = await fetch(API + "/summary", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ visitor_id: state.visitor || "", consent: true })
      });
      if (response.status === 404 || response.status === 422) { showHint("Er is nog geen gesprek om samen te vatten."); return; }
      if (!response.ok) throw new Error("status " + response.status);
      var note = await response.json();
      summaryText.textContent = note.text;
      summaryFile = note.filename || summaryFile;
      summaryBox.hidden = false;
      summaryText.focus();
    } catch (e) {
      showHint("De samenvatting lukte nu niet. Probeer het zo nog eens.");
    }
  });
  summaryCopy.addEventListener("click", async function () {
    try {
      await navigator.clipboard.writeText(summaryText.textContent);
      showHint("De samenvatting is gekopieerd.");
    } catch (e) {
      var range = document.createRange();
      range.selectNodeContents(summaryText);
      window.getSelection().removeAllRanges();
      window.getSelection().addRange(range);
      showHint("Kopiëren lukte niet vanzelf. De tekst is geselecteerd: kopieer hem zelf.");
    }
  });
  summarySave.addEventListener("click", function () {
    var url = URL.createObjectURL(new Blob([summaryText.textContent], { type: "text/plain;charset=utf-8" }));
    var link = el("a", { href: url, download: summaryFile });
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  });
  summaryClose.addEventListener("click", function () {
    summaryBox.hidden = true;
    summaryText.textContent = "";
    summaryButton.focus();
  });
  window.addEventListener("online", function () { setOnline(true); flush(); ensureStream(); });
  window.addEventListener("offline", function () { setOnline(false); });

  function start() {
    document.body.appendChild(panel);
    panel.hidden = false;
    loadHistory().then(function () {
      state.outbox.forEach(renderPending);
      flush();
      ensureStream();
    });
    tellHost("ready", { open: !!state.open });
    if (!HOST) opened(); // opened on its own (not in a host page): just the chat
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
