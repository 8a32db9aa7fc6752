/*
 * Baken admin: the NLU inbox. Plain JavaScript; every text from the API goes in with
 * textContent. Needs an admin session (log in at /inbox first).
 */
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var csrf = null;
  var intents = [];
  var REASON = {
    fallback: "assistent begreep het niet", low_confidence: "twijfel", close_second: "twee intenties bijna gelijk",
    flagged: "aangewezen door een medewerker", handoff_misunderstanding: "doorgezet omdat de assistent het niet begreep"
  };

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  async function api(method, path, body) {
    var headers = { "Accept": "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
    var response = await fetch(path, { method: method, headers: headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body) });
    var data = response.status === 204 ? null : await response.json().catch(function () { return null; });
    if (!response.ok) {
      var error = new Error(data && typeof data.detail === "string" ? data.detail : "Er ging iets mis (" + response.status + ").");
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function intentName(typed) {
    var value = (typed || "").trim();
    var match = intents.filter(function (i) { return i.name === value || label(i) === value; })[0];
    return match ? match.name : null;
  }
  function label(i) { return i.name + " – " + i.meaning; }

  function status(text) { $("admin-status").textContent = text; }

  async function annotate(itemIds, action, intent) {
    var result = await api("POST", "/api/admin/nlu-inbox/annotate", { item_ids: itemIds, action: action, intent: intent });
    status(result.updated + (result.updated === 1 ? " bericht" : " berichten") + " verwerkt.");
    await load();
  }

  function renderGroup(group) {
    var li = el("li", "group");
    var head = el("div", "group-head");
    var check = el("input");
    check.type = "checkbox";
    check.id = "g-" + group.item_ids[0];
    check.setAttribute("data-items", group.item_ids.join(","));
    var text = el("label", "group-text", group.text);
    text.htmlFor = check.id;
    head.appendChild(check);
    head.appendChild(text);
    li.appendChild(head);
    var meta = el("p", "meta");
    meta.textContent = (group.count > 1 ? group.count + "× · " : "") +
      "geraden: " + (group.predicted_intents.join(", ") || "–") + " · " +
      group.reasons.map(function (r) { return REASON[r] || r; }).join(", ");
    li.appendChild(meta);
    var row = el("div", "group-actions");
    var inputId = "i-" + group.item_ids[0];
    var lab = el("label", "visually-hidden", "Juiste intentie");
    lab.htmlFor = inputId;
    var input = el("input");
    input.id = inputId;
    input.setAttribute("list", "intent-options");
    input.placeholder = "Juiste intentie…";
    input.autocomplete = "off";
    var save = el("button", "primary", "Opslaan");
    save.type = "button";
    save.addEventListener("click", async function () {
      var name = intentName(input.value);
      if (!name) { status("Kies een intentie uit de lijst."); input.focus(); return; }
      save.disabled = true;
      try { await annotate(group.item_ids, "intent", name); } catch (e) { status(e.message); save.disabled = false; }
    });
    var oos = el("button", null, "Buiten ons terrein");
    oos.type = "button";
    oos.addEventListener("click", function () { annotate(group.item_ids, "out_of_scope").catch(function (e) { status(e.message); }); });
    var discard = el("button", null, "Weggooien");
    discard.type = "button";
    discard.addEventListener("click", function () { annotate(group.item_ids, "discard").catch(function (e) { status(e.message); }); });
    row.appendChild(lab);
    row.appendChild(input);
    row.appendChild(save);
    row.appendChild(oos);
    row.appendChild(discard);
    li.appendChild(row);
    return li;
  }

  async function load() {
    var inbox = await api("GET", "/api/admin/nlu-inbox");
    intents = inbox.intents;
    var options = $("intent-options");
    options.textContent = "";
    intents.forEach(function (i) {
      var option = el("option");
      option.value = i.name;
      option.label = i.meaning;
      options.appendChild(option);
    });
    $("open-count").textContent = String(inbox.open);
    var list = $("groups");
    list.textContent = "";
    inbox.groups.forEach(function (g) { list.appendChild(renderGroup(g)); });
    $("groups-empty").hidden = inbox.groups.length > 0;
  }

  function selectedItems() {
    var ids = [];
    Array.prototype.forEach.call(document.querySelectorAll("#groups input[type=checkbox]:checked"), function (c) {
      c.getAttribute("data-items").split(",").forEach(function (id) { ids.push(Number(id)); });
    });
    return ids;
  }

  function bulk(action) {
    return async function () {
      var ids = selectedItems();
      if (!ids.length) { status("Selecteer eerst een of meer groepen."); return; }
      var name = null;
      if (action === "intent") {
        name = intentName($("bulk-intent").value);
        if (!name) { status("Kies een intentie uit de lijst."); $("bulk-intent").focus(); return; }
      }
      try { await annotate(ids, action, name); } catch (e) { status(e.message); }
    };
  }
  $("bulk-save").addEventListener("click", bulk("intent"));
  $("bulk-oos").addEventListener("click", bulk("out_of_scope"));
  $("bulk-discard").addEventListener("click", bulk("discard"));

  $("export").addEventListener("click", async function () {
    $("export").disabled = true;
    try {
      var report = await api("POST", "/api/admin/nlu-inbox/export");
      var parts = Object.keys(report.written).map(function (f) { return f + ": " + report.written[f]; });
      $("export-result").textContent = "Toegevoegd: " + (parts.join(", ") || "niets nieuws") +
        (report.refused.length ? ". Geweigerd: " + report.refused.length + " (" + report.refused.map(function (r) { return r.reason; }).join(", ") + ")." : ".");
    } catch (e) {
      $("export-result").textContent = e.message;
    } finally {
      $("export").disabled = false;
    }
  });

  (async function () {
    try {
      var response = await fetch("/api/auth/me", { credentials: "same-origin" });
      if (!response.ok) { location.href = "/inbox"; return; }
      var me = await response.json();
      csrf = me.csrf_token;
      $("me-name").textContent = me.worker.name;
      if (me.worker.role !== "admin") {
        $("denied").textContent = "Dit deel is alleen voor beheerders.";
        $("denied").hidden = false;
        return;
      }
      $("admin").hidden = false;
      await load();
    } catch (e) {
      $("denied").textContent = e.message;
      $("denied").hidden = false;
    }
  })();
})();
