/*
 * Baken worker inbox. Plain JavaScript, no build step. Talks only to the desk's JSON API
 * (/api/...). Everything a citizen wrote is put in the page with textContent, never as
 * HTML. Live updates come over server-sent events; without them the page polls.
 */
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var csrf = null;
  var me = null;
  var openId = null;
  var openConv = null;
  var events = null;
  var pollTimer = null;
  var refreshTimer = null;
  var lastInbox = { waiting: [], mine: [] };
  var knownCrisis = {};

  var URGENCY = { crisis: "Crisis", urgent: "Urgent", normal: "Normaal" };
  var CHANNEL = { telegram: "Telegram", widget: "Website" };
  var STATUS = { bot: "bij de assistent", queued: "wacht in de rij", with_worker: "bij een medewerker", closed: "afgesloten" };
  var AUTHOR = { citizen: "Inwoner", bot: "Assistent", worker: "Medewerker", system: "Systeem" };
  var REASON = {
    crisis: "crisis", request_human: "vroeg om een medewerker", rasa_unavailable: "assistent niet bereikbaar", not_processed: "bericht niet automatisch verwerkt",
    fallback: "assistent begreep het niet", urgent: "urgent", triage: "na de korte check"
  };

  var el = window.BakenDesk.el;
  var api = window.BakenDesk.client({
    csrf: function () { return csrf; },
    onLoggedOut: function () { showLogin(); }
  });

  function minutes(seconds) {
    if (seconds < 60) return "net binnen";
    var m = Math.floor(seconds / 60);
    if (m < 60) return m + " min";
    return Math.floor(m / 60) + " u " + (m % 60) + " min";
  }

  // ---- login ----
  function showLogin() {
    stopLive();
    $("app").hidden = true;
    $("login").hidden = false;
    $("login-name").focus();
  }

  function showApp(result) {
    me = result.worker;
    csrf = result.csrf_token;
    $("login").hidden = true;
    $("app").hidden = false;
    $("me-name").textContent = me.name;
    $("presence").value = me.presence;
    $("admin-link").hidden = me.role !== "admin";
    loadCanned();
    refresh();
    startLive();
  }

  $("login-form").addEventListener("submit", async function (e) {
    e.preventDefault();
    $("login-error").hidden = true;
    try {
      var result = await api("POST", "/api/auth/login", { name: $("login-name").value, password: $("login-password").value });
      $("login-password").value = "";
      showApp(result);
    } catch (err) {
      $("login-error").textContent = err.message;
      $("login-error").hidden = false;
    }
  });

  $("logout").addEventListener("click", async function () {
    try { await api("POST", "/api/auth/logout"); } catch (e) { /* logged out anyway */ }
    csrf = null;
    openId = null;
    showLogin();
  });

  $("presence").addEventListener("change", async function () {
    try {
      me = await api("POST", "/api/inbox/presence", { presence: $("presence").value });
    } catch (err) { showError(err.message); }
  });

  // ---- queue and my chats ----
  function renderList(listId, emptyId, countId, items) {
    var list = $(listId);
    list.textContent = "";
    $(countId).textContent = String(items.length);
    $(emptyId).hidden = items.length > 0;
    items.forEach(function (item) { list.appendChild(itemNode(item)); });
  }

  // The queue per team (issue 15): every crisis first, for everyone; then my teams; then the
  // conversations of no team; then the other teams, where I can still help. The filter shows
  // one team's queue (a crisis stays in view whatever the filter).
  function teamFilterOptions(tabs) {
    var select = $("team-filter");
    var chosen = select.value;
    select.length = 1;
    tabs.forEach(function (t) {
      var option = el("option", null, t.name + (t.mine ? " (mijn team)" : "") + (t.active === false ? " (uit)" : "") +
        " – " + t.waiting + " wachtend, " + t.online + " online");
      option.value = String(t.id);
      select.appendChild(option);
    });
    var none = el("option", null, "Zonder team");
    none.value = "none";
    select.appendChild(none);
    select.value = chosen;
    if (select.value !== chosen) select.value = "";
    $("team-filter-box").hidden = !tabs.length;
  }

  function groupHead(text, hint) {
    var li = el("li", "group-head", text);
    if (hint) li.appendChild(el("span", "group-hint", hint));
    return li;
  }

  function renderWaiting(inbox) {
    var tabs = inbox.teams || [];
    teamFilterOptions(tabs);
    var filter = $("team-filter").value;
    var shown = inbox.waiting.filter(function (i) {
      if (i.urgency === "crisis" || !filter) return true;
      return filter === "none" ? i.team_id === null : String(i.team_id) === filter;
    });
    var list = $("waiting");
    list.textContent = "";
    $("waiting-count").textContent = String(shown.length);
    $("waiting-empty").hidden = shown.length > 0;
    if (!tabs.length) { shown.forEach(function (item) { list.appendChild(itemNode(item)); }); return; }
    var groups = [{ head: "Crisis – voor iedereen", hint: "Pak dit direct op, welk team het ook is.",
      items: shown.filter(function (i) { return i.urgency === "crisis"; }) }];
    var rest = shown.filter(function (i) { return i.urgency !== "crisis"; });
    tabs.filter(function (t) { return t.mine; }).forEach(function (t) {
      groups.push({ head: t.name + " (mijn team)", items: rest.filter(function (i) { return i.team_id === t.id; }) });
    });
    groups.push({ head: "Zonder team", items: rest.filter(function (i) { return i.team_id === null; }) });
    tabs.filter(function (t) { return !t.mine; }).forEach(function (t) {
      groups.push({ head: t.name + (t.active === false ? " (team staat uit)" : ""), hint: "Ander team: je kunt hier ook helpen.",
        items: rest.filter(function (i) { return i.team_id === t.id; }) });
    });
    groups.forEach(function (g) {
      if (!g.items.length) return;
      list.appendChild(groupHead(g.head, g.hint));
      g.items.forEach(function (item) { list.appendChild(itemNode(item)); });
    });
  }

  $("team-filter").addEventListener("change", function () { renderWaiting(lastInbox); });

  function itemNode(item) {
    var li = el("li", "item urgency-" + item.urgency);
    var button = el("button", "item-button");
    button.type = "button";
    button.setAttribute("data-conversation", String(item.conversation_id));
    if (item.conversation_id === openId) button.setAttribute("aria-current", "true");
    var top = el("span", "item-top");
    top.appendChild(el("span", "urgency urgency-" + item.urgency, URGENCY[item.urgency] || item.urgency));
    top.appendChild(el("span", "channel", (CHANNEL[item.channel] || item.channel) + (item.source ? " · " + item.source : "")));
    top.appendChild(el("span", "wait", "wacht " + minutes(item.waiting_seconds)));
    button.appendChild(top);
    if (item.team_name) button.appendChild(el("span", "team", "Team: " + item.team_name));
    if (item.domain_labels.length) button.appendChild(el("span", "domains", item.domain_labels.join(", ")));
    button.appendChild(el("span", "reason", REASON[item.reason] || item.reason));
    var words = (item.summary || "").split("\n").filter(function (l) { return l.indexOf('- "') === 0; })[0];
    if (words) button.appendChild(el("span", "item-summary", words.slice(2)));
    if (item.note) button.appendChild(el("span", "item-note", "Notitie: " + item.note));
    button.addEventListener("click", function () { openConversation(item.conversation_id); });
    li.appendChild(button);
    return li;
  }

  function renderCrisis(waiting) {
    var crises = waiting.filter(function (i) { return i.urgency === "crisis"; });
    var box = $("crisis-alert");
    box.textContent = "";
    if (!crises.length) {
      box.hidden = true;
      document.title = "Inbox – Baken";
      return;
    }
    var fresh = crises.some(function (c) { return !knownCrisis[c.conversation_id]; });
    crises.forEach(function (c) { knownCrisis[c.conversation_id] = true; });
    box.appendChild(el("strong", null, crises.length === 1 ? "Crisis in de wachtrij. " : crises.length + " crisisgesprekken in de wachtrij. "));
    box.appendChild(document.createTextNode("Pak dit direct op; de inwoner heeft de crisisnummers al gekregen. "));
    var go = el("button", "primary", "Open het crisisgesprek");
    go.type = "button";
    go.addEventListener("click", function () { openConversation(crises[0].conversation_id); });
    box.appendChild(go);
    box.hidden = false;
    document.title = "(!) Crisis – Inbox – Baken";
    if (fresh && me && me.presence === "online" && "Notification" in window && Notification.permission === "granted") {
      new Notification("Baken: crisis in de wachtrij", { body: "Open de inbox." });
    }
  }

  async function refresh() {
    try {
      var inbox = await api("GET", "/api/inbox");
      lastInbox = inbox;
      renderWaiting(inbox);
      renderList("mine", "mine-empty", "mine-count", inbox.mine);
      renderCrisis(inbox.waiting);
      if (window.BakenFollowups) window.BakenFollowups.refresh(); // my reminders
    } catch (err) { /* shown on the next action; the list stays as it was */ }
  }

  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, 150);
  }

  // ---- one conversation ----
  function showError(text) {
    $("action-error").textContent = text;
    $("action-error").hidden = !text;
  }

  function attachmentLinks(message) {
    var box = el("span", "attachments");
    (message.attachments || []).forEach(function (a) {
      if (!a || typeof a.id !== "string") {
        var why = a && typeof a.note === "string" && a.note ? a.note : "niet opgeslagen";
        box.appendChild(el("span", "attachment", "Bijlage (" + (a && a.kind === "photo" ? "foto" : "bestand") + ", " + why + ")"));
        return;
      }
      var link = el("a", "attachment", (a.kind === "photo" ? "Foto bekijken" : "Bestand openen") + (a.name ? ": " + a.name : ""));
      link.href = "/api/inbox/attachments/" + encodeURIComponent(a.id);
      link.target = "_blank";
      link.rel = "noopener";
      box.appendChild(link);
    });
    return box;
  }

  function flagButton(message) {
    var button = el("button", "flag", "De assistent begreep dit verkeerd");
    button.type = "button";
    button.addEventListener("click", async function () {
      button.disabled = true;
      try {
        await api("POST", "/api/inbox/messages/" + message.id + "/flag");
        button.textContent = "Doorgegeven aan de beheerder";
      } catch (err) {
        showError(err.message);
        button.disabled = false;
      }
    });
    return button;
  }

  function renderTranscript(conv) {
    var list = $("transcript");
    list.textContent = "";
    conv.messages.forEach(function (m) {
      var li = el("li", "line author-" + m.author + (m.internal ? " internal" : ""));
      var head = el("span", "line-head");
      head.appendChild(el("span", "author", m.internal ? "Interne notitie" : (AUTHOR[m.author] || m.author)));
      var at = new Date(m.at);
      head.appendChild(el("time", "at", isNaN(at) ? "" : at.toLocaleTimeString("nl-NL", { hour: "2-digit", minute: "2-digit" })));
      li.appendChild(head);
      li.appendChild(el("p", "pre", m.text));
      if (m.attachments && m.attachments.length) li.appendChild(attachmentLinks(m));
      if (m.author === "citizen" && m.text) li.appendChild(flagButton(m));
      list.appendChild(li);
    });
  }

  function renderConversation(conv) {
    openConv = conv;
    if (window.BakenFollowups) window.BakenFollowups.render(conv); // inbox_followups.js
    $("detail-empty").hidden = true;
    $("conversation").hidden = false;
    $("conv-title").textContent = "Gesprek " + conv.conversation_id;
    $("conv-meta").textContent = (CHANNEL[conv.channel] || conv.channel) + " · " + (STATUS[conv.status] || conv.status) +
      (conv.team_name ? " · team " + conv.team_name : "");
    $("conv-note").textContent = conv.note || "";
    $("conv-note-box").hidden = !conv.note;
    var full = conv.access === "own" || conv.access === "reason";
    $("conv-summary").textContent = conv.summary || (full ? "Geen samenvatting: lees het gesprek hieronder." : "Geen samenvatting.");
    renderTranscript(conv);
    $("transcript-closed").hidden = full;
    $("transcript-closed").textContent = conv.access === "queue"
      ? "Pak het gesprek op om alles te lezen. Wil je het eerst lezen? Geef dan een reden."
      : "Dit gesprek is niet van jou. Wil je het toch lezen? Geef een reden. Die komt in het logboek.";
    $("read-form").hidden = full;
    var mine = conv.status === "with_worker" && me && conv.worker_id === me.id;
    $("claim-box").hidden = conv.status !== "queued";
    $("claim").disabled = false;
    $("reply-form").hidden = !mine;
    $("manage").hidden = !mine;
    if (mine && window.BakenOutcomes) window.BakenOutcomes.render(conv);
    var lists = document.querySelectorAll("[data-conversation]");
    Array.prototype.forEach.call(lists, function (b) {
      if (Number(b.getAttribute("data-conversation")) === conv.conversation_id) b.setAttribute("aria-current", "true");
      else b.removeAttribute("aria-current");
    });
  }

  // the citizen erased the conversation (or an admin did on their request): nothing is left to show
  function showErased() {
    openConv = null;
    $("conversation").hidden = true;
    $("detail-empty").hidden = false;
    $("detail-empty").textContent = "De inwoner heeft het gesprek gewist. Er is niets meer van bewaard.";
    openId = null;
  }

  async function openConversation(id) {
    var switching = id !== openId;
    openId = id;
    if (switching) showError("");
    try {
      renderConversation(await api("GET", "/api/inbox/conversations/" + id));
      if (switching) {
        loadColleagues();
        $("detail").focus();
      }
    } catch (err) { showError(err.message); }
  }

  $("read-form").addEventListener("submit", async function (e) {
    e.preventDefault();
    if (openId === null) return;
    try {
      renderConversation(await api("POST", "/api/inbox/conversations/" + openId + "/read", { reason: $("read-reason").value.trim() }));
      $("read-form").reset();
      showError("");
    } catch (err) { showError(err.message); }
  });

  $("claim").addEventListener("click", async function () {
    var button = $("claim");
    if (button.disabled || openId === null) return;
    button.disabled = true; // a double click sends one claim
    try {
      await api("POST", "/api/inbox/conversations/" + openId + "/claim");
      showError("");
      await openConversation(openId);
      refresh();
      $("reply-text").focus();
    } catch (err) {
      showError(err.status === 409 ? "Een collega heeft dit gesprek al opgepakt, of het wacht niet meer." : err.message);
      await openConversation(openId);
      refresh();
    }
  });

  // One id per draft: a double click, or a retry after a timeout, stores the reply once.
  var draftId = null;
  function newDraftId() {
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  $("reply-text").addEventListener("input", function () { draftId = null; });

  $("reply-form").addEventListener("submit", async function (e) {
    e.preventDefault();
    var text = $("reply-text").value;
    if (!text.trim()) { showError("Typ eerst een antwoord."); return; }
    var send = $("reply-send");
    send.disabled = true;
    if (!draftId) draftId = newDraftId();
    try {
      await api("POST", "/api/inbox/conversations/" + openId + "/messages",
        { text: text, internal: $("reply-internal").checked, client_id: draftId });
      draftId = null;
      $("reply-text").value = "";
      $("reply-internal").checked = false;
      showError("");
      await openConversation(openId);
    } catch (err) {
      showError(err.message); // the text stays in the box, nothing lost
    } finally {
      send.disabled = false;
    }
  });

  $("reply-text").addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) $("reply-form").requestSubmit();
  });

  var canned = [];
  async function loadCanned() {
    try {
      canned = await api("GET", "/api/inbox/canned-replies");
      var select = $("canned");
      select.length = 1;
      canned.forEach(function (c, i) {
        var option = el("option", null, c.title);
        option.value = String(i);
        select.appendChild(option);
      });
    } catch (err) { /* the inbox works without them */ }
  }
  $("canned").addEventListener("change", function () {
    var choice = canned[Number($("canned").value)];
    if (choice) {
      var box = $("reply-text");
      box.value = box.value ? box.value + "\n\n" + choice.text : choice.text;
      box.focus();
    }
    $("canned").value = "";
  });

  // Colleagues keep their plain id as the option's value; a team's is "team:<id>".
  async function loadColleagues() {
    try {
      var people = await api("GET", "/api/inbox/workers");
      var select = $("transfer-to");
      select.textContent = "";
      var tabs = (lastInbox && lastInbox.teams) || [];
      if (tabs.length) {
        var teamGroup = el("optgroup");
        teamGroup.label = "Teams (terug in hun wachtrij)";
        tabs.filter(function (t) { return t.active !== false; }).forEach(function (t) {
          var option = el("option", null, "Team " + t.name + " (" + t.online + " online)");
          option.value = "team:" + t.id;
          teamGroup.appendChild(option);
        });
        select.appendChild(teamGroup);
      }
      var peopleGroup = el("optgroup");
      peopleGroup.label = "Collega's";
      people.filter(function (p) { return !me || p.id !== me.id; }).forEach(function (p) {
        var full = p.active_chats >= p.max_concurrent;
        var option = el("option", null, p.name + " (" + (p.presence === "online" ? "online" : "afwezig") + ", " + p.active_chats + "/" + p.max_concurrent + " gesprekken)");
        option.value = String(p.id);
        option.disabled = full;
        peopleGroup.appendChild(option);
      });
      select.appendChild(peopleGroup);
      $("transfer").disabled = !select.options.length;
    } catch (err) { /* transfer stays unavailable */ }
  }

  $("transfer").addEventListener("click", async function () {
    var button = $("transfer");
    var value = $("transfer-to").value;
    if (!value || button.disabled || openId === null) return;
    var body = { note: $("transfer-note").value.trim() };
    if (value.indexOf("team:") === 0) body.to_team_id = Number(value.slice(5));
    else body.to_worker_id = Number(value);
    button.disabled = true; // a double click sends one transfer
    try {
      await api("POST", "/api/inbox/conversations/" + openId + "/transfer", body);
      $("transfer-note").value = "";
      showError("");
      await openConversation(openId);
      refresh();
    } catch (err) {
      showError(err.message);
    } finally {
      button.disabled = false;
    }
  });

  $("hand-back").addEventListener("click", async function () {
    if (!window.confirm("Het gesprek teruggeven aan de digitale assistent?")) return;
    try {
      await api("POST", "/api/inbox/conversations/" + openId + "/hand-back");
      await openConversation(openId);
      refresh();
    } catch (err) { showError(err.message); }
  });

  $("close-form").addEventListener("submit", async function (e) {
    e.preventDefault();
    var button = $("close");
    button.disabled = true;
    try {
      var results = window.BakenOutcomes ? window.BakenOutcomes.collect() : [];
      await api("POST", "/api/inbox/conversations/" + openId + "/close", { outcome: $("outcome").value, case_note: $("case-note").value, domain_outcomes: results });
      $("case-note").value = "";
      await openConversation(openId);
      refresh();
    } catch (err) {
      showError(err.message);
    } finally {
      button.disabled = false;
    }
  });

  // ---- live updates ----
  function startLive() {
    stopLive();
    if (typeof EventSource === "undefined") { startPolling(); return; }
    events = new EventSource("/api/inbox/stream");
    var onEvent = function (e) {
      var data = {};
      try { data = JSON.parse(e.data); } catch (err) { return; }
      refreshSoon();
      if (e.type === "erased" && data.conversation_id === openId) { showErased(); return; }
      if (openId !== null && (data.conversation_id === openId || e.type === "resync")) openConversation(openId);
    };
    // "resync": the server missed events (a database reconnect) and everything is re-read
    ["queued", "crisis", "claimed", "message", "closed", "handed_back", "transferred", "erased", "resync",
      "followup_reminder"].forEach(function (type) {
      events.addEventListener(type, onEvent);
    });
    events.addEventListener("hello", function () { $("live").hidden = true; refreshSoon(); });
    // the session ended on the server (logout elsewhere, password reset, account disabled)
    events.addEventListener("logged_out", function () { showLogin(); });
    events.onerror = function () {
      $("live").hidden = false;
      if (events && events.readyState === EventSource.CLOSED) { events = null; startPolling(); }
    };
    if ("Notification" in window && Notification.permission === "default") {
      Notification.requestPermission().catch(function () {});
    }
  }

  function startPolling() {
    clearInterval(pollTimer);
    pollTimer = setInterval(function () {
      refresh();
      if (openId !== null) openConversation(openId);
    }, 15000);
  }

  function stopLive() {
    if (events) events.close();
    events = null;
    clearInterval(pollTimer);
  }

  setInterval(function () { if (!$("app").hidden) refresh(); }, 30000); // waiting times tick

  // ---- start: a reload keeps the session (the cookie), the CSRF token comes back from /me ----
  (async function () {
    try {
      var response = await fetch("/api/auth/me", { credentials: "same-origin" });
      if (response.ok) { showApp(await response.json()); return; }
    } catch (e) { /* fall through */ }
    showLogin();
  })();
})();
