/*
 * Baken chat widget. Embed with one tag, no build step:
 *
 *   <script src="https://DESK/static/widget.js" data-source="huisarts" defer></script>
 *
 * data-source  where the widget was opened (letters, digits, _ . -), recorded with the chat
 * data-title   the chat's title (optional)
 *
 * This script only draws the "Chat met ons" button and a frame with the chat, served by the
 * desk itself (/widget/frame). The chat's visitor id (it opens the conversation) and the
 * messages not yet sent live in that frame's storage, on the desk's origin: no script of the
 * host page can read them. The host page and the frame talk through postMessage only, with
 * the origin checked both ways, and only about opening, closing and the number of unread
 * messages. The desk allows the frame only on the sites in WIDGET_ORIGINS
 * (Content-Security-Policy: frame-ancestors).
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__bakenWidget) return;
  window.__bakenWidget = true;

  var base = new URL(script.src, location.href);
  var DESK = base.origin;
  var SOURCE = (script.getAttribute("data-source") || "").replace(/[^A-Za-z0-9_.-]/g, "").slice(0, 64);
  var TITLE = (script.getAttribute("data-title") || "").slice(0, 120);
  var LEGACY_KEY = "baken.widget.v1";

  // Before the chat moved into a frame, it kept its visitor id in this site's localStorage,
  // where any script of the site could read it. Forget it here: the chat starts afresh in
  // the frame (the old conversation stays with the desk until its retention or erasure).
  try { localStorage.removeItem(LEGACY_KEY); } catch (e) { /* storage blocked: nothing kept */ }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  var host = el("div", { id: "baken-widget" });
  var root = host.attachShadow({ mode: "open" });
  root.appendChild(el("link", { rel: "stylesheet", href: new URL("widget_host.css", base).href }));

  var launcher = el("button", { type: "button", class: "launcher", "aria-expanded": "false", "aria-controls": "baken-frame" });
  launcher.appendChild(el("span", { class: "launcher-text" }, "Chat met ons"));
  var badge = el("span", { class: "badge", hidden: "" }, "");
  launcher.appendChild(badge);

  var query = new URLSearchParams({ host: location.origin });
  if (SOURCE) query.set("source", SOURCE);
  if (TITLE) query.set("title", TITLE);
  var frame = el("iframe", {
    id: "baken-frame",
    class: "frame",
    title: "Chat met Baken",
    src: DESK + "/widget/frame?" + query.toString(),
    referrerpolicy: "no-referrer",
    hidden: ""
  });
  root.appendChild(frame);
  root.appendChild(launcher);

  var ready = false;
  var waiting = [];
  function tellFrame(type) {
    if (!ready) { waiting.push(type); return; }
    frame.contentWindow.postMessage({ baken: "widget", type: type }, DESK);
  }

  function setUnread(count) {
    var n = Math.max(0, Math.min(Number(count) || 0, 999));
    badge.textContent = String(n);
    badge.hidden = n === 0 || !frame.hidden;
    launcher.setAttribute("aria-label", n && frame.hidden
      ? "Chat met ons, " + n + " nieuw" + (n === 1 ? " bericht" : "e berichten")
      : "Chat met ons");
  }

  function openChat() {
    frame.hidden = false;
    host.setAttribute("data-open", "");
    launcher.setAttribute("aria-expanded", "true");
    setUnread(0);
    frame.focus();
    tellFrame("open");
  }
  function closeChat(fromFrame) {
    frame.hidden = true;
    host.removeAttribute("data-open");
    launcher.setAttribute("aria-expanded", "false");
    if (!fromFrame) tellFrame("close");
    launcher.focus();
  }

  launcher.addEventListener("click", function () { if (frame.hidden) openChat(); else closeChat(false); });

  window.addEventListener("message", function (e) {
    if (e.source !== frame.contentWindow || e.origin !== DESK) return;
    var data = e.data || {};
    if (data.baken !== "widget") return;
    if (data.type === "ready") {
      ready = true;
      if (data.open && frame.hidden) openChat();
      waiting.splice(0).forEach(tellFrame);
    } else if (data.type === "close") {
      closeChat(true);
    } else if (data.type === "unread") {
      setUnread(data.count);
    }
  });

  function start() { document.body.appendChild(host); }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
